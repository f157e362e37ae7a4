import { type IncomingHttpHeaders, request } from 'node:http';
import type { api } from '@parley/protocol';
import { ALL_PERMISSIONS, ROLE_PERMISSIONS } from '@parley/store';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { hashPassword, needsRehash, verifyPassword } from '../src/auth/passwords.ts';
import { scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Authentication against real servers on loopback: sign-up, sign-in, cookies, CSRF, rate
 * limits, API tokens and their scopes, the local session, and the security signals they
 * leave behind.
 */

type CreatedToken = z.infer<typeof api.CreatedTokenSchema>;
type Member = z.infer<typeof api.MemberSchema>;
type SessionResponse = z.infer<typeof api.SessionResponseSchema>;
type SecuritySignal = z.infer<typeof api.SecuritySignalSchema>;

// ── HTTP over node:http: lets a test pick its client address and its Host header ─────────

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

interface SendOptions {
  headers?: Record<string, string>;
  body?: unknown;
  /** The client's address (any 127.x.y.z works on loopback): what the server sees as its ip. */
  from?: string;
  cookie?: string;
  token?: string;
}

function send(base: string, method: string, path: string, options: SendOptions = {}) {
  const url = new URL(path, base);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(options.cookie ? { cookie: options.cookie } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  return new Promise<Res>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname + url.search,
        headers,
        agent: false,
        ...(options.from ? { localAddress: options.from } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A client address nobody else in this file uses: failures counted against it stay its own. */
let lastOctet = 10;
const freshAddress = () => `127.0.0.${lastOctet++}`;

const setCookies = (res: Res): string[] => res.headers['set-cookie'] ?? [];

/** `name=value` of the one Set-Cookie header, for a Cookie header. */
function cookieOf(res: Res): string {
  const all = setCookies(res);
  expect(all, res.text).toHaveLength(1);
  return all[0]!.split(';')[0]!;
}

function cookieAttributes(res: Res): { name: string; value: string; attributes: string[] } {
  const [pair, ...attributes] = setCookies(res)[0]!
    .split(';')
    .map((s) => s.trim());
  const eq = pair!.indexOf('=');
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

function problem(res: Res): api.Problem {
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  return res.json<api.Problem>();
}

function expectProblem(res: Res, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(problem(res).code).toBe(code);
}

const PASSWORD = 'correct horse battery staple';

interface SignedIn {
  cookie: string;
  userId: string;
  workspaceId: string;
}

async function signUp(server: TestServer, email: string): Promise<SignedIn> {
  const res = await send(server.url, 'POST', '/v1/auth/signup', {
    headers: { origin: server.url },
    body: { email, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(201);
  const session = res.json<SessionResponse>();
  return { cookie: cookieOf(res), userId: session.user.id, workspaceId: session.workspaces[0]!.id };
}

async function logIn(server: TestServer, email: string, from?: string): Promise<string> {
  const res = await send(server.url, 'POST', '/v1/auth/login', {
    headers: { origin: server.url },
    body: { email, password: PASSWORD },
    ...(from ? { from } : {}),
  });
  expect(res.status, res.text).toBe(200);
  return cookieOf(res);
}

/** Security signals, once the detector has written what it saw. */
async function workspaceSignals(server: TestServer, as: SignedIn, kind: string) {
  await server.app.services.detector.flush();
  const res = await send(
    server.url,
    'GET',
    `/v1/workspaces/${as.workspaceId}/security-signals?kind=${kind}`,
    { cookie: as.cookie },
  );
  expect(res.status, res.text).toBe(200);
  return res.json<SecuritySignal[]>();
}

async function instanceSignals(server: TestServer, cookie: string) {
  await server.app.services.detector.flush();
  const res = await send(server.url, 'GET', '/v1/instance/security-signals', { cookie });
  expect(res.status, res.text).toBe(200);
  return res.json<Omit<SecuritySignal, 'acknowledgedAt'>[]>();
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

// ── Multi-user mode ───────────────────────────────────────────────────────────────────────

const OPERATOR = 'operator@example.com';
const OPERATOR_CODE = 'auth-test-operator-code';
const TRUSTED = 'http://dashboard.example:5173';

describe('multi-user mode', () => {
  let server: TestServer;
  let ada: SignedIn;
  let bob: SignedIn;
  let operator: SignedIn;
  /** A POST that needs a session and changes something harmless: creating a workspace. */
  const createWorkspace = (options: SendOptions) =>
    send(server.url, 'POST', '/v1/workspaces', { body: { name: 'csrf probe' }, ...options });

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        PARLEY_MULTI_USER: '1',
        PARLEY_OPERATOR_EMAILS: OPERATOR,
        PARLEY_OPERATOR_CODE: OPERATOR_CODE,
        PARLEY_TRUSTED_ORIGINS: TRUSTED,
      },
      tuning: { authFailureLimit: 3, probeThreshold: 3 },
    });
    ada = await signUp(server, 'ada@example.com');
    bob = await signUp(server, 'bob@example.com');
    operator = await signUp(server, OPERATOR);
    // A listed address is not enough: the operator confirms it with the one-time code.
    const confirmed = await send(server.url, 'POST', '/v1/auth/operator/confirm', {
      cookie: operator.cookie,
      headers: { origin: server.url },
      body: { code: OPERATOR_CODE },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    // Bob joins Ada's workspace as a developer.
    const invited = await send(
      server.url,
      'POST',
      `/v1/workspaces/${ada.workspaceId}/invitations`,
      {
        cookie: ada.cookie,
        headers: { origin: server.url },
        body: { email: 'bob@example.com', role: 'developer' },
      },
    );
    expect(invited.status, invited.text).toBe(201);
    const accepted = await send(server.url, 'POST', '/v1/invitations/accept', {
      cookie: bob.cookie,
      headers: { origin: server.url },
      body: { token: invited.json<{ token: string }>().token },
    });
    expect(accepted.status, accepted.text).toBe(200);
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('sign-up', () => {
    it('sets an HttpOnly, SameSite=Lax, Path=/ session cookie without Secure on plain http', async () => {
      const res = await send(server.url, 'POST', '/v1/auth/signup', {
        headers: { origin: server.url },
        body: { email: 'cookie@example.com', password: PASSWORD, workspaceName: 'Cookies' },
      });
      expect(res.status, res.text).toBe(201);
      const { name, value, attributes } = cookieAttributes(res);
      expect(name).toBe('parley_session');
      expect(value.length).toBeGreaterThan(20);
      expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']));
      expect(attributes.map((a) => a.toLowerCase())).not.toContain('secure');
      expect(attributes.find((a) => a.startsWith('Max-Age='))).toBe('Max-Age=604800');
      const session = res.json<SessionResponse>();
      expect(session.user.email).toBe('cookie@example.com');
      expect(session.workspaces.map((w) => w.name)).toEqual(['Cookies']);
      // Nothing secret in the body: the cookie's value is only in the header.
      expect(res.text).not.toContain(decodeURIComponent(value).split('.')[1]!);
      const me = await send(server.url, 'GET', '/v1/me', { cookie: `${name}=${value}` });
      expect(me.json()).toMatchObject({ auth: 'session', user: { email: 'cookie@example.com' } });
    });

    it('answers 409 for an email that has an account, whatever its case', async () => {
      for (const email of ['ada@example.com', 'ADA@Example.com']) {
        const res = await send(server.url, 'POST', '/v1/auth/signup', {
          headers: { origin: server.url },
          body: { email, password: 'another password entirely' },
        });
        expectProblem(res, 409, 'resource.conflict');
        expect(setCookies(res)).toEqual([]);
      }
      // Ada's password is unchanged.
      await logIn(server, 'ada@example.com');
    });

    it('refuses a short password and a sign-up from another site', async () => {
      const short = await send(server.url, 'POST', '/v1/auth/signup', {
        headers: { origin: server.url },
        body: { email: 'short@example.com', password: 'short' },
      });
      expectProblem(short, 400, 'request.invalid');
      const foreign = await send(server.url, 'POST', '/v1/auth/signup', {
        headers: { origin: 'https://evil.example' },
        body: { email: 'csrf@example.com', password: PASSWORD },
      });
      expectProblem(foreign, 403, 'auth.csrf');
      const login = await send(server.url, 'POST', '/v1/auth/login', {
        headers: { origin: server.url },
        body: { email: 'csrf@example.com', password: PASSWORD },
        from: freshAddress(),
      });
      expectProblem(login, 401, 'auth.invalid_credentials');
    });
  });

  describe('sign-in', () => {
    it('signs in with the right password and sets a working cookie', async () => {
      const res = await send(server.url, 'POST', '/v1/auth/login', {
        headers: { origin: server.url },
        body: { email: 'ADA@example.com', password: PASSWORD },
      });
      expect(res.status, res.text).toBe(200);
      const session = res.json<SessionResponse>();
      expect(session.user.id).toBe(ada.userId);
      expect(session.workspaces.map((w) => w.id)).toContain(ada.workspaceId);
      const me = await send(server.url, 'GET', '/v1/me', { cookie: cookieOf(res) });
      expect(me.json()).toMatchObject({ auth: 'session', user: { id: ada.userId } });
    });

    it('answers a wrong password and an unknown email the same way', async () => {
      const wrong = await send(server.url, 'POST', '/v1/auth/login', {
        headers: { origin: server.url },
        body: { email: 'ada@example.com', password: 'not the password' },
        from: freshAddress(),
      });
      const unknown = await send(server.url, 'POST', '/v1/auth/login', {
        headers: { origin: server.url },
        body: { email: 'nobody@example.com', password: 'not the password' },
        from: freshAddress(),
      });
      expectProblem(wrong, 401, 'auth.invalid_credentials');
      expectProblem(unknown, 401, 'auth.invalid_credentials');
      const { requestId: a, ...wrongBody } = problem(wrong);
      const { requestId: b, ...unknownBody } = problem(unknown);
      expect(a).not.toBe(b);
      expect(wrongBody).toEqual(unknownBody);
      expect(setCookies(wrong)).toEqual([]);
      expect(setCookies(unknown)).toEqual([]);
    });

    it('refuses a sign-in from another site (login CSRF), allows one without browser headers (CLI)', async () => {
      const crossSite: Record<string, string>[] = [
        { origin: 'https://evil.example' },
        { origin: 'null' },
        { 'sec-fetch-site': 'cross-site' },
        { origin: server.url, 'sec-fetch-site': 'cross-site' },
      ];
      for (const headers of crossSite) {
        const res = await send(server.url, 'POST', '/v1/auth/login', {
          headers,
          body: { email: 'ada@example.com', password: PASSWORD },
        });
        expectProblem(res, 403, 'auth.csrf');
        expect(setCookies(res)).toEqual([]);
      }
      const cli = await send(server.url, 'POST', '/v1/auth/login', {
        body: { email: 'ada@example.com', password: PASSWORD },
      });
      expect(cli.status, cli.text).toBe(200);
      const trusted = await send(server.url, 'POST', '/v1/auth/login', {
        headers: { origin: TRUSTED },
        body: { email: 'ada@example.com', password: PASSWORD },
      });
      expect(trusted.status, trusted.text).toBe(200);
    });
  });

  describe('sign-out', () => {
    it('ends the session: the cookie no longer works, and is cleared', async () => {
      const cookie = await logIn(server, 'ada@example.com');
      const out = await send(server.url, 'POST', '/v1/auth/logout', {
        cookie,
        headers: { origin: server.url },
      });
      expect(out.status, out.text).toBe(204);
      const cleared = cookieAttributes(out);
      expect(cleared).toMatchObject({ name: 'parley_session', value: '' });
      expect(cleared.attributes).toContain('Max-Age=0');
      const me = await send(server.url, 'GET', '/v1/me', { cookie });
      expectProblem(me, 401, 'auth.required');
      // Ada's other sessions live on.
      expect((await send(server.url, 'GET', '/v1/me', { cookie: ada.cookie })).status).toBe(200);
    });

    it('everywhere: every session of that person ends, nobody else’s', async () => {
      const one = await logIn(server, 'bob@example.com');
      const two = await logIn(server, 'bob@example.com');
      const out = await send(server.url, 'POST', '/v1/auth/logout', {
        cookie: one,
        headers: { origin: server.url },
        body: { everywhere: true },
      });
      expect(out.status, out.text).toBe(204);
      for (const cookie of [one, two, bob.cookie])
        expectProblem(await send(server.url, 'GET', '/v1/me', { cookie }), 401, 'auth.required');
      expect((await send(server.url, 'GET', '/v1/me', { cookie: ada.cookie })).status).toBe(200);
      bob = { ...bob, cookie: await logIn(server, 'bob@example.com') };
    });

    it('a cross-site logout is refused and the session survives', async () => {
      const cookie = await logIn(server, 'ada@example.com');
      const res = await send(server.url, 'POST', '/v1/auth/logout', {
        cookie,
        headers: { origin: 'https://evil.example' },
      });
      expectProblem(res, 403, 'auth.csrf');
      expect((await send(server.url, 'GET', '/v1/me', { cookie })).status).toBe(200);
    });
  });

  describe('CSRF on cookie-authenticated requests', () => {
    const workspaceCount = async () =>
      (await send(server.url, 'GET', '/v1/workspaces', { cookie: operator.cookie })).json<
        unknown[]
      >().length;

    it.each<[string, () => Record<string, string>]>([
      ['a foreign Origin', () => ({ origin: 'https://evil.example' })],
      ['Origin null', () => ({ origin: 'null' })],
      ['Sec-Fetch-Site: cross-site', () => ({ 'sec-fetch-site': 'cross-site' })],
      [
        'Sec-Fetch-Site: cross-site with our Origin',
        () => ({ origin: server.url, 'sec-fetch-site': 'cross-site' }),
      ],
      [
        'Sec-Fetch-Site: same-site (a sibling subdomain)',
        () => ({ 'sec-fetch-site': 'same-site' }),
      ],
      ['neither Origin nor Sec-Fetch-Site', () => ({})],
    ])('refuses a POST with %s, and it has no effect', async (_, headers) => {
      const before = await workspaceCount();
      const res = await createWorkspace({ cookie: operator.cookie, headers: headers() });
      expectProblem(res, 403, 'auth.csrf');
      expect(await workspaceCount()).toBe(before);
    });

    it.each([
      ['our own Origin', () => ({ origin: server.url })],
      ['Sec-Fetch-Site: same-origin', () => ({ 'sec-fetch-site': 'same-origin' })],
      ['a trusted origin (PARLEY_TRUSTED_ORIGINS)', () => ({ origin: TRUSTED })],
    ])('allows a POST with %s', async (_, headers) => {
      const before = await workspaceCount();
      const res = await createWorkspace({ cookie: operator.cookie, headers: headers() });
      expect(res.status, res.text).toBe(201);
      expect(await workspaceCount()).toBe(before + 1);
    });

    it('allows a GET without either header', async () => {
      const res = await send(server.url, 'GET', `/v1/workspaces/${ada.workspaceId}/members`, {
        cookie: ada.cookie,
      });
      expect(res.status, res.text).toBe(200);
    });

    it('does not apply to bearer tokens (no cookie is involved)', async () => {
      const token = await mintToken(ada, ['agents:read', 'agents:write']);
      const res = await send(server.url, 'POST', `/v1/workspaces/${ada.workspaceId}/agents`, {
        token: token.token,
        headers: { origin: 'https://evil.example' },
        body: { definition: scriptedAgent('csrf-free') },
      });
      expect(res.status, res.text).toBe(201);
    });
  });

  describe('rate limiting', () => {
    it('blocks an address after repeated wrong passwords (429, Retry-After) and signals it', async () => {
      const from = freshAddress();
      const attempt = (password: string) =>
        send(server.url, 'POST', '/v1/auth/login', {
          headers: { origin: server.url },
          body: { email: 'ada@example.com', password },
          from,
        });
      for (let i = 0; i < 3; i++)
        expectProblem(await attempt('wrong password'), 401, 'auth.invalid_credentials');
      for (const password of ['wrong password', PASSWORD]) {
        const blocked = await attempt(password);
        expectProblem(blocked, 429, 'auth.rate_limited');
        const retryAfter = Number(blocked.headers['retry-after']);
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(problem(blocked).retryAfterMs).toBeGreaterThan(0);
        expect(setCookies(blocked)).toEqual([]);
      }
      // Another address is not affected, and neither is the account.
      await logIn(server, 'ada@example.com', freshAddress());

      const signals = await instanceSignals(server, operator.cookie);
      const burst = signals.filter((s) => s.kind === 'auth.failure_burst' && s.ip === from);
      expect(burst).toHaveLength(1);
      expect(burst[0]).toMatchObject({ severity: 'warning', details: { failures: 3 } });
    });

    it('blocks an account after failures spread over many addresses', async () => {
      await signUp(server, 'dora@example.com');
      for (let i = 0; i < 10; i++) {
        const res = await send(server.url, 'POST', '/v1/auth/login', {
          headers: { origin: server.url },
          body: { email: 'dora@example.com', password: `guess number ${i}` },
          from: freshAddress(),
        });
        expectProblem(res, 401, 'auth.invalid_credentials');
      }
      const res = await send(server.url, 'POST', '/v1/auth/login', {
        headers: { origin: server.url },
        body: { email: 'Dora@example.com', password: PASSWORD },
        from: freshAddress(),
      });
      expectProblem(res, 429, 'auth.rate_limited');
      // Other accounts sign in from that kind of address as usual.
      await logIn(server, 'bob@example.com', freshAddress());
    });

    it('refuses bad bearer tokens from an address with 429, before the database', async () => {
      const from = freshAddress();
      const good = await mintToken(ada, ['workspace:read']);
      const revoked = await mintToken(ada, ['workspace:read']);
      await revokeToken(ada, revoked.info.id);
      const bad = [
        'not-a-token',
        `prl_${'A'.repeat(36)}`, // wrong checksum
        revoked.token,
      ];
      for (const token of bad) {
        const res = await send(server.url, 'GET', '/v1/me', { token, from });
        expectProblem(res, 401, 'auth.invalid_token');
      }
      const lookups = vi.spyOn(server.store.system, 'authenticateApiToken');
      try {
        for (const token of [bad[0]!, good.token]) {
          const res = await send(server.url, 'GET', '/v1/me', { token, from });
          expectProblem(res, 429, 'auth.rate_limited');
          expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        }
        expect(lookups).not.toHaveBeenCalled();
        // The same token from elsewhere is fine.
        const ok = await send(server.url, 'GET', '/v1/me', {
          token: good.token,
          from: freshAddress(),
        });
        expect(ok.status, ok.text).toBe(200);
        expect(lookups).toHaveBeenCalledTimes(1);
      } finally {
        lookups.mockRestore();
      }
      const signals = await instanceSignals(server, operator.cookie);
      expect(signals.filter((s) => s.kind === 'auth.failure_burst' && s.ip === from)).toHaveLength(
        1,
      );
      // The revoked token's own workspace hears about it being used.
      const stale = await workspaceSignals(server, ada, 'token.stale_use');
      expect(stale.find((s) => s.actorId === revoked.info.id)).toMatchObject({
        ip: from,
        details: { reason: 'revoked' },
      });
    });
  });

  // ── API tokens ──────────────────────────────────────────────────────────────────────────

  async function mintToken(
    as: SignedIn,
    scopes: string[],
    extra: Record<string, unknown> = {},
  ): Promise<CreatedToken> {
    const res = await send(server.url, 'POST', `/v1/workspaces/${ada.workspaceId}/tokens`, {
      cookie: as.cookie,
      headers: { origin: server.url },
      body: { name: `token ${scopes.join(' ')}`, scopes, ...extra },
    });
    expect(res.status, res.text).toBe(201);
    return res.json<CreatedToken>();
  }

  async function revokeToken(as: SignedIn, tokenId: string) {
    const res = await send(
      server.url,
      'DELETE',
      `/v1/workspaces/${ada.workspaceId}/tokens/${tokenId}`,
      { cookie: as.cookie, headers: { origin: server.url } },
    );
    expect(res.status, res.text).toBe(204);
  }

  const tokenMe = async (token: string) => {
    const res = await send(server.url, 'GET', '/v1/me', { token });
    expect(res.status, res.text).toBe(200);
    return res.json<api.Me>();
  };

  const setRole = (as: SendOptions, userId: string, role: string) =>
    send(server.url, 'PUT', `/v1/workspaces/${ada.workspaceId}/members/${userId}/role`, {
      headers: { origin: server.url },
      body: { role },
      ...as,
    });

  describe('API tokens', () => {
    it('shows a new token once; the list never shows it', async () => {
      const created = await mintToken(ada, ['agents:read']);
      expect(created.token).toMatch(/^prl_[0-9A-Za-z]{36}$/);
      expect(created.info).toMatchObject({
        scopes: ['agents:read'],
        createdBy: ada.userId,
        revokedAt: null,
        last4: created.token.slice(-4),
      });
      expect(created.token.startsWith(created.info.prefix)).toBe(true);
      expect(created.info.prefix.length).toBeLessThan(12);
      expect(JSON.stringify(created.info)).not.toContain(created.token.slice(4, 30));

      const list = await send(server.url, 'GET', `/v1/workspaces/${ada.workspaceId}/tokens`, {
        cookie: ada.cookie,
      });
      expect(list.status).toBe(200);
      const tokens = list.json<api.ApiToken[]>();
      expect(tokens.map((t) => t.id)).toContain(created.info.id);
      // No field anywhere holds the secret, or a long piece of it.
      expect(list.text).not.toContain(created.token);
      expect(list.text).not.toContain(created.token.slice(4, 20));
      expect(list.text).not.toContain(created.token.slice(20, 36));
      for (const token of tokens) expect(Object.keys(token)).not.toContain('token');
    });

    it('scopes limit what a token may do', async () => {
      const { token } = await mintToken(ada, ['agents:read']);
      const ws = ada.workspaceId;
      expect((await send(server.url, 'GET', `/v1/workspaces/${ws}/agents`, { token })).status).toBe(
        200,
      );
      const write = await send(server.url, 'POST', `/v1/workspaces/${ws}/agents`, {
        token,
        body: { definition: scriptedAgent('denied') },
      });
      expectProblem(write, 403, 'auth.forbidden');
      expect(problem(write).detail).toContain('agents:write');
      expectProblem(
        await send(server.url, 'GET', `/v1/workspaces/${ws}/tokens`, { token }),
        403,
        'auth.forbidden',
      );
      expect((await tokenMe(token)).token?.permissions).toEqual(['agents:read']);
    });

    it('admin stands for every permission its creator holds (an owner: all)', async () => {
      const { token, info } = await mintToken(ada, ['admin']);
      expect(sorted(info.scopes)).toEqual(sorted(ALL_PERMISSIONS));
      expect((await tokenMe(token)).token?.permissions).toEqual(sorted(ALL_PERMISSIONS));
    });

    it('rejects unknown scopes and lifetimes beyond 366 days', async () => {
      const post = (body: Record<string, unknown>) =>
        send(server.url, 'POST', `/v1/workspaces/${ada.workspaceId}/tokens`, {
          cookie: ada.cookie,
          headers: { origin: server.url },
          body: { name: 'bad', scopes: ['agents:read'], ...body },
        });
      for (const days of [367, 0, 1.5]) {
        const res = await post({ expiresInDays: days });
        expectProblem(res, 400, 'request.invalid');
        expect(problem(res).errors?.map((e) => e.path)).toContain('body.expiresInDays');
      }
      expectProblem(await post({ scopes: ['agents:fly'] }), 400, 'request.invalid');
      const longest = await post({ expiresInDays: 366 });
      expect(longest.status, longest.text).toBe(201);
      const { info } = longest.json<CreatedToken>();
      expect(new Date(info.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 366 * 86_400_000);
      expect(new Date(info.expiresAt).getTime()).toBeGreaterThan(Date.now() + 365 * 86_400_000);
      const fallback = await post({});
      const ninety = new Date(fallback.json<CreatedToken>().info.expiresAt).getTime();
      expect(Math.round((ninety - Date.now()) / 86_400_000)).toBe(90);
    });

    it('a developer may not mint tokens at all, let alone with members:manage', async () => {
      for (const scopes of [['members:manage'], ['agents:read'], ['admin']]) {
        const res = await send(server.url, 'POST', `/v1/workspaces/${ada.workspaceId}/tokens`, {
          cookie: bob.cookie,
          headers: { origin: server.url },
          body: { name: 'mine', scopes },
        });
        expectProblem(res, 403, 'auth.forbidden');
      }
    });

    describe('follows its creator’s role', () => {
      let bobsToken: string;
      let ownersToken: string;

      it('an admin’s `admin` token gets the admin’s permissions, nothing beyond', async () => {
        const promoted = await setRole({ cookie: ada.cookie }, bob.userId, 'admin');
        expect(promoted.status, promoted.text).toBe(200);
        expect(promoted.json()).toMatchObject({ userId: bob.userId, role: 'admin' });

        const beyond = await send(server.url, 'POST', `/v1/workspaces/${ada.workspaceId}/tokens`, {
          cookie: bob.cookie,
          headers: { origin: server.url },
          body: { name: 'too much', scopes: ['agents:read', 'workspace:delete'] },
        });
        expectProblem(beyond, 403, 'auth.forbidden');
        expect(problem(beyond).detail).toContain('workspace:delete');

        const created = await mintToken(bob, ['admin']);
        bobsToken = created.token;
        expect(sorted(created.info.scopes)).toEqual(sorted(ROLE_PERMISSIONS.admin));
        expect((await tokenMe(bobsToken)).token?.permissions).toEqual(
          sorted(ROLE_PERMISSIONS.admin),
        );
      });

      it('an admin’s token cannot make its creator owner (only owners grant ownership)', async () => {
        expectProblem(
          await setRole({ token: bobsToken }, bob.userId, 'owner'),
          403,
          'auth.forbidden',
        );
        expectProblem(
          await setRole({ cookie: bob.cookie }, bob.userId, 'owner'),
          403,
          'auth.forbidden',
        );
        expectProblem(
          await setRole({ token: bobsToken }, ada.userId, 'viewer'),
          403,
          'auth.forbidden',
        );
        const members = await send(server.url, 'GET', `/v1/workspaces/${ada.workspaceId}/members`, {
          cookie: ada.cookie,
        });
        const roles = Object.fromEntries(members.json<Member[]>().map((m) => [m.userId, m.role]));
        expect(roles).toEqual({ [ada.userId]: 'owner', [bob.userId]: 'admin' });
      });

      it('an owner’s token may grant and take ownership', async () => {
        const { token, info } = await mintToken(ada, ['members:manage']);
        const granted = await setRole({ token }, bob.userId, 'owner');
        expect(granted.status, granted.text).toBe(200);
        expect(granted.json()).toMatchObject({ role: 'owner' });
        const taken = await setRole({ token }, bob.userId, 'admin');
        expect(taken.status, taken.text).toBe(200);
        expect(taken.json()).toMatchObject({ role: 'admin' });
        ownersToken = info.id;
      });

      it('narrows at once when its creator is demoted', async () => {
        const ws = ada.workspaceId;
        expect(
          (await send(server.url, 'GET', `/v1/workspaces/${ws}/tokens`, { token: bobsToken }))
            .status,
        ).toBe(200);
        const demoted = await setRole({ cookie: ada.cookie }, bob.userId, 'viewer');
        expect(demoted.status, demoted.text).toBe(200);
        expect((await tokenMe(bobsToken)).token?.permissions).toEqual(
          sorted(ROLE_PERMISSIONS.viewer),
        );
        expectProblem(
          await send(server.url, 'GET', `/v1/workspaces/${ws}/tokens`, { token: bobsToken }),
          403,
          'auth.forbidden',
        );
        expectProblem(
          await send(server.url, 'POST', `/v1/workspaces/${ws}/agents`, {
            token: bobsToken,
            body: { definition: scriptedAgent('after-demotion') },
          }),
          403,
          'auth.forbidden',
        );
        expect(
          (await send(server.url, 'GET', `/v1/workspaces/${ws}/agents`, { token: bobsToken }))
            .status,
        ).toBe(200);
      });

      it('each role change leaves a privilege.change signal', async () => {
        const signals = await workspaceSignals(server, ada, 'privilege.change');
        const roleChanges = signals
          .filter((s) => s.details.change === 'role' && s.details.userId === bob.userId)
          .map((s) => ({ from: s.details.from, to: s.details.to, actor: s.actorId }));
        expect(roleChanges).toEqual(
          expect.arrayContaining([
            { from: 'developer', to: 'admin', actor: ada.userId },
            { from: 'admin', to: 'owner', actor: ownersToken },
            { from: 'owner', to: 'admin', actor: ownersToken },
            { from: 'admin', to: 'viewer', actor: ada.userId },
          ]),
        );
        // The refused attempts left none.
        expect(roleChanges).toHaveLength(4);
      });
    });

    it('a revoked token is refused (401)', async () => {
      const { token, info } = await mintToken(ada, ['workspace:read']);
      expect((await tokenMe(token)).token?.id).toBe(info.id);
      await revokeToken(ada, info.id);
      const res = await send(server.url, 'GET', '/v1/me', { token, from: freshAddress() });
      expectProblem(res, 401, 'auth.invalid_token');
      expect(problem(res).detail).toMatch(/revoked/);
      const list = await send(server.url, 'GET', `/v1/workspaces/${ada.workspaceId}/tokens`, {
        cookie: ada.cookie,
      });
      expect(list.json<api.ApiToken[]>().find((t) => t.id === info.id)?.revokedAt).not.toBeNull();
    });

    it('an expired token is refused (401)', async () => {
      const expiresAt = new Date(Date.now() + 1_000);
      const { token } = await server.store.withWorkspace(ada.workspaceId, (ws) =>
        ws.apiTokens.create({
          name: 'short-lived',
          scopes: ['workspace:read'],
          createdBy: ada.userId,
          expiresAt,
        }),
      );
      while (Date.now() <= expiresAt.getTime() + 50)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const res = await send(server.url, 'GET', '/v1/me', { token, from: freshAddress() });
      expectProblem(res, 401, 'auth.invalid_token');
      expect(problem(res).detail).toMatch(/expired/);
    });

    it('a token cannot sign out or act as a person', async () => {
      const { token } = await mintToken(ada, ['admin']);
      expectProblem(
        await send(server.url, 'POST', '/v1/auth/logout', { token }),
        403,
        'auth.forbidden',
      );
      expectProblem(
        await send(server.url, 'POST', '/v1/workspaces', { token, body: { name: 'nope' } }),
        403,
        'auth.forbidden',
      );
    });
  });

  // ── Security signals ────────────────────────────────────────────────────────────────────

  describe('security signals', () => {
    it('token.new_address when a token is used from a second address', async () => {
      const { token, info } = await mintToken(ada, ['workspace:read']);
      const first = freshAddress();
      const second = freshAddress();
      for (const from of [first, first, second]) {
        const res = await send(server.url, 'GET', '/v1/me', { token, from });
        expect(res.status, res.text).toBe(200);
      }
      const mine = (await workspaceSignals(server, ada, 'token.new_address')).filter(
        (s) => s.actorId === info.id,
      );
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ ip: second, actorType: 'token', severity: 'info' });
      const list = await send(server.url, 'GET', `/v1/workspaces/${ada.workspaceId}/tokens`, {
        cookie: ada.cookie,
      });
      expect(list.json<api.ApiToken[]>().find((t) => t.id === info.id)?.lastUsedIp).toBe(second);
    });

    it('workspace.cross_probe once a token keeps asking for another workspace', async () => {
      const { token, info } = await mintToken(ada, ['agents:read']);
      const probe = async () => {
        const res = await send(server.url, 'GET', `/v1/workspaces/${bob.workspaceId}/agents`, {
          token,
        });
        expectProblem(res, 404, 'resource.not_found');
      };
      await probe();
      await probe();
      const below = await workspaceSignals(server, ada, 'workspace.cross_probe');
      expect(below.filter((s) => s.actorId === info.id)).toEqual([]);
      await probe();
      await probe();
      const signals = (await workspaceSignals(server, ada, 'workspace.cross_probe')).filter(
        (s) => s.actorId === info.id,
      );
      expect(signals).toHaveLength(1);
      expect(signals[0]).toMatchObject({
        actorType: 'token',
        severity: 'warning',
        details: { misses: 3, lastTarget: bob.workspaceId },
      });
      // Bob's workspace is not told anything about it.
      const bobs = await send(
        server.url,
        'GET',
        `/v1/workspaces/${bob.workspaceId}/security-signals`,
        { cookie: bob.cookie },
      );
      expect(bobs.json<SecuritySignal[]>().filter((s) => s.actorId === info.id)).toEqual([]);
    });

    it('a person probing other workspaces is an instance signal, for operators only', async () => {
      const mallory = await signUp(server, 'mallory@example.com');
      for (let i = 0; i < 3; i++) {
        const res = await send(server.url, 'GET', `/v1/workspaces/${ada.workspaceId}`, {
          cookie: mallory.cookie,
        });
        expectProblem(res, 404, 'resource.not_found');
      }
      const signals = await instanceSignals(server, operator.cookie);
      expect(
        signals.filter((s) => s.kind === 'workspace.cross_probe' && s.actorId === mallory.userId),
      ).toHaveLength(1);
      expectProblem(
        await send(server.url, 'GET', '/v1/instance/security-signals', { cookie: ada.cookie }),
        403,
        'auth.forbidden',
      );
    });
  });

  it('a local session is refused in multi-user mode', async () => {
    const res = await send(server.url, 'POST', '/v1/auth/local', {
      headers: { origin: server.url },
    });
    expectProblem(res, 403, 'auth.forbidden');
    expect(setCookies(res)).toEqual([]);
  });
});

// ── Closed sign-up, behind a TLS proxy ───────────────────────────────────────────────────

describe('multi-user mode, sign-up closed, behind a TLS proxy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { PARLEY_MULTI_USER: '1', PARLEY_SIGNUP: '0', PARLEY_BEHIND_TLS_PROXY: '1' },
    });
    await server.store.system.users.create({
      email: 'tess@example.com',
      displayName: 'Tess',
      passwordHash: await hashPassword(PASSWORD),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses sign-up with auth.signup_closed', async () => {
    const res = await send(server.url, 'POST', '/v1/auth/signup', {
      body: { email: 'new@example.com', password: PASSWORD },
    });
    expectProblem(res, 403, 'auth.signup_closed');
    expect(await server.store.system.users.findByEmail('new@example.com')).toBeNull();
  });

  it('sets a Secure __Host- cookie, and reads only that one', async () => {
    const res = await send(server.url, 'POST', '/v1/auth/login', {
      headers: { 'x-forwarded-proto': 'https' },
      body: { email: 'tess@example.com', password: PASSWORD },
    });
    expect(res.status, res.text).toBe(200);
    const { name, value, attributes } = cookieAttributes(res);
    expect(name).toBe('__Host-parley_session');
    expect(attributes).toEqual(
      expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']),
    );
    // __Host- cookies may not name a domain.
    expect(attributes.some((a) => a.toLowerCase().startsWith('domain='))).toBe(false);

    const me = await send(server.url, 'GET', '/v1/me', { cookie: `${name}=${value}` });
    expect(me.json()).toMatchObject({ auth: 'session', user: { email: 'tess@example.com' } });
    expectProblem(
      await send(server.url, 'GET', '/v1/me', { cookie: `parley_session=${value}` }),
      401,
      'auth.required',
    );

    const host = new URL(server.url).host;
    const out = await send(server.url, 'POST', '/v1/auth/logout', {
      cookie: `${name}=${value}`,
      headers: { origin: `https://${host}`, 'x-forwarded-proto': 'https' },
    });
    expect(out.status, out.text).toBe(204);
    const cleared = cookieAttributes(out);
    expect(cleared.name).toBe('__Host-parley_session');
    expect(cleared.attributes).toEqual(expect.arrayContaining(['Secure', 'Max-Age=0']));
    expectProblem(
      await send(server.url, 'GET', '/v1/me', { cookie: `${name}=${value}` }),
      401,
      'auth.required',
    );
  });
});

// ── Single-user mode: the local session ───────────────────────────────────────────────────

describe('single-user mode', () => {
  let server: TestServer;
  let port: string;
  beforeAll(async () => {
    server = await startTestServer();
    port = new URL(server.url).port;
  });
  afterAll(async () => {
    await server?.close();
  });

  const local = (headers: Record<string, string>) =>
    send(server.url, 'POST', '/v1/auth/local', { headers });

  it('gives a browser on this machine a session for the owner', async () => {
    for (const origin of [server.url, `http://localhost:${port}`]) {
      const res = await local({ origin, host: new URL(origin).host });
      expect(res.status, res.text).toBe(200);
      const session = res.json<SessionResponse>();
      expect(session.user.id).toBe(server.ownerId);
      expect(session.workspaces.map((w) => w.id)).toEqual([server.workspaceId]);
      const me = await send(server.url, 'GET', '/v1/me', { cookie: cookieOf(res) });
      expect(me.json()).toMatchObject({
        mode: 'single-user',
        auth: 'session',
        operator: true,
        user: { id: server.ownerId },
      });
    }
  });

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }, 'auth.csrf'],
    ['no Origin and no Sec-Fetch-Site', {}, 'auth.csrf'],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, 'auth.csrf'],
  ])('refuses %s', async (_, headers: Record<string, string>, code) => {
    const res = await local(headers);
    expectProblem(res, 403, code);
    expect(setCookies(res)).toEqual([]);
  });

  it.each(['evil.example', '127.evil.example', '127.0.0.1.nip.example', 'localhost.evil.example'])(
    'refuses a non-loopback Host header (%s: DNS rebinding), even with a matching Origin',
    async (name) => {
      const host = `${name}:${port}`;
      const res = await local({ host, origin: `http://${host}` });
      expectProblem(res, 403, 'auth.forbidden');
      expect(setCookies(res)).toEqual([]);
    },
  );

  it('refuses a peer beyond loopback', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/auth/local',
      remoteAddress: '203.0.113.9',
      headers: { host: `127.0.0.1:${port}`, origin: server.url },
    });
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json()).toMatchObject({ code: 'auth.forbidden' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('has no sign-up', async () => {
    const res = await send(server.url, 'POST', '/v1/auth/signup', {
      headers: { origin: server.url },
      body: { email: 'someone@example.com', password: PASSWORD },
    });
    expectProblem(res, 403, 'auth.signup_closed');
  });
});

