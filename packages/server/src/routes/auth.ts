import { api } from '@parley/protocol';
import { isStoreError } from '@parley/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clearedSessionCookie, sessionCookie } from '../auth/cookies.ts';
import { csrfRejection } from '../auth/csrf.ts';
import { decoyHash, hashPassword, needsRehash, verifyPassword } from '../auth/passwords.ts';
import { isLoopback } from '../config.ts';
import { HttpProblem } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import type { Services } from '../services.ts';
import { userDto, userWorkspaceDto } from './dto.ts';

const SESSION_TTL_MS = 7 * 86_400_000;

/** Headers a proxy adds and a browser never sends. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

/** Sign-in routes set cookies: a browser on another site may not call them (login CSRF). */
function refuseCrossSite(request: FastifyRequest, services: Services) {
  const refused = csrfRejection(request, services.config.trustedOrigins, {
    requireBrowserHeaders: false,
  });
  if (refused) throw new HttpProblem('auth.csrf', `Refused a cross-site request: ${refused}.`);
}

function requireMultiUser(services: Services, what: string) {
  if (!services.config.multiUser) {
    throw new HttpProblem(
      'auth.signup_closed',
      `${what} needs multi-user mode (PARLEY_MULTI_USER=1); this server has one local owner.`,
    );
  }
}

async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  userId: string,
) {
  const userAgent = request.headers['user-agent']?.slice(0, 1_000);
  const { session, cookie } = await services.store.system.sessions.create({
    userId,
    ttlMs: SESSION_TTL_MS,
    ip: request.ip,
    ...(userAgent ? { userAgent } : {}),
  });
  reply.header(
    'set-cookie',
    sessionCookie(cookie, {
      secure: services.config.behindTlsProxy,
      maxAgeSeconds: SESSION_TTL_MS / 1000,
    }),
  );
  const [user, workspaces] = await Promise.all([
    services.store.system.users.get(userId),
    services.store.system.workspaces.listForUser(userId),
  ]);
  return {
    user: userDto(user!),
    workspaces: workspaces.map(userWorkspaceDto),
    expiresAt: session.expiresAt.toISOString(),
  };
}

/** Counts a failed sign-in against the address and the account; 429 once either is blocked. */
function checkNotBlocked(services: Services, ip: string, email: string) {
  const wait = Math.max(
    services.authFailures.blockedFor(ip),
    services.accountFailures.blockedFor(email),
  );
  if (wait > 0) {
    throw new HttpProblem('auth.rate_limited', 'Too many failed sign-ins: wait and try again.', {
      retryAfterMs: wait,
    });
  }
}

