import { domainToASCII, domainToUnicode } from 'node:url';
import { parse } from 'tldts';
import type { CanonicalLink, GuardConfig } from './config.ts';
import { skeleton } from './confusables.ts';
import {
  domainInText,
  type EntityLink,
  type ExtractedLink,
  extractLinks,
  type LinkSource,
} from './extract.ts';
import { bundledKnownBad, listed } from './known-bad.ts';
import { lookalikeReasons, prepareBrands } from './lookalike.ts';
import { findLures, LINK_MARK, type LureCategory, mentionsWallet, STRONG_LURES } from './lures.ts';
import {
  handleOf,
  isSharedPlatform,
  type PlatformLocation,
  platformLocation,
  underLocation,
} from './platforms.ts';
import { REASONS, type ReasonCode, type Verdict, verdictOf, worse } from './reasons.ts';
import { SHORTENERS } from './shorteners.ts';

export interface LinkAssessment {
  source: LinkSource;
  /** The target as written (cut to 300 characters for display). */
  url: string;
  /** The visible text of a markdown link or anchor. */
  text?: string;
  /** The host, decoded to Unicode (what a person would read). */
  host?: string;
  /** The registrable domain (ASCII), from the Public Suffix List. */
  domain?: string;
  verdict: Verdict;
  reasons: ReasonCode[];
  /** The link's whole span in the message, for a rewrite. */
  span: string;
}

export interface Assessment {
  verdict: Verdict;
  /** Every reason that counts (link reasons that are not `allow`, lures, message limits). */
  reasons: ReasonCode[];
  links: LinkAssessment[];
  lures: LureCategory[];
  /** The work done, bounded by LIMITS: characters read, links found, links assessed. */
  work: { charsScanned: number; linksFound: number; linksAssessed: number };
}

const DANGEROUS_SCHEMES = new Set(['javascript', 'vbscript', 'data', 'file']);
const WEB_SCHEMES = new Set(['http', 'https', 'ftp', 'ws', 'wss']);
const PSL = { allowPrivateDomains: true } as const;

const registrable = (host: string) => {
  const ascii = domainToASCII(host.toLowerCase().replace(/\.$/, '')) || host.toLowerCase();
  return parse(ascii, PSL).domain ?? ascii;
};

/** A configuration prepared for many messages (sets built once). */
/** What a connector knows beside the text. */
export interface MessageExtras {
  /** Links from the message's metadata (Telegram `text_link` entities, Discord embeds). */
  links?: readonly EntityLink[];
}

export interface Assessor {
  (text: string, extras?: MessageExtras): Assessment;
  config: GuardConfig;
}

/**
 * Builds the guard for one workspace's trust data. Each link goes through, in order (the
 * allowlist → blocklist → fuzzy-list order of MetaMask's detector): dangerous schemes; the
 * canonical allowlist (allowed links skip the rest): by registrable domain, except on shared
 * platforms (GitHub, npm, Discord invites, t.me, X, Medium, Google Docs, shorteners…) where an
 * official link covers its own path only; the workspace's blocklist and the bundled known-bad
 * list; shorteners, user-info and IP-literal tricks; lookalikes of the brand tokens, in the
 * domain or in the handle on a shared platform; link text that names another domain. Lures in
 * the message then raise the verdict of messages whose links are not all official, and three
 * kinds of lure warn on their own. Nothing is fetched.
 */
