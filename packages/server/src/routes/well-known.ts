import { defineRoute } from '../http/route.ts';

/*
 * /.well-known/security.txt (RFC 9116): where to report a vulnerability in Parley. Every
 * Parley server answers it, so whoever finds a problem on any deployment reaches the project.
 * `Expires` is computed on every request (one year ahead), so the file never goes stale.
 */

export const SECURITY_CONTACT = 'mailto:security@parley.dev';
/** The disclosure policy: SECURITY.md at the root of the repository. */
export const SECURITY_POLICY = 'https://github.com/parley-dev/parley/blob/main/SECURITY.md';

const YEAR_MS = 365 * 86_400_000;

/**
 * The security.txt text. `canonical` is the file's public URL, when one is configured (the
 * server does not know its public address otherwise, and a Host header is not proof of it).
 */
export function securityTxt(now: Date, options: { canonical?: string } = {}): string {
  // RFC 3339 without fractions of a second, as in the RFC's examples.
  const expires = new Date(now.getTime() + YEAR_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [
    '# Security contact for Parley, the open-source agent platform this server runs.',
    '# Please report vulnerabilities privately; see the policy for what to include.',
    `Contact: ${SECURITY_CONTACT}`,
    `Expires: ${expires}`,
    'Preferred-Languages: en',
    `Policy: ${SECURITY_POLICY}`,
    ...(options.canonical ? [`Canonical: ${options.canonical}`] : []),
    '',
  ].join('\n');
}

export const wellKnownRoutes = [
  defineRoute({
    method: 'GET',
    url: '/.well-known/security.txt',
    operationId: 'securityTxt',
    summary: 'How to report a vulnerability (RFC 9116): contact, expiry, languages, policy.',
    tag: 'system',
    access: { kind: 'public' },
    // Plain text, not JSON: no schema to serialise with.
    responses: { 200: null },
    handler: async ({ reply }) => {
      reply.type('text/plain; charset=utf-8');
      reply.header('cache-control', 'public, max-age=86400');
      return securityTxt(new Date());
    },
  }),
];