export const authRoutes = [
  defineRoute({
    method: 'POST',
    url: '/v1/auth/signup',
    operationId: 'signUp',
    summary: 'Create an account and its first workspace, and sign in (multi-user mode).',
    tag: 'auth',
    access: { kind: 'public' },
    body: api.SignUpRequestSchema,
    responses: { 201: api.SessionResponseSchema },
    handler: async ({ request, reply, body, services }) => {
      refuseCrossSite(request, services);
      requireMultiUser(services, 'Sign-up');
      if (!services.config.signup)
        throw new HttpProblem(
          'auth.signup_closed',
          'Sign-up is closed here: ask for an invitation.',
        );
      checkNotBlocked(services, request.ip, body.email.toLowerCase());
      const passwordHash = await hashPassword(body.password);
      let user: Awaited<ReturnType<Services['store']['system']['users']['create']>>;
      try {
        user = await services.store.system.users.create({
          email: body.email,
          displayName: body.displayName ?? body.email.split('@')[0]!,
          passwordHash,
        });
      } catch (error) {
        if (isStoreError(error) && error.code === 'store.conflict') {
          // Same answer shape as any conflict; sign-up cannot be used to test passwords. It
          // tells that an account exists, so it counts as a failure for the address: listing
          // which emails have accounts is as slow as guessing passwords (audit A-16).
          services.authFailures.fail(request.ip);
          throw new HttpProblem(
            'resource.conflict',
            'An account with this email already exists: sign in instead.',
          );
        }
        throw error;
      }
      await services.store.system.workspaces.create({
        name: body.workspaceName ?? `${user.displayName}'s workspace`.slice(0, 200),
        ownerUserId: user.id,
      });
      await services.store.system.productEvents.record({ name: 'signup', userId: user.id });
      return startSession(request, reply, services, user.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/auth/login',
    operationId: 'logIn',
    summary: 'Sign in with email and password; sets the session cookie.',
    tag: 'auth',
    access: { kind: 'public' },
    body: api.LoginRequestSchema,
    responses: { 200: api.SessionResponseSchema },
    handler: async ({ request, reply, body, services }) => {
      refuseCrossSite(request, services);
      const email = body.email.toLowerCase();
      checkNotBlocked(services, request.ip, email);
      const found = await services.store.system.users.getCredentials(email);
      // Unknown accounts cost the same hash as known ones: timing does not tell them apart.
      const ok = await verifyPassword(body.password, found?.passwordHash ?? (await decoyHash()));
      if (!found?.passwordHash || !ok || found.user.disabledAt) {
        services.authFailures.fail(request.ip);
        services.accountFailures.fail(email);
        throw new HttpProblem('auth.invalid_credentials', 'Wrong email or password.');
      }
      services.accountFailures.succeed(email);
      if (needsRehash(found.passwordHash)) {
        await services.store.system.users.update(found.user.id, {
          passwordHash: await hashPassword(body.password),
        });
      }
      return startSession(request, reply, services, found.user.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/auth/local',
    operationId: 'localSession',
    summary:
      'Single-user mode: a session for the local owner, for a browser on this machine (the dashboard).',
    tag: 'auth',
    access: { kind: 'public' },
    responses: { 200: api.SessionResponseSchema },
    handler: async ({ request, reply, services }) => {
      const { config } = services;
      if (config.multiUser || config.requireToken || !services.localOwnerId)
        throw new HttpProblem(
          'auth.forbidden',
          'Local sessions are off: sign in, or use the API token.',
        );
      const host = (request.headers.host ?? '').replace(/:\d+$/, '');
      // Loopback peer AND loopback Host header: a DNS-rebinding page cannot get a session.
      // Not through a proxy either: its peer is loopback and it may rewrite Host to ours, so
      // anyone it serves would get the owner's session.
      const proxied =
        config.behindTlsProxy || FORWARDING_HEADERS.some((h) => request.headers[h] !== undefined);
      if (proxied || !isLoopback(request.socket.remoteAddress ?? '') || !isLoopback(host))
        throw new HttpProblem(
          'auth.forbidden',
          proxied
            ? 'Local sessions are only for browsers on this machine, not through a proxy: behind one, set PARLEY_REQUIRE_TOKEN=1 and use the API token.'
            : 'Local sessions are only for browsers on this machine.',
        );
      const refused = csrfRejection(request, config.trustedOrigins);
      if (refused) throw new HttpProblem('auth.csrf', `Refused a cross-site request: ${refused}.`);
      return startSession(request, reply, services, services.localOwnerId);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/auth/operator/confirm',
    operationId: 'confirmOperator',
    summary:
      'Become an instance operator: a signed-in person listed in PARLEY_OPERATOR_EMAILS redeems the one-time code from the server log or PARLEY_OPERATOR_CODE.',
    tag: 'auth',
    access: { kind: 'person' },
    body: api.ConfirmOperatorRequestSchema,
    responses: { 200: api.ConfirmOperatorResponseSchema },
    handler: async ({ request, principal, body, services }) => {
      if (principal.kind !== 'session') throw new Error('unreachable');
      const email = principal.user.email.toLowerCase();
      // Guesses count like failed sign-ins: per address and per account.
      checkNotBlocked(services, request.ip, email);
      try {
        const { alreadyConfirmed } = await services.operatorCodes.redeem(
          principal.user,
          body.code,
          request.ip,
        );
        services.accountFailures.succeed(email);
        return { operator: true as const, alreadyConfirmed };
      } catch (error) {
        if (error instanceof HttpProblem && error.code === 'auth.operator_code_invalid') {
          services.authFailures.fail(request.ip);
          services.accountFailures.fail(email);
        }
        throw error;
      }
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/auth/logout',
    operationId: 'logOut',
    summary: 'End this session (or, with everywhere, all of this person’s sessions).',
    tag: 'auth',
    access: { kind: 'person' },
    body: api.LogOutRequestSchema,
    responses: { 204: null },
    handler: async ({ principal, reply, body, services }) => {
      if (principal.kind !== 'session') return;
      if (body?.everywhere)
        await services.store.system.sessions.revokeAllForUser(principal.user.id);
      else await services.store.system.sessions.revoke(principal.sessionId);
      reply.header('set-cookie', clearedSessionCookie(services.config.behindTlsProxy));
      reply.code(204);
    },
  }),
];
