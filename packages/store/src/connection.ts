/*
 * What every message about a PostgreSQL connection shares: the URL without its password, and
 * which Node error codes mean the server could not be reached at all. The store's connect
 * errors, its diagnostics and `parley doctor` (through the server) use these.
 */

/** A database URL as it may be shown: scheme, user, host, port and database; never the password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'the configured URL';
  }
}

/** Node's error codes for a server that could not be reached (nothing answered, no route, no name). */
export const UNREACHABLE_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EAI_AGAIN',
]);
