import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { readCookie, sessionCookieName } from './cookies.ts';
import { csrfRejection } from './csrf.ts';
import type { Principal } from './principal.ts';
import type { TokenCheck } from './token-cache.ts';

const BEARER = /^Bearer[ \t]+([!-~]+)[ \t]*$/i;

const TOKEN_FAILURES = {
  malformed: 'The bearer token is not a Parley API token (they start with prl_).',
  unknown: 'The bearer token is not valid.',
  revoked: 'The bearer token was revoked: create a new one.',
  expired: 'The bearer token has expired: create a new one.',
} as const;

/** Sessions end after a week without use, whatever their absolute expiry. */
export const SESSION_IDLE_TIMEOUT_MS = 7 * 86_400_000;

/**
 * Establishes who is calling: a bearer token (API, CLI) or a session cookie (dashboard).
 * A bearer header is never ignored: if present it must be valid. Token checks from an
 * address that keeps failing are refused for a while (429) before touching the database.
 */
export async function authenticate(
  request: FastifyRequest,
  services: Services,
): Promise<Principal> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const blockedMs = services.authFailures.blockedFor(request.ip);
    if (blockedMs > 0) throw rateLimited(blockedMs);
    const match = BEARER.exec(header);
    if (!match) {
      await failed(request, services);
      throw new HttpProblem(
        'auth.invalid_token',
        'Send the token as "Authorization: Bearer prl_…".',
      );
    }
    const token = match[1]!;
    const result = await services.tokenCache.check(token, request.ip, () =>
      checkToken(token, request, services),
    );
    if (!result.ok) {
      if (result.workspaceId && result.tokenId)
        services.detector.staleTokenUsed(
          result.workspaceId,
          result.tokenId,
          result.reason,
          request.ip,
        );
      await failed(request, services);
      throw new HttpProblem('auth.invalid_token', TOKEN_FAILURES[result.reason]);
    }
    return result.principal;
  }
  const secure = services.config.behindTlsProxy;
  const cookie = readCookie(request.headers.cookie, sessionCookieName(secure));
  if (cookie) {
    const valid = await services.store.system.sessions.validate(cookie, {
      idleTimeoutMs: SESSION_IDLE_TIMEOUT_MS,
    });
    if (valid) {
      const refused = csrfRejection(request, services.config.trustedOrigins);
      if (refused) throw new HttpProblem('auth.csrf', `Refused a cross-site request: ${refused}.`);
      return { kind: 'session', user: valid.user, sessionId: valid.session.id };
    }
  }
  return { kind: 'anonymous' };
}

const rateLimited = (retryAfterMs: number) =>
  new HttpProblem('auth.rate_limited', 'Too many failed token checks from this address.', {
    retryAfterMs,
  });

/**
 * Counts a failed token check against the address, across the cluster: one past the limit is
 * refused as rate limited on whichever instance it reaches.
 */
async function failed(request: FastifyRequest, services: Services) {
  const blockedMs = await services.authFailures.fail(request.ip);
  if (blockedMs > 0) throw rateLimited(blockedMs);
}

/** The database's word on a bearer token; a use from a new address is reported once per check. */
async function checkToken(
  token: string,
  request: FastifyRequest,
  services: Services,
): Promise<TokenCheck> {
  const userAgent = request.headers['user-agent']?.slice(0, 1_000);
  const result = await services.store.system.authenticateApiToken(token, {
    ip: request.ip,
    ...(userAgent ? { userAgent } : {}),
  });
  if (!result.ok) return result;
  if (result.newAddress)
    services.detector.tokenNewAddress(result.workspaceId, result.tokenId, request.ip);
  return {
    ok: true,
    principal: {
      kind: 'token',
      tokenId: result.tokenId,
      workspaceId: result.workspaceId,
      userId: result.createdBy,
      scopes: result.scopes,
      permissions: new Set(result.permissions),
      expiresAt: result.expiresAt,
    },
  };
}
