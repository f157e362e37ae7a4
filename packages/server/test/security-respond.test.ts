import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type IncomingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { api } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ConfigError, loadConfig } from '../src/config.ts';
import { scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Respond, against real servers: the workspace security report counts exactly what happened
 * in its window; revoking tokens and ending sessions take effect at the next request; nobody
 * outside the workspace reaches any of it (404); master-key rotation re-wraps every data key
 * so that secrets decrypt after a restart with only the new key; a disabled plugin refuses
 * runs (422) and shows as disabled.
 */

// ── HTTP over node:http: a test picks its client address (127.x.y.z) ───────────────────────

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

interface SendOptions {
  body?: unknown;
  cookie?: string;
  token?: string;
  from?: string;
}

function send(base: string, method: string, path: string, options: SendOptions = {}) {
  const url = new URL(path, base);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    origin: base,
    ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(options.cookie ? { cookie: options.cookie } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
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

function expectProblem(res: Res, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.json<api.Problem>().code).toBe(code);
}

const PASSWORD = 'correct horse battery staple';

interface Person {
  cookie: string;
  userId: string;
  workspaceId: string;
}

async function signUp(server: TestServer, email: string): Promise<Person> {
  const res = await send(server.url, 'POST', '/v1/auth/signup', {
    body: { email, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(201);
  const session = res.json<z.infer<typeof api.SessionResponseSchema>>();
  return {
    cookie: res.headers['set-cookie']![0]!.split(';')[0]!,
    userId: session.user.id,
    workspaceId: session.workspaces[0]!.id,
  };
}

async function logIn(server: TestServer, email: string): Promise<string> {
  const res = await send(server.url, 'POST', '/v1/auth/login', {
    body: { email, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(200);
  return res.headers['set-cookie']![0]!.split(';')[0]!;
}

async function createToken(
  server: TestServer,
  as: Person,
  name: string,
  scopes: string[],
  workspaceId = as.workspaceId,
) {
  const res = await send(server.url, 'POST', `/v1/workspaces/${workspaceId}/tokens`, {
    cookie: as.cookie,
    body: { name, scopes },
  });
  expect(res.status, res.text).toBe(201);
  return res.json<{ token: string; info: { id: string } }>();
}

const me = (server: TestServer, options: SendOptions) => send(server.url, 'GET', '/v1/me', options);

interface Report {
  since: string;
  signals: {
    total: number;
    unacknowledged: number;
    byKind: Record<string, number>;
    bySeverity: Record<string, number>;
  };
  audit: Record<string, number> & { byAction: Record<string, number> };
  tokensFromNewAddresses: {
    tokenId: string;
    name: string | null;
    addresses: string[];
    times: number;
  }[];
  topAddresses: { ip: string; auditEvents: number; signals: number }[];
  truncated: boolean;
}

// ── Multi-user: the report, revoking tokens, ending sessions ─────────────────────────────

describe('responding in a workspace (multi-user)', () => {
  let server: TestServer;
  let ada: Person; // owner of the workspace under test
  let bob: Person; // a member: developer, then viewer, then admin
  let eve: Person; // a stranger with a workspace of her own
  let since = '';
  const ws = () => ada.workspaceId;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', env: { PARLEY_MULTI_USER: '1' } });
    ada = await signUp(server, 'ada@example.com');
    bob = await signUp(server, 'bob@example.com');
    eve = await signUp(server, 'eve@example.com');
    const invited = await send(server.url, 'POST', `/v1/workspaces/${ws()}/invitations`, {
      cookie: ada.cookie,
      body: { email: 'bob@example.com', role: 'developer' },
    });
    expect(invited.status, invited.text).toBe(201);
    const accepted = await send(server.url, 'POST', '/v1/invitations/accept', {
      cookie: bob.cookie,
      body: { token: invited.json<{ token: string }>().token },
    });
    expect(accepted.status, accepted.text).toBe(200);
    // The report's window opens here: sign-ups and the invitation stay outside it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    since = new Date().toISOString();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('reports exactly what happened since a time: actions, signals, new addresses, busiest addresses', async () => {
    // Two tokens; one is used from 127.0.0.2, then from 127.0.0.3 (a new address).
    const deployer = await createToken(server, ada, 'deployer', [
      'agents:read',
      'agents:write',
      'agents:deploy',
    ]);
    const spare = await createToken(server, ada, 'spare', ['agents:read']);
    expect((await me(server, { token: deployer.token, from: '127.0.0.2' })).status).toBe(200);
    expect((await me(server, { token: deployer.token, from: '127.0.0.3' })).status).toBe(200);
    const revoked = await send(
      server.url,
      'DELETE',
      `/v1/workspaces/${ws()}/tokens/${spare.info.id}`,
      {
        cookie: ada.cookie,
      },
    );
    expect(revoked.status).toBe(204);
    // A model key written twice and decrypted once by a run.
    for (const value of ['first-scripted-key-000', 'second-scripted-key-00']) {
      const put = await send(server.url, 'PUT', `/v1/workspaces/${ws()}/secrets/SCRIPTED_KEY`, {
        cookie: ada.cookie,
        body: { value },
      });
      expect(put.status, put.text).toBeLessThan(300);
    }
    // Two role changes.
    for (const role of ['viewer', 'admin']) {
      const changed = await send(
        server.url,
        'PUT',
        `/v1/workspaces/${ws()}/members/${bob.userId}/role`,
        {
          cookie: ada.cookie,
          body: { role },
        },
      );
      expect(changed.status, changed.text).toBe(200);
    }
    // An agent deployed with the token from 127.0.0.3; it asks the HTTP plugin for a host it
    // may not reach (a denied plugin access).
    const agent = await send(server.url, 'POST', `/v1/workspaces/${ws()}/agents`, {
      token: deployer.token,
      from: '127.0.0.3',
      body: {
        definition: scriptedAgent('fetcher', undefined, {
          model: {
            provider: 'scripted',
            model: 'test',
            apiKeySecret: 'SCRIPTED_KEY',
            script: [
              [{ type: 'tool_call', name: 'http_get', args: { url: 'http://127.0.0.1:9/secret' } }],
              [{ type: 'text', text: 'Could not fetch it.' }],
            ],
          },
          plugins: [{ name: '@parley/plugin-http', config: { allow: ['example.com'] } }],
        }),
        deploy: true,
      },
    });
    expect(agent.status, agent.text).toBe(201);
    const run = await fetch(`${server.url}/v1/workspaces/${ws()}/agents/fetcher/runs`, {
      method: 'POST',
      headers: {
        cookie: ada.cookie,
        origin: server.url,
        accept: 'application/json',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ input: 'Fetch it.' }),
    });
    expect(run.status, await run.clone().text()).toBe(200);
    expect(await run.json()).toMatchObject({ outcome: 'run.finish' });
    await server.app.services.detector.flush();

    const res = await send(
      server.url,
      'GET',
      `/v1/workspaces/${ws()}/security/report?since=${encodeURIComponent(since)}`,
      { cookie: ada.cookie },
    );
    expect(res.status, res.text).toBe(200);
    const report = res.json<Report>();
    expect(report.since).toBe(since);
    expect(report.audit).toMatchObject({
      tokensCreated: 2,
      tokensRevoked: 1,
      secretWrites: 2,
      secretDecrypts: 1,
      roleChanges: 2,
      membersAdded: 0,
      membersRemoved: 0,
      pluginDenials: 1,
      denied: 1,
    });
    expect(report.audit.byAction).toMatchObject({
      'token.create': 2,
      'token.revoke': 1,
      'secret.create': 1,
      'secret.update': 1,
      'secret.decrypt': 1,
      'member.role_change': 2,
      'agent.deploy': 1,
      'plugin.denied': 1,
    });
    expect(report.audit.byAction['invitation.accept']).toBeUndefined();
    expect(report.signals).toEqual({
      total: 3,
      unacknowledged: 3,
      byKind: { 'token.new_address': 1, 'privilege.change': 2 },
      bySeverity: { info: 3, warning: 0, critical: 0 },
    });
    expect(report.tokensFromNewAddresses).toEqual([
      expect.objectContaining({
        tokenId: deployer.info.id,
        name: 'deployer',
        addresses: ['127.0.0.3'],
        times: 1,
      }),
    ]);
    // The audit log itself, read independently, holds as many events in the window.
    const audit = await send(server.url, 'GET', `/v1/workspaces/${ws()}/audit?limit=200`, {
      cookie: ada.cookie,
    });
    const inWindow = audit.json<{ at: string; ip: string | null }[]>().filter((e) => e.at >= since);
    expect(report.audit.total).toBe(inWindow.length);
    expect(Object.values(report.audit.byAction).reduce((a, b) => a + b, 0)).toBe(inWindow.length);
    // 127.0.0.3: the deploy and the new-address signal; 127.0.0.1: everything else.
    const fromThree = report.topAddresses.find((a) => a.ip === '127.0.0.3');
    expect(fromThree).toEqual({ ip: '127.0.0.3', auditEvents: 1, signals: 1 });
    expect(report.topAddresses[0]).toMatchObject({
      ip: '127.0.0.1',
      auditEvents: inWindow.filter((e) => e.ip === '127.0.0.1').length,
    });
    expect(report.truncated).toBe(false);

    // A window that starts now is empty.
    const later = await send(
      server.url,
      'GET',
      `/v1/workspaces/${ws()}/security/report?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      { cookie: ada.cookie },
    );
    expect(later.json<Report>().audit.total).toBe(0);
    expect(later.json<Report>().signals.total).toBe(0);
  });

  it('shows the report to no one outside the workspace, and not to roles without audit:read', async () => {
    const path = `/v1/workspaces/${ws()}/security/report`;
    expectProblem(
      await send(server.url, 'GET', path, { cookie: eve.cookie }),
      404,
      'resource.not_found',
    );
    expectProblem(
      await send(server.url, 'GET', `/v1/workspaces/${randomUUID()}/security/report`, {
        cookie: ada.cookie,
      }),
      404,
      'resource.not_found',
    );
    const viewer = await signUp(server, 'vic@example.com');
    const invited = await send(server.url, 'POST', `/v1/workspaces/${ws()}/invitations`, {
      cookie: ada.cookie,
      body: { email: 'vic@example.com', role: 'viewer' },
    });
    await send(server.url, 'POST', '/v1/invitations/accept', {
      cookie: viewer.cookie,
      body: { token: invited.json<{ token: string }>().token },
    });
    expectProblem(
      await send(server.url, 'GET', path, { cookie: viewer.cookie }),
      403,
      'auth.forbidden',
    );
  });

  it("revokes a member's tokens, then every token, and they stop working at the next request", async () => {
    const adas = [
      await createToken(server, ada, 'ada-1', ['agents:read']),
      await createToken(server, ada, 'ada-2', ['runs:read']),
    ];
    // Bob is an admin now: he may create tokens.
    const bobs = [await createToken(server, bob, 'bob-1', ['agents:read'], ws())];
    const eves = await createToken(server, eve, 'eve-1', ['agents:read']);
    // Every token has been checked (and so cached) just before.
    for (const t of [...adas, ...bobs, eves])
      expect((await me(server, { token: t.token })).status).toBe(200);

    const onlyBob = await send(
      server.url,
      'POST',
      `/v1/workspaces/${ws()}/security/revoke-tokens`,
      {
        cookie: ada.cookie,
        body: { userId: bob.userId },
      },
    );
    expect(onlyBob.status, onlyBob.text).toBe(200);
    expect(onlyBob.json()).toEqual({
      revoked: 1,
      tokenIds: [bobs[0]!.info.id],
      userId: bob.userId,
      ownersTokensKept: 0,
    });
    expectProblem(await me(server, { token: bobs[0]!.token }), 401, 'auth.invalid_token');
    for (const t of adas) expect((await me(server, { token: t.token })).status).toBe(200);

    // A stranger cannot, and learns nothing.
    expectProblem(
      await send(server.url, 'POST', `/v1/workspaces/${ws()}/security/revoke-tokens`, {
        cookie: eve.cookie,
        body: { all: true },
      }),
      404,
      'resource.not_found',
    );
    for (const t of adas) expect((await me(server, { token: t.token })).status).toBe(200);

    // An empty POST revokes nothing: "all" is said in so many words.
    for (const body of [undefined, {}, { all: false }, { all: true, userId: bob.userId }]) {
      expectProblem(
        await send(server.url, 'POST', `/v1/workspaces/${ws()}/security/revoke-tokens`, {
          cookie: ada.cookie,
          ...(body ? { body } : {}),
        }),
        400,
        'request.invalid',
      );
    }
    for (const t of adas) expect((await me(server, { token: t.token })).status).toBe(200);
    // Every active token of the workspace (the deployer from the first test too).
    const all = await send(server.url, 'POST', `/v1/workspaces/${ws()}/security/revoke-tokens`, {
      cookie: ada.cookie,
      body: { all: true },
    });
    expect(all.status, all.text).toBe(200);
    expect(all.json<{ revoked: number; tokenIds: string[] }>().tokenIds).toEqual(
      expect.arrayContaining(adas.map((t) => t.info.id)),
    );
    expect(all.json<{ revoked: number }>().revoked).toBe(3);
    for (const t of adas)
      expectProblem(await me(server, { token: t.token }), 401, 'auth.invalid_token');
    // Another workspace's tokens are untouched.
    expect((await me(server, { token: eves.token })).status).toBe(200);
    const again = await send(server.url, 'POST', `/v1/workspaces/${ws()}/security/revoke-tokens`, {
      cookie: ada.cookie,
      body: { all: true },
    });
    expect(again.json()).toMatchObject({ revoked: 0 });

    const audit = await send(
      server.url,
      'GET',
      `/v1/workspaces/${ws()}/audit?action=security.revoke_tokens`,
      { cookie: ada.cookie },
    );
    expect(audit.json<{ metadata: { revoked: number }; targetId: string | null }[]>()).toEqual([
      expect.objectContaining({ metadata: { revoked: 0 } }),
      expect.objectContaining({ metadata: { revoked: 3 }, targetId: null }),
      expect.objectContaining({ metadata: { revoked: 1 }, targetId: bob.userId }),
    ]);
  });

  it("ends a member's sessions: every cookie of theirs stops working; strangers and non-members get 404", async () => {
    const laptop = await logIn(server, 'bob@example.com');
    const phone = await logIn(server, 'bob@example.com');
    for (const cookie of [bob.cookie, laptop, phone])
      expect((await me(server, { cookie })).status).toBe(200);
    const path = `/v1/workspaces/${ws()}/security/end-sessions`;

    // Not a member of the workspace (eve), or nobody at all: 404, and nothing happens.
    expectProblem(
      await send(server.url, 'POST', path, { cookie: ada.cookie, body: { userId: eve.userId } }),
      404,
      'resource.not_found',
    );
    expectProblem(
      await send(server.url, 'POST', path, { cookie: ada.cookie, body: { userId: randomUUID() } }),
      404,
      'resource.not_found',
    );
    expect((await me(server, { cookie: eve.cookie })).status).toBe(200);
    // A stranger asking about this workspace: 404, whoever the target.
    expectProblem(
      await send(server.url, 'POST', path, { cookie: eve.cookie, body: { userId: bob.userId } }),
      404,
      'resource.not_found',
    );
    // An admin may not sign an owner out.
    expectProblem(
      await send(server.url, 'POST', path, { cookie: bob.cookie, body: { userId: ada.userId } }),
      403,
      'auth.forbidden',
    );
    expect((await me(server, { cookie: ada.cookie })).status).toBe(200);
    for (const cookie of [bob.cookie, laptop, phone])
      expect((await me(server, { cookie })).status).toBe(200);

    const ended = await send(server.url, 'POST', path, {
      cookie: ada.cookie,
      body: { userId: bob.userId },
    });
    expect(ended.status, ended.text).toBe(200);
    expect(ended.json()).toEqual({ userId: bob.userId, ended: 3 });
    for (const cookie of [bob.cookie, laptop, phone])
      expectProblem(await me(server, { cookie }), 401, 'auth.required');
    expect((await me(server, { cookie: ada.cookie })).status).toBe(200);
    // Bob signs in again: a new session works.
    expect((await me(server, { cookie: await logIn(server, 'bob@example.com') })).status).toBe(200);

    const audit = await send(
      server.url,
      'GET',
      `/v1/workspaces/${ws()}/audit?action=security.end_sessions`,
      {
        cookie: ada.cookie,
      },
    );
    expect(audit.json()).toEqual([
      expect.objectContaining({ targetType: 'user', targetId: bob.userId, metadata: { ended: 3 } }),
    ]);
  });
});

// ── Single-user: rotating the master key, disabling plugins ───────────────────────────────

/** The local owner's session (single-user mode): the operator of the server. */
async function ownerSession(server: TestServer): Promise<string> {
  const res = await send(server.url, 'POST', '/v1/auth/local');
  expect(res.status, res.text).toBe(200);
  return res.headers['set-cookie']![0]!.split(';')[0]!;
}

const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');

describe('rotating the master key', () => {
  const OLD = key(11);
  const NEW = key(12);
  const VALUE = 'a workspace secret that must survive rotation';
  let dataDir = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-rotate-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = (masterKey: string) =>
    startTestServer({
      reuse: { dataDir },
      keepDatabase: true,
      env: { PARLEY_MASTER_KEY: masterKey },
    });

  it('explains what to configure without a new key, re-wraps with one, and secrets decrypt with only the new key', async () => {
    const first = await start(OLD);
    try {
      const put = await send(first.url, 'PUT', `/v1/workspaces/${first.workspaceId}/secrets/KEPT`, {
        token: first.token,
        body: { value: VALUE },
      });
      expect(put.status, put.text).toBe(201);
      // An API token is never the operator.
      expectProblem(
        await send(first.url, 'POST', '/v1/instance/rotate-master-key', { token: first.token }),
        403,
        'auth.forbidden',
      );
      const refused = await send(first.url, 'POST', '/v1/instance/rotate-master-key', {
        cookie: await ownerSession(first),
      });
      expectProblem(refused, 409, 'vault.rotation_needs_new_key');
      expect(refused.json<api.Problem>().detail).toMatch(
        /PARLEY_MASTER_KEY \(v2:<new key>,v1:<current key>\)/,
      );
    } finally {
      await first.close();
    }

    const second = await start(`v2:${NEW},v1:${OLD}`);
    try {
      const before = await second.store.system.vault.status();
      // The first server's workspaces are wrapped by v1 (workspaces made since, by v2).
      const old = before.dataKeysByMasterVersion[1] ?? 0;
      expect(old).toBeGreaterThanOrEqual(1);
      const rotated = await send(second.url, 'POST', '/v1/instance/rotate-master-key', {
        cookie: await ownerSession(second),
      });
      expect(rotated.status, rotated.text).toBe(200);
      const result = rotated.json<{
        version: number;
        rewrappedDataKeys: number;
        workspaces: number;
        configuredVersions: number[];
        next: string;
      }>();
      expect(result).toMatchObject({
        version: 2,
        rewrappedDataKeys: old,
      });
      expect([...result.configuredVersions].sort()).toEqual([1, 2]);
      expect(result.workspaces).toBeGreaterThanOrEqual(1);
      expect(result.next).toMatch(/v2 alone \(remove v1\)/);
      const after = await second.store.system.vault.status();
      expect(after.dataKeysByMasterVersion).toEqual({
        2: old + (before.dataKeysByMasterVersion[2] ?? 0),
      });
    } finally {
      await second.close();
    }

    const third = await start(`v2:${NEW}`);
    try {
      const revealed = await third.store.withWorkspace(third.workspaceId, (ws) =>
        ws.secrets.reveal('KEPT', { purpose: 'test' }),
      );
      expect(revealed).toBe(VALUE);
      // Nothing newer to rotate to now.
      expectProblem(
        await send(third.url, 'POST', '/v1/instance/rotate-master-key', {
          cookie: await ownerSession(third),
        }),
        409,
        'vault.rotation_needs_new_key',
      );
    } finally {
      await third.close();
    }
  });
});

describe('disabling a plugin', () => {
  let server: TestServer;
  let cookie = '';
  const HTTP = '@parley/plugin-http';
  const BASICS = '@parley/plugin-basics';
  const pluginPath = (name: string, action: string) =>
    `/v1/instance/plugins/${encodeURIComponent(name)}/${action}`;

  const runOf = (agent: string) =>
    send(server.url, 'POST', `/v1/workspaces/${server.workspaceId}/agents/${agent}/runs`, {
      token: server.token,
      body: { input: 'hello' },
    });
  /** The installed plugins an operator disabled (the catalog grows; the others stay on). */
  const plugins = async () =>
    (await send(server.url, 'GET', '/v1/plugins', { token: server.token }))
      .json<{ name: string; disabled: boolean }[]>()
      .filter((p) => p.disabled)
      .map((p) => p.name);

  beforeAll(async () => {
    server = await startTestServer({
      engine: 'postgres',
      env: { PARLEY_DISABLED_PLUGINS: HTTP },
    });
    cookie = await ownerSession(server);
    for (const [name, plugin] of [
      ['web', { name: HTTP, config: { allow: ['example.com'] } }],
      ['calc', { name: BASICS }],
    ] as const) {
      const created = await send(
        server.url,
        'POST',
        `/v1/workspaces/${server.workspaceId}/agents`,
        {
          token: server.token,
          body: { definition: scriptedAgent(name, undefined, { plugins: [plugin] }), deploy: true },
        },
      );
      expect(created.status, created.text).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses runs of agents that use a plugin disabled at start (422, naming it), and lists it as disabled', async () => {
    const refused = await runOf('web');
    expectProblem(refused, 422, 'agent.unavailable');
    expect(refused.json<api.Problem>().detail).toContain(HTTP);
    expect((await runOf('calc')).status).toBe(200);
    expect(await plugins()).toEqual([HTTP]);
  });

  it('lets the operator switch plugins on and off at runtime; nobody else', async () => {
    expectProblem(
      await send(server.url, 'POST', pluginPath(HTTP, 'enable'), { token: server.token }),
      403,
      'auth.forbidden',
    );
    expectProblem(await send(server.url, 'POST', pluginPath(HTTP, 'enable')), 401, 'auth.required');
    const enabled = await send(server.url, 'POST', pluginPath(HTTP, 'enable'), { cookie });
    expect(enabled.status, enabled.text).toBe(200);
    expect(enabled.json()).toEqual({ name: HTTP, disabled: false, disabledPlugins: [] });
    expect((await runOf('web')).status).toBe(200);

    const disabled = await send(server.url, 'POST', pluginPath(BASICS, 'disable'), { cookie });
    expect(disabled.json()).toEqual({ name: BASICS, disabled: true, disabledPlugins: [BASICS] });
    const refused = await runOf('calc');
    expectProblem(refused, 422, 'agent.unavailable');
    expect(refused.json<api.Problem>().detail).toContain(BASICS);
    expect(await plugins()).toEqual([BASICS]);

    expectProblem(
      await send(server.url, 'POST', pluginPath('@parley/plugin-nope', 'disable'), { cookie }),
      404,
      'resource.not_found',
    );
  });

  it('validates PARLEY_DISABLED_PLUGINS: installed plugins only', () => {
    expect(
      loadConfig({ PARLEY_DISABLED_PLUGINS: ` ${HTTP} , ${BASICS},${HTTP}` }).disabledPlugins,
    ).toEqual([HTTP, BASICS]);
    expect(loadConfig({}).disabledPlugins).toEqual([]);
    expect(() => loadConfig({ PARLEY_DISABLED_PLUGINS: '@parley/plugin-htp' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ PARLEY_DISABLED_PLUGINS: '@parley/plugin-htp' })).toThrow(
      /PARLEY_DISABLED_PLUGINS must name installed plugins/,
    );
  });
});
