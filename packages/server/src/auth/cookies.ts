/*
 * The session cookie: `<session id>.<secret>` (only the secret's SHA-256 is stored). HttpOnly,
 * SameSite=Lax, Path=/, with Secure and the `__Host-` prefix when a TLS proxy sits in front
 * (browsers refuse Secure cookies over plain http on other hosts than localhost).
 */

export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-parley_session' : 'parley_session';
}

/** The value of one cookie from a Cookie header (first occurrence), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() !== name) continue;
    const raw = pair.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw.replace(/^"(.*)"$/, '$1'));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function sessionCookie(
  value: string,
  options: { secure: boolean; maxAgeSeconds: number },
): string {
  const parts = [
    `${sessionCookieName(options.secure)}=${encodeURIComponent(value)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', { secure, maxAgeSeconds: 0 });
}
