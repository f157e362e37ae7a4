import { SHORTENERS } from './shorteners.ts';

/**
 * Hosts many people publish on: code hosts, package registries, chat invites, social networks,
 * blogs, shared documents, link pages, and every shortener. An official link on one of them
 * (`https://github.com/acme`) vouches for that account's pages only, so it is matched by host
 * and path prefix, never by registrable domain: anyone can open `github.com/acme-airdrop`.
 */
const SHARED_HOSTS: ReadonlySet<string> = new Set([
  'github.com',
  'gist.github.com',
  'gitlab.com',
  'bitbucket.org',
  'codeberg.org',
  'npmjs.com',
  'pypi.org',
  'crates.io',
  'discord.gg',
  'discord.com',
  'discordapp.com',
  't.me',
  'telegram.me',
  'telegram.dog',
  'x.com',
  'twitter.com',
  'medium.com',
  'substack.com',
  'mirror.xyz',
  'paragraph.xyz',
  'docs.google.com',
  'drive.google.com',
  'sites.google.com',
  'forms.gle',
  'youtube.com',
  'youtu.be',
  'reddit.com',
  'facebook.com',
  'instagram.com',
  'tiktok.com',
  'linkedin.com',
  'threads.net',
  'warpcast.com',
  'notion.so',
  'notion.site',
  'gitbook.com',
  'gitbook.io',
  'galxe.com',
  'zealy.io',
  'wa.me',
  'whatsapp.com',
  ...SHORTENERS,
]);

/** Other names of the same platform: an official x.com account is the same on twitter.com. */
const ALIASES: Record<string, string> = {
  'twitter.com': 'x.com',
  'telegram.me': 't.me',
  'telegram.dog': 't.me',
  'discordapp.com': 'discord.com',
};

/** Path segments that come before the account name (`/r/acme`, `/invite/acme`, `/package/x`). */
const BEFORE_HANDLE = new Set([
  'invite',
  'r',
  'u',
  'user',
  'users',
  'c',
  'channel',
  's',
  'package',
  'org',
  'orgs',
  'company',
  'in',
  'groups',
]);

/** Hosts whose paths are document identifiers, compared as written (not case-folded). */
const CASE_SENSITIVE = new Set(['docs.google.com', 'drive.google.com', 'sites.google.com']);

/** A link on a shared platform: the platform's host and the normalised path. */
export interface PlatformLocation {
  host: string;
  /** Lower-cased (except document hosts), no trailing slash, no empty segments. */
  path: string;
}

const strip = (host: string) =>
  host
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^(?:www|m|mobile)\./, '');

/** Where a URL points on a shared platform, or undefined when its host is not one. */
export function platformLocation(
  url: URL,
  registrable: string | undefined,
): PlatformLocation | undefined {
  const bare = strip(url.hostname);
  const known = SHARED_HOSTS.has(bare)
    ? bare
    : registrable && SHARED_HOSTS.has(registrable)
      ? bare
      : undefined;
  if (!known) return undefined;
  let host = ALIASES[known] ?? known;
  let segments = url.pathname.split('/').filter(Boolean);
  // discord.com/invite/acme is the invite discord.gg/acme.
  if (host === 'discord.com' && segments[0]?.toLowerCase() === 'invite') {
    host = 'discord.gg';
    segments = segments.slice(1);
  }
  const path = `/${segments.join('/')}`;
  return { host, path: CASE_SENSITIVE.has(host) ? path : path.toLowerCase() };
}

/** True when `link` is the official location or below it (`/acme` covers `/acme/x`, not `/acme-x`). */
export function underLocation(link: PlatformLocation, official: PlatformLocation): boolean {
  if (link.host !== official.host || official.path === '/') return false;
  return link.path === official.path || link.path.startsWith(`${official.path}/`);
}

/** True when a registrable domain or host is a shared platform (never official as a whole). */
export function isSharedPlatform(domainOrHost: string): boolean {
  return SHARED_HOSTS.has(strip(domainOrHost));
}

/**
 * The account, channel or invite a path on a shared platform names (`acme_support` in
 * `t.me/acme_support`, `acme` in `medium.com/@acme/post`), with `_` and `.` read as the hyphens
 * the lookalike check splits words on. Private invites (`t.me/+…`) and document hosts name none.
 */
export function handleOf(location: PlatformLocation): string | undefined {
  if (CASE_SENSITIVE.has(location.host) || location.host === 'forms.gle') return undefined;
  const segments = location.path.split('/').filter(Boolean);
  const first = segments[0]?.replace(/^[@~]/, '');
  const raw = first && BEFORE_HANDLE.has(first) ? segments[1] : segments[0];
  if (!raw || raw.startsWith('+') || raw === 'joinchat') return undefined;
  let handle = raw;
  try {
    handle = decodeURIComponent(raw);
  } catch {
    // Keep it as written.
  }
  return handle.replace(/^[@~]/, '').toLowerCase().replace(/[_.]+/g, '-');
}