describe('single-user mode with PARLEY_REQUIRE_TOKEN=1', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PARLEY_REQUIRE_TOKEN: '1' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('gives no local session; the token still works', async () => {
    const res = await send(server.url, 'POST', '/v1/auth/local', {
      headers: { origin: server.url },
    });
    expectProblem(res, 403, 'auth.forbidden');
    expect(setCookies(res)).toEqual([]);
    const me = await send(server.url, 'GET', '/v1/me', { token: server.token });
    expect(me.json()).toMatchObject({ auth: 'token', token: { workspaceId: server.workspaceId } });
  });
});

// ── Passwords ─────────────────────────────────────────────────────────────────────────────

describe('passwords', () => {
  it('hashes to an Argon2id PHC string with a fresh salt', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(PASSWORD);
  });

  it('verifies the right password only', async () => {
    const hash = await hashPassword(PASSWORD);
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
    expect(await verifyPassword(`${PASSWORD} `, hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await verifyPassword(PASSWORD, await hashPassword('something else'))).toBe(false);
  });

  it('verifies hashes made with other parameters (they are in the string)', async () => {
    const hash = await hashPassword(PASSWORD);
    const [, , , , salt] = hash.split('$');
    const { argon2Sync } = await import('node:crypto');
    const tag = argon2Sync('argon2id', {
      message: PASSWORD,
      nonce: Buffer.from(salt!, 'base64'),
      memory: 8_192,
      passes: 1,
      parallelism: 1,
      tagLength: 32,
    })
      .toString('base64')
      .replace(/=+$/, '');
    const weaker = `$argon2id$v=19$m=8192,t=1,p=1$${salt}$${tag}`;
    expect(await verifyPassword(PASSWORD, weaker)).toBe(true);
    expect(await verifyPassword('wrong', weaker)).toBe(false);
    expect(needsRehash(weaker)).toBe(true);
    expect(needsRehash(hash)).toBe(false);
  });

  it('answers false, never throws, for a malformed hash', async () => {
    const hash = await hashPassword(PASSWORD);
    const [, , , , salt, tag] = hash.split('$');
    const malformed = [
      '',
      PASSWORD,
      'not a hash',
      hash.replace('argon2id', 'argon2i'),
      hash.replace('v=19', 'v=16'),
      `$argon2id$v=19$m=19456,t=2,p=1$${salt}`,
      `$argon2id$v=19$m=19456,t=2,p=1$AAAA$${tag}`, // salt too short for argon2
      `$argon2id$v=19$m=0,t=2,p=1$${salt}$${tag}`,
      `$argon2id$v=19$m=19456,t=0,p=1$${salt}$${tag}`,
      `$argon2id$v=19$m=19456,t=2,p=0$${salt}$${tag}`,
      `$argon2id$v=19$m=19456,t=2,p=1$${salt}$AAAA`, // tag too short
    ];
    for (const bad of malformed)
      await expect(verifyPassword(PASSWORD, bad), bad).resolves.toBe(false);
    // Anything that is not today's kind of hash is replaced at the next sign-in.
    for (const bad of malformed.slice(0, 6)) expect(needsRehash(bad), bad).toBe(true);
  });
});
