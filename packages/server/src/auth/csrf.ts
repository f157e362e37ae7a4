import type { FastifyRequest } from 'fastify';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie-authenticated requests (bearer tokens are never read from cookies,
 * so they need none): a state-changing request must come from our own origin. Modern
 * browsers send `Sec-Fetch-Site`; others at least send `Origin` on non-GET requests. A
 * request with neither is refused, as OWASP advises for cookie-authenticated APIs.
 * Sign-in routes, which have no cookie yet, pass `requireBrowserHeaders: false`: a CLI may
 * sign in without browser headers, but a browser on another site may not (login CSRF).
 * Returns the reason it was refused, or undefined when it may proceed.
 */
export function csrfRejection(
  request: FastifyRequest,
  trustedOrigins: readonly string[],
  options: { requireBrowserHeaders: boolean } = { requireBrowserHeaders: true },
): string | undefined {
  if (SAFE_METHODS.has(request.method)) return undefined;
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  if (site === 'cross-site') return 'Sec-Fetch-Site is cross-site';
  if (origin !== undefined) {
    if (origin === 'null') return 'Origin is null';
    const own = ownOrigin(request);
    if (origin !== own && !trustedOrigins.includes(origin)) return `Origin ${origin} is not ${own}`;
    return undefined;
  }
  if (site === 'same-origin' || site === 'none' || !options.requireBrowserHeaders) return undefined;
  return 'the request carries neither Origin nor Sec-Fetch-Site';
}

function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}
