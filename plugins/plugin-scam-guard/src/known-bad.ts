import { readFileSync } from 'node:fs';
import { domainToASCII } from 'node:url';
import { parse } from 'tldts';

export interface DomainListProblem {
  line: number;
  text: string;
  reason: string;
}

export interface DomainList {
  /** Lowercase ASCII (punycode) hosts, deduplicated and sorted. */
  domains: string[];
  problems: DomainListProblem[];
}

/** The bundled list, refreshed by `npm run refresh -w @parley/plugin-scam-guard`. */
export const BUNDLED_LIST_URL = new URL('../data/known-bad-domains.txt', import.meta.url);

/**
 * Reads a list of known-bad domains in the formats the community lists use: one host per line
 * (`#` starts a comment), a JSON array of hosts, or a JSON object with a `blacklist` array
 * (MetaMask's eth-phishing-detect config). Entries may be URLs or Unicode: they are reduced to
 * their lowercase ASCII host. An entry without a registrable domain is a problem, not skipped
 * silently.
 */
export function parseDomainList(text: string): DomainList {
  const entries = jsonEntries(text) ?? text.split(/\r?\n/).map((line) => line.replace(/#.*$/, ''));
  const domains = new Set<string>();
  const problems: DomainListProblem[] = [];
  entries.forEach((raw, index) => {
    const entry = typeof raw === 'string' ? raw.trim() : '';
    if (raw !== undefined && typeof raw !== 'string') {
      problems.push({ line: index + 1, text: String(raw).slice(0, 100), reason: 'not a string' });
      return;
    }
    if (!entry) return;
    const host = domainToASCII(
      entry
        .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
        .split(/[/?#:@\s]/, 1)[0]!
        .replace(/\.$/, ''),
    );
    const parsed = host ? parse(host, { allowPrivateDomains: true }) : undefined;
    if (!parsed?.domain || parsed.isIp) {
      problems.push({
        line: index + 1,
        text: entry.slice(0, 100),
        reason: 'not a domain name with a public suffix',
      });
      return;
    }
    domains.add(host);
  });
  return { domains: [...domains].sort(), problems };
}

function jsonEntries(text: string): unknown[] | undefined {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return undefined;
  const value: unknown = JSON.parse(trimmed);
  if (Array.isArray(value)) return value;
  const list = (value as { blacklist?: unknown }).blacklist;
  if (Array.isArray(list)) return list;
  throw new Error('a JSON domain list is an array, or an object with a "blacklist" array');
}

let bundled: ReadonlySet<string> | undefined;

/** The bundled known-bad hosts (read once; a broken bundled file is a packaging bug and throws). */
export function bundledKnownBad(): ReadonlySet<string> {
  if (!bundled) {
    const list = parseDomainList(readFileSync(BUNDLED_LIST_URL, 'utf8'));
    if (list.problems.length)
      throw new Error(
        `the bundled known-bad list has ${list.problems.length} bad entries (first on line ${list.problems[0]!.line}): run the refresh script again`,
      );
    bundled = new Set(list.domains);
  }
  return bundled;
}

/** True when the host or one of its parent domains is on the list. */
export function listed(host: string, list: ReadonlySet<string>): boolean {
  let rest = host;
  for (;;) {
    if (list.has(rest)) return true;
    const dot = rest.indexOf('.');
    if (dot < 0) return false;
    rest = rest.slice(dot + 1);
  }
}
