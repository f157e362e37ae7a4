/**
 * Confusable skeletons in the sense of Unicode TS #39 §4, reduced to what matters for domain
 * names that imitate Latin brand names. The full confusables.txt maps ~6,000 code points to
 * prototypes; a lookalike of a Latin brand can only use characters whose prototype is a Latin
 * letter, digit or the hyphen, so the table below keeps those mappings for the scripts a
 * registrar will actually sell in a label (Latin, Cyrillic, Greek, IPA letters), plus digits
 * and punctuation. Compatibility forms (fullwidth ｐ, mathematical 𝐩, ℓ, ligatures) are left to
 * NFKC, and diacritics (é, ё) to NFD plus removing marks: neither needs a table row.
 *
 * Deviations from UTS #39, on purpose: the skeleton is lowercase (hosts are case-insensitive),
 * marks are dropped (parléy imitates parley as well as a homoglyph does), and the multi-letter
 * lookalikes rn/m, vv/w and cl/d are folded too (typosquats use them; UTS #39 has only some).
 */

/** Each entry is a character followed by its prototype, entries separated by spaces. */
const SINGLE = [
  // Cyrillic letters whose confusables.txt prototype is a Latin letter.
  'аa сc ԁd еe һh іi јj ӏl оo рp ԛq ѕs ԝw хx уy үy ѵv',
  // Greek.
  'αa γy ιi κk νv οo ρp υu χx ωw ϲc ϳj',
  // Latin and IPA letters outside ASCII that NFD does not decompose.
  'ıi ɩi ɪi ȷj ɑa ɡg ʀr øo đd ħh łl ɫl ɭl ʟl',
  // Digits and symbols (confusables.txt: 0 → O, 1 → l, | → l), dashes and dots.
  '0o 1l |l ǀl ‐- ‑- ‒- –- —- −- ﹣- 。. ｡. ．.',
].join(' ');

const TABLE = new Map(SINGLE.split(' ').map((entry) => [entry[0]!, entry.slice(1)] as const));

/** Multi-letter lookalikes, applied after the single characters. */
const MULTI: ReadonlyArray<readonly [RegExp, string]> = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
  [/cl/g, 'd'],
];

/** Invisible characters and bidi controls: UTS #39 maps default ignorables to nothing. */
const IGNORABLE = /[\p{Cf}\p{Mn}\p{Me}]/gu;

/**
 * The skeleton of a short string (a domain label, a brand token): two strings with the same
 * skeleton look alike. Input longer than 253 characters (a DNS name's limit) is cut first, so
 * the work per call is bounded.
 */
export function skeleton(text: string): string {
  const folded = text.slice(0, 253).normalize('NFKC').toLowerCase().normalize('NFD');
  let out = '';
  for (const char of folded.replace(IGNORABLE, '')) out += TABLE.get(char) ?? char;
  for (const [pattern, to] of MULTI) out = out.replace(pattern, to);
  return out;
}

export type Script = 'latin' | 'cyrillic' | 'greek' | 'other';

/** The scripts of a label's letters (digits and hyphens belong to none). */
export function scriptsOf(label: string): Set<Script> {
  const scripts = new Set<Script>();
  for (const char of label.slice(0, 253)) {
    if (/\p{Script=Latin}/u.test(char)) scripts.add('latin');
    else if (/\p{Script=Cyrillic}/u.test(char)) scripts.add('cyrillic');
    else if (/\p{Script=Greek}/u.test(char)) scripts.add('greek');
    else if (/\p{L}/u.test(char)) scripts.add('other');
  }
  return scripts;
}

/**
 * A label mixing Latin with Cyrillic or Greek: below UTS #39's "highly restrictive" level, and
 * the classic homograph (pаypal with a Cyrillic а). Other scripts mixed with Latin (Japanese
 * with Latin, say) are legitimate in IDNs and not flagged here.
 */
export function isMixedScript(label: string): boolean {
  const scripts = scriptsOf(label);
  return scripts.has('latin') && (scripts.has('cyrillic') || scripts.has('greek'));
}
