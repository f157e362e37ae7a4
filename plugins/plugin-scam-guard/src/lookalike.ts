import { isMixedScript, skeleton } from './confusables.ts';
import { editDistance } from './distance.ts';
import type { ReasonCode } from './reasons.ts';

export interface Brand {
  token: string;
  skeleton: string;
  /** Edits tolerated: none under 5 letters (too many real words), 1 up to 7, then 2. */
  maxDistance: number;
}

export function prepareBrands(tokens: readonly string[]): Brand[] {
  return tokens.map((token) => {
    const lower = token.toLowerCase();
    const sk = skeleton(lower);
    return { token: lower, skeleton: sk, maxDistance: sk.length >= 8 ? 2 : sk.length >= 5 ? 1 : 0 };
  });
}

export interface HostLabels {
  /** The registrable label, Unicode (`pаrley` for `xn--prley-…`). */
  label: string;
  /** The same label as written in the message, when it differs only by case (`parIey`). */
  written?: string;
  /** Labels left of the registrable domain, Unicode. */
  subdomains: string[];
}

/**
 * How a host that is not official relates to the brand tokens, strongest finding first per
 * brand: the same skeleton with different characters (a homograph, block); the brand itself
 * under another suffix; the brand with extra words; a typo away; the brand in a subdomain. A
 * label mixing Latin with Cyrillic or Greek is flagged whatever it imitates.
 */
export function lookalikeReasons(host: HostLabels, brands: readonly Brand[]): Set<ReasonCode> {
  const reasons = new Set<ReasonCode>();
  if (isMixedScript(host.label)) reasons.add('lookalike.mixed_script');
  const plain = host.label.toLowerCase();
  // A capital I in a host as written reads as a lowercase l: hosts are written in lowercase.
  // The read-as variant is a lookalike by construction: it never counts as the brand itself.
  const variants = [{ text: plain, literal: plain }];
  if (host.written?.includes('I'))
    variants.push({ text: host.written.replaceAll('I', 'l').toLowerCase(), literal: plain });
  const skeletons = variants.map((variant) => {
    const sk = skeleton(variant.text);
    const parts = sk.split(/[-.]/).filter(Boolean);
    // Typos are measured on the skeleton and on the label itself: folding rn or cl can move
    // a one-letter typo (parney, pacley) further from the brand's skeleton.
    const typoForms = [sk, ...parts, variant.text, ...variant.text.split(/[-.]/).filter(Boolean)];
    return { ...variant, sk, parts, typoForms };
  });
  const subdomains = host.subdomains.map(skeleton);
  for (const brand of brands) {
    for (const { literal, sk, parts, typoForms } of skeletons) {
      if (sk === brand.skeleton || parts.includes(brand.skeleton)) {
        if (literal === brand.token) reasons.add('lookalike.brand_other_tld');
        else if (literal.split(/[-.]/).includes(brand.token))
          reasons.add('lookalike.brand_embedded');
        else reasons.add('lookalike.confusable');
      } else if (brand.skeleton.length >= 4 && sk.includes(brand.skeleton)) {
        reasons.add(
          literal.includes(brand.token) ? 'lookalike.brand_embedded' : 'lookalike.confusable',
        );
      } else if (
        brand.maxDistance > 0 &&
        typoForms.some(
          (form) =>
            editDistance(form, brand.skeleton, brand.maxDistance) <= brand.maxDistance ||
            editDistance(form, brand.token, brand.maxDistance) <= brand.maxDistance,
        )
      ) {
        reasons.add('lookalike.edit_distance');
      }
    }
    if (
      subdomains.some(
        (sk) =>
          sk === brand.skeleton || (brand.skeleton.length >= 4 && sk.includes(brand.skeleton)),
      )
    )
      reasons.add('lookalike.brand_in_subdomain');
  }
  return reasons;
}
