import { domainToASCII } from 'node:url';
import { parse } from 'tldts';

/**
 * Where a link was found: a URL with a scheme, a bare domain, a markdown link, an HTML anchor,
 * or a link a connector read from the message's metadata (Telegram `text_link` entities,
 * Discord embeds and buttons), whose target is not in the text at all.
 */
export type LinkSource = 'url' | 'domain' | 'markdown' | 'html' | 'entity';

/** A link a connector found beside the text: the words shown and where they lead. */
export interface EntityLink {
  text: string;
  url: string;
}

export interface ExtractedLink {
  source: LinkSource;
  /** The target as written, cut to `LIMITS.maxUrlChars`. */
  target: string;
  /** True when the target was longer than `LIMITS.maxUrlChars`. */
  oversized: boolean;
  /** The visible text of a markdown link or anchor (it may name another domain than the target). */
  text?: string;
  /** The whole span as it appears in the message (what a rewrite replaces; empty for metadata links). */
  span: string;
}

export interface Extraction {
  /** The first `LIMITS.maxLinks` links, in the order found. */
  links: ExtractedLink[];
  /** Every link found in the scanned text, kept or not. */
  found: number;
  charsScanned: number;
  /** True when the message was longer than `LIMITS.maxTextChars` and only its start was read. */
  truncated: boolean;
}

/** The bounds on one assessment: the work done is linear in the scanned text. */
export const LIMITS = {
  /** Characters of a message read; the rest is not scanned (and the message is warned). */
  maxTextChars: 100_000,
  /** Links kept and assessed per message; more are counted only. */
  maxLinks: 200,
  /** Characters of one URL assessed (browsers start to refuse URLs around 2,000 to 8,000). */
  maxUrlChars: 2_048,
} as const;

const MARKDOWN = /\[([^\]\n]{0,500})\]\(\s*<?([^()\s<>]{1,8192})>?(?:\s+"[^"\n]{0,200}")?\s*\)/g;
const ANCHOR =
  /<a\b[^>]{0,1000}?\bhref\s*=\s*(?:"([^"]{0,8192})"|'([^']{0,8192})'|([^\s>"']{1,8192}))[^>]{0,1000}>([^<]{0,500})<\/a\s*>/gi;
/** A URL with a scheme that matters: web links, and schemes that run code or carry a payload. */
const SCHEMED =
  /\b(?:(?:https?|ftp|wss?):\/\/[^\s<>"'`\\]+|(?:javascript|vbscript):[^\s<>"'`]+|data:[a-z]+\/[a-z0-9.+-]+[;,][^\s<>"'`]*)/gi;
/**
 * A domain without a scheme (`example.com/path`): dotted labels ending in a letter-only last
 * label, not inside a word, an email address or a path. Ideographic and fullwidth dots count as
 * dots, as browsers treat them. Whether the last label is a real suffix is checked afterwards.
 */
const BARE_DOMAIN =
  /(?<![\p{L}\p{N}@.\-/:_])(?:[\p{L}\p{N}][\p{L}\p{N}-]{0,62}[.。．｡]){1,10}\p{L}{2,63}(?![\p{L}\p{N}@_-]|[.。．｡][\p{L}\p{N}])(?::\d{1,5})?(?:[/?#][^\s<>"'`]*)?/gu;

/** Drops sentence punctuation a URL does not end with (a closing bracket only if unbalanced). */
function trimTrailing(url: string): string {
  const open = { ')': 0, ']': 0 };
  const close = { ')': 0, ']': 0 };
  for (const char of url) {
    if (char === '(') open[')']++;
    else if (char === '[') open[']']++;
    else if (char === ')' || char === ']') close[char]++;
  }
  let end = url.length;
  while (end > 0) {
    const last = url[end - 1]!;
    if ('.,;:!?\'"*'.includes(last)) end--;
    else if ((last === ')' || last === ']') && open[last] < close[last]) {
      close[last]--;
      end--;
    } else break;
  }
  return url.slice(0, end);
}

/** True when a bare `name.tld` ends in a real public suffix (not `file.txt` or `e.g`). */
function hasPublicSuffix(domain: string): boolean {
  const host = domainToASCII(domain.split(/[:/?#]/, 1)[0]!.replace(/[。．｡]/g, '.'));
  if (!host) return false;
  const parsed = parse(host, { allowPrivateDomains: true });
  return parsed.domain !== null && (parsed.isIcann === true || parsed.isPrivate === true);
}

/**
 * Finds every link in a message: markdown links and HTML anchors first (their text and target
 * are read together, then blanked), then URLs with a scheme, then bare domains, then the links
 * a connector passed beside the text. Each pass is one regular-expression scan over at most
 * `LIMITS.maxTextChars` characters.
 */
export function extractLinks(message: string, entities: readonly EntityLink[] = []): Extraction {
  const truncated = message.length > LIMITS.maxTextChars;
  let text = truncated ? message.slice(0, LIMITS.maxTextChars) : message;
  const links: ExtractedLink[] = [];
  let found = 0;
  const keep = (link: Omit<ExtractedLink, 'oversized' | 'target'> & { target: string }) => {
    found++;
    if (links.length >= LIMITS.maxLinks) return;
    const oversized = link.target.length > LIMITS.maxUrlChars;
    links.push({
      ...link,
      target: oversized ? link.target.slice(0, LIMITS.maxUrlChars) : link.target,
      oversized,
    });
  };
  /** Replaces matched spans with spaces so later passes do not see them again. */
  const blank = (pattern: RegExp, onMatch: (match: RegExpExecArray) => string | undefined) => {
    let out = '';
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      const consumed = onMatch(match);
      if (consumed === undefined) continue;
      out += text.slice(last, match.index) + ' '.repeat(consumed.length);
      last = match.index + consumed.length;
    }
    text = out + text.slice(last);
  };

  blank(MARKDOWN, (match) => {
    keep({ source: 'markdown', target: match[2]!, text: match[1]!, span: match[0] });
    return match[0];
  });
  blank(ANCHOR, (match) => {
    const target = match[1] ?? match[2] ?? match[3] ?? '';
    keep({ source: 'html', target, text: match[4]!, span: match[0] });
    return match[0];
  });
  blank(SCHEMED, (match) => {
    const url = trimTrailing(match[0]);
    if (!url.includes(':')) return undefined;
    keep({ source: 'url', target: url, span: url });
    return url;
  });
  blank(BARE_DOMAIN, (match) => {
    const domain = trimTrailing(match[0]);
    if (!hasPublicSuffix(domain)) return undefined;
    keep({ source: 'domain', target: domain, span: domain });
    return domain;
  });
  // The text's own links first; metadata links count against the same limit.
  for (const entity of entities)
    keep({
      source: 'entity',
      target: entity.url,
      text: entity.text.slice(0, 500),
      span: '',
    });
  return { links, found, charsScanned: Math.min(message.length, LIMITS.maxTextChars), truncated };
}

/** The first domain named in a link's visible text (`parley.dev` in "[parley.dev](…)"), if any. */
export function domainInText(text: string): string | undefined {
  const schemed = new RegExp(SCHEMED.source, 'i').exec(text);
  if (schemed) return schemed[0];
  return new RegExp(BARE_DOMAIN.source, 'u').exec(text)?.[0];
}