export function createAssessor(config: GuardConfig): Assessor {
  const officialLocations: PlatformLocation[] = [];
  const canonical = new Set<string>();
  for (const domain of config.canonicalDomains)
    if (!isSharedPlatform(registrable(domain))) canonical.add(registrable(domain));
  for (const link of config.canonicalLinks) {
    const url = new URL(link.url);
    const domain = registrable(url.hostname);
    const location = platformLocation(url, domain);
    if (location) officialLocations.push(location);
    else canonical.add(domain);
  }
  const blocklist = new Set(
    config.blocklist.map((d) => domainToASCII(d.toLowerCase().replace(/\.$/, '')) || d),
  );
  const knownBad = bundledKnownBad();
  const brands = prepareBrands(config.brandTokens);

  function assessLink(link: ExtractedLink): LinkAssessment {
    const result = (reasons: Set<ReasonCode>, host?: string, domain?: string): LinkAssessment => {
      const codes = [...reasons];
      return {
        source: link.source,
        url: link.target.slice(0, 300),
        ...(link.text === undefined ? {} : { text: link.text.slice(0, 300) }),
        ...(host ? { host } : {}),
        ...(domain ? { domain } : {}),
        verdict: verdictOf(codes),
        reasons: codes,
        span: link.span,
      };
    };
    const reasons = new Set<ReasonCode>();
    if (link.oversized) reasons.add('url.oversized');
    const target = link.target.trim();
    const scheme =
      link.source === 'domain'
        ? undefined
        : /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase();
    if (scheme && DANGEROUS_SCHEMES.has(scheme)) return result(reasons.add('url.dangerous_scheme'));
    if (scheme && !WEB_SCHEMES.has(scheme) && !target.includes('//'))
      return result(reasons.add('url.other_scheme'));
    if (!scheme && /^[/#?.]/.test(target)) return result(reasons.add('url.relative'));
    let url: URL;
    try {
      url = new URL(scheme ? target : `http://${target}`);
    } catch {
      return result(reasons.add('url.malformed'));
    }
    const hostname = url.hostname;
    if (!hostname) return result(reasons.add('url.malformed'));
    const parsed = parse(hostname, PSL);
    const host = parsed.isIp ? hostname : domainToUnicode(hostname) || hostname;
    if (parsed.isIp || hostname.startsWith('[')) {
      reasons.add('host.ip_literal');
      addUserinfo(url, reasons);
      return result(reasons, host);
    }
    const domain = parsed.domain;
    if (!domain) return result(reasons.add('host.no_public_suffix'), host);
    const location = platformLocation(url, domain);
    if (
      location
        ? officialLocations.some((official) => underLocation(location, official))
        : canonical.has(domain)
    )
      return result(new Set(['canonical.domain']), host, domain);

    if (hostname.split('.').some((label) => label.startsWith('xn--'))) reasons.add('host.punycode');
    if (listed(hostname, blocklist))
      return result(reasons.add('blocklist.workspace'), host, domain);
    if (listed(hostname, knownBad)) return result(reasons.add('blocklist.known_bad'), host, domain);
    if (SHORTENERS.has(domain)) reasons.add('link.shortener');
    addUserinfo(url, reasons);

    const label =
      domainToUnicode(parsed.domainWithoutSuffix ?? '') || (parsed.domainWithoutSuffix ?? '');
    const subdomains = parsed.subdomain
      ? parsed.subdomain.split('.').map((s) => domainToUnicode(s) || s)
      : [];
    for (const code of lookalikeReasons(
      { label, ...writtenLabel(target, parsed.publicSuffix, label), subdomains },
      brands,
    ))
      reasons.add(code);
    const handle = location && handleOf(location);
    if (handle && lookalikeReasons({ label: handle, subdomains: [] }, brands).size > 0)
      reasons.add('lookalike.brand_in_handle');

    if (link.text !== undefined) {
      const shown = domainInText(link.text);
      const shownHost = shown ? hostOf(shown) : undefined;
      const shownDomain = shownHost ? parse(shownHost, PSL).domain : undefined;
      if (shownDomain && shownDomain !== domain) {
        const shownLabel = skeleton(parse(shownHost!, PSL).domainWithoutSuffix ?? '');
        const official =
          canonical.has(shownDomain) || brands.some((brand) => brand.skeleton === shownLabel);
        reasons.add(official ? 'link_text.hides_target' : 'link_text.mismatch');
      }
    }
    if ([...reasons].every((code) => REASONS[code].verdict === 'allow'))
      reasons.add('host.third_party');
    return result(reasons, host, domain);
  }

  const assess = (text: string, extras: MessageExtras = {}): Assessment => {
    const extraction = extractLinks(text, extras.links);
    const links = extraction.links.map(assessLink);
    const lures = findLures(proseOf(text.slice(0, extraction.charsScanned), extraction.links));
    const reasons = new Set<ReasonCode>();
    for (const link of links)
      for (const code of link.reasons) if (REASONS[code].verdict !== 'allow') reasons.add(code);
    for (const lure of lures) reasons.add(`lure.${lure}`);
    const unofficial = links.filter((link) => link.reasons.includes('host.third_party'));
    if (lures.length > 0) {
      if (links.some((link) => link.verdict !== 'allow')) reasons.add('lure.with_suspicious_link');
      else if (
        unofficial.length > 0 &&
        (lures.some((l) => STRONG_LURES.has(l)) || lures.length >= 2)
      )
        reasons.add('lure.with_unknown_link');
    }
    // Three lures warn on their own, official link or not: no one legitimate asks for a seed
    // phrase, pulls a wallet question into private messages, or asks for crypto to send more
    // back ("never share it" is advice and does not match).
    if (lures.includes('seed_phrase')) reasons.add('lure.seed_phrase_request');
    if (lures.includes('dm_request') && mentionsWallet(text.slice(0, extraction.charsScanned)))
      reasons.add('lure.dm_wallet_request');
    if (lures.includes('send_to_receive')) reasons.add('lure.send_for_more');
    if (extraction.found > links.length) reasons.add('message.too_many_links');
    if (extraction.truncated) reasons.add('message.truncated');
    let verdict = verdictOf(reasons);
    for (const link of links) verdict = worse(verdict, link.verdict);
    return {
      verdict,
      reasons: [...reasons],
      links,
      lures,
      work: {
        charsScanned: extraction.charsScanned,
        linksFound: extraction.found,
        linksAssessed: links.length,
      },
    };
  };
  return Object.assign(assess, { config });
}

/**
 * Assesses one message against one workspace's trust data: the verdict, each link's verdict
 * and reasons, the lures found, and the work done. A connector passes the links it read from
 * the message's metadata in `extras.links` (their text is compared with their target too). Pure: reads nothing but its arguments (and
 * the bundled list, once), fetches nothing. For many messages, reuse `createAssessor(config)`.
 */
export function assessMessage(
  text: string,
  config: GuardConfig,
  extras: MessageExtras = {},
): Assessment {
  return createAssessor(config)(text, extras);
}

/**
 * The words a person reads, for the lure patterns: each link target becomes one mark (the link
 * rules judge it, and a wallet's name in a URL is not a request to act; "deposit via ⧉" is), the
 * visible text of markdown links and anchors is kept.
 */
function proseOf(text: string, links: readonly ExtractedLink[]): string {
  let out = text;
  for (const link of links)
    if (link.span) out = out.replace(link.span, link.text ?? ` ${LINK_MARK} `);
  return out;
}

/** A capital-I host as written (`parIey.com`) reads as an l: the registrable label as written. */
function writtenLabel(target: string, suffix: string | null, label: string): { written?: string } {
  const authority = target.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/?#]/, 1)[0] ?? '';
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1).replace(/:\d+$/, '');
  const labels = hostPart.split(/[.。．｡]/);
  const written = labels[labels.length - 1 - (suffix ? suffix.split('.').length : 1)];
  return written && written !== label && written.toLowerCase() === label.toLowerCase()
    ? { written }
    : {};
}

function hostOf(text: string): string | undefined {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`).hostname;
  } catch {
    return undefined;
  }
}

function addUserinfo(url: URL, reasons: Set<ReasonCode>) {
  if (!url.username && !url.password) return;
  let user = url.username;
  try {
    user = decodeURIComponent(user);
  } catch {
    // Keep the encoded form: it still shows whether a domain hides there.
  }
  reasons.add(/[\p{L}\p{N}-]\.[\p{L}]{2,}/u.test(user) ? 'url.userinfo_domain' : 'url.userinfo');
}

/** The official link to offer instead of a flagged one: the one whose label the message names. */
export function canonicalLinkFor(
  text: string,
  links: readonly CanonicalLink[],
): CanonicalLink | undefined {
  const lower = text.slice(0, 10_000).toLowerCase();
  return (
    links.find((link) => lower.includes(link.label.toLowerCase().replace(/ion$/, ''))) ?? links[0]
  );
}
