import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { isPublicAddress } from '@parley/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicFetch, publicFetch } from '../src/runs/public-fetch.ts';
import { client, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Regression tests for the findings fixed by the 2026-11 security audit
 * (docs/security/audit-2026-11.md):
 *  - A-01 plugins on a multi-user server could reach the server's private network (SSRF);
 *  - A-02 every plugin action was audited as a denial;
 *  - A-03 behind a TLS proxy, a client-written X-Forwarded-For chose the request's address;
 *  - A-04 a single-user server behind a proxy gave a local session to whoever the proxy served.
 */

// ── An "internal" HTTP service on loopback: what the server's network reaches ──────────────

let internal: Server;
let internalPort = 0;
const hits: { method: string; url: string; body: string }[] = [];

beforeAll(async () => {
  internal = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      hits.push({ method: req.method ?? '', url: req.url ?? '', body });
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/internal-only' });
        return res.end();
      }
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        return res.end(gzipSync('compressed internal text'));
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
      res.end(req.method === 'POST' ? `echo:${body}` : 'INTERNAL-METADATA-CREDENTIALS');
    });
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  internalPort = (internal.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => internal.close(resolve));
});

// ── Agents that fetch through the HTTP plugin, tool calls scripted (no model needed) ───────

interface ToolPart {
  kind: string;
  name?: string;
  result?: { ok: boolean; output?: unknown; error?: { message?: string } };
}

function fetchingAgent(name: string, urls: string[], allow: string[]) {
  return {
    name,
    instructions: 'Fetch what you are asked to.',
    memory: { enabled: false, autoExtract: false },
    model: {
      provider: 'scripted',
      model: 'test',
      script: [
        urls.map((url, i) => ({
          type: 'tool_call',
          name: 'http_get',
          id: `call_${i}`,
          args: { url },
        })),
        [{ type: 'text', text: 'Done.' }],
      ],
    },
    plugins: [{ name: '@parley/plugin-http', version: '^0.1.0', config: { allow } }],
  };
}

type Call = ReturnType<typeof client>;

async function deployAndRun(call: Call, ws: string, definition: { name: string }) {
  const deployed = await call('POST', `/v1/workspaces/${ws}/agents`, { definition, deploy: true });
  expect(deployed.status, await deployed.clone().text()).toBe(201);
  const run = await call(
    'POST',
    `/v1/workspaces/${ws}/agents/${definition.name}/runs`,
    { input: 'go' },
    { accept: 'application/json' },
  );
  expect(run.status, await run.clone().text()).toBe(200);
  const body = (await run.json()) as { run: { id: string }; parts: ToolPart[] };
  return { runId: body.run.id, tools: body.parts.filter((p) => p.kind === 'tool_call') };
}

interface AuditRow {
  action: string;
  outcome: string;
  targetId: string | null;
  runId: string | null;
  metadata: { resource?: string };
}

async function auditOf(call: Call, ws: string, runId: string) {
  const res = await call('GET', `/v1/workspaces/${ws}/audit?limit=100`);
  expect(res.status).toBe(200);
  return ((await res.json()) as AuditRow[]).filter((a) => a.runId === runId);
}

/** A cookie-authenticated caller of a multi-user server, after sign-up. */
async function signUp(server: TestServer, email: string): Promise<{ call: Call; ws: string }> {
  const res = await fetch(`${server.url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify({ email, password: 'a-long-enough-password' }),
  });
  expect(res.status).toBe(201);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const ws = ((await res.json()) as { workspaces: { id: string }[] }).workspaces[0]!.id;
  const withCookie: Call = (method, path, body, headers = {}) =>
    client(server.url)(method, path, body, { cookie, origin: server.url, ...headers });
  return { call: withCookie, ws };
}

describe('plugins and the network', () => {
  let single: TestServer;
  let multi: TestServer;
  beforeAll(async () => {
    single = await startTestServer();
    multi = await startTestServer({ env: { PARLEY_MULTI_USER: '1' } });
  });
  afterAll(async () => {
    await single?.close();
    await multi?.close();
  });

  it('A-02: audits a plugin request as plugin.network_request and only a refusal as plugin.denied', async () => {
    const call = client(single.url, single.token);
    const { runId, tools } = await deployAndRun(
      call,
      single.workspaceId,
      fetchingAgent(
        'audited',
        [`http://127.0.0.1:${internalPort}/allowed`, 'http://undeclared.example/'],
        [`127.0.0.1:${internalPort}`],
      ),
    );
    expect(tools.map((t) => t.result?.ok)).toEqual([true, false]);
    const audit = await auditOf(call, single.workspaceId, runId);
    const rows = audit.map((a) => [a.action, a.outcome, a.metadata.resource]);
    expect(rows).toContainEqual(['plugin.network_request', 'ok', `127.0.0.1:${internalPort}`]);
    expect(rows).toContainEqual(['plugin.denied', 'denied', 'undeclared.example']);
    // The allowed request is not a denial, and nothing else was denied.
    expect(audit.filter((a) => a.outcome === 'denied')).toHaveLength(1);
    expect(audit.every((a) => a.targetId === '@parley/plugin-http')).toBe(true);
  });

  it('A-01: a single-user server lets its one user fetch from this machine (they own it)', async () => {
    const before = hits.length;
    const { tools } = await deployAndRun(
      client(single.url, single.token),
      single.workspaceId,
      fetchingAgent(
        'local-ok',
        [`http://localhost:${internalPort}/local`],
        [`localhost:${internalPort}`],
      ),
    );
    expect(tools[0]?.result?.ok).toBe(true);
    expect(hits.length).toBe(before + 1);
  });

  it('A-01: on a multi-user server a member cannot make the server fetch private addresses', async () => {
    const { call, ws } = await signUp(multi, 'ssrf@example.com');
    const before = hits.length;
    const urls = [
      `http://127.0.0.1:${internalPort}/latest/meta-data/`, // an address
      `http://localhost:${internalPort}/latest/meta-data/`, // a name that resolves to loopback
      `http://127.1:${internalPort}/`, // short IPv4 form
    ];
    const { runId, tools } = await deployAndRun(
      call,
      ws,
      fetchingAgent('ssrf', urls, [`127.0.0.1:${internalPort}`, `localhost:${internalPort}`]),
    );
    expect(hits.length, 'the internal service was reached').toBe(before);
    expect(tools).toHaveLength(urls.length);
    for (const tool of tools) {
      expect(tool.result?.ok).toBe(false);
      expect(JSON.stringify(tool.result)).not.toContain('INTERNAL-METADATA-CREDENTIALS');
    }
    expect(JSON.stringify(tools)).toContain('not a public internet address');
    // Each attempt is still audited as the request the plugin made.
    const audit = await auditOf(call, ws, runId);
    expect(audit.filter((a) => a.action === 'plugin.network_request').length).toBeGreaterThan(0);
  });
});

describe('the fetch plugins get on a multi-user server', () => {
  const base = () => `http://127.0.0.1:${internalPort}`;
  /** The same fetch, told that loopback is public: what it does once an address is allowed. */
  const loopbackAllowed = createPublicFetch({ isAllowed: (a) => a === '127.0.0.1' });

  it('tells public addresses from every kind of private one', () => {
    for (const address of [
      '93.184.215.14',
      '1.1.1.1',
      '2606:4700:4700::1111',
      '64:ff9b::5db8:d70e',
    ])
      expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '0.0.0.0',
      '10.1.2.3',
      '100.64.0.1',
      '169.254.169.254',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '198.18.0.1',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::7f00:1',
      '64:ff9b::10.0.0.1',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'ff02::1',
      '2001:db8::1',
      'not-an-address',
      '',
    ])
      expect(isPublicAddress(address), address).toBe(false);
  });

  it('refuses loopback by address and by name, before connecting', async () => {
    const before = hits.length;
    await expect(publicFetch(`${base()}/x`)).rejects.toThrow(/127\.0\.0\.1 is not a public/);
    await expect(publicFetch(`http://localhost:${internalPort}/x`)).rejects.toThrow(
      /localhost resolves to (127\.0\.0\.1|::1), which is not a public/,
    );
    await expect(publicFetch(`http://[::ffff:127.0.0.1]:${internalPort}/x`)).rejects.toThrow(
      /not a public/,
    );
    await expect(publicFetch(`http://0x7f.1:${internalPort}/x`)).rejects.toThrow(/not a public/);
    expect(hits.length).toBe(before);
  });

  it('behaves like fetch once the address is allowed: headers, bodies, gzip, no redirects', async () => {
    const get = await loopbackAllowed(`${base()}/hello`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('text/plain');
    expect(get.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await get.text()).toBe('INTERNAL-METADATA-CREDENTIALS');

    const post = await loopbackAllowed(`${base()}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ q: 1 }),
    });
    expect(await post.text()).toBe('echo:{"q":1}');

    const gz = await loopbackAllowed(`${base()}/gzip`);
    expect(gz.headers.get('content-encoding')).toBeNull();
    expect(await gz.text()).toBe('compressed internal text');

    const redirect = await loopbackAllowed(`${base()}/redirect`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/internal-only');
    expect(hits.at(-1)?.url).toBe('/redirect');

    const head = await loopbackAllowed(`${base()}/head`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    const aborted = new AbortController();
    aborted.abort();
    await expect(loopbackAllowed(`${base()}/x`, { signal: aborted.signal })).rejects.toThrow();
    await expect(loopbackAllowed('file:///etc/passwd')).rejects.toThrow(/not supported/);
  });
});

// ── Behind a TLS proxy ──────────────────────────────────────────────────────────────────────

describe('behind a TLS proxy', () => {
  let proxied: TestServer;
  let plain: TestServer;
  beforeAll(async () => {
    proxied = await startTestServer({ env: { PARLEY_BEHIND_TLS_PROXY: '1' } });
    plain = await startTestServer();
  });
  afterAll(async () => {
    await proxied?.close();
    await plain?.close();
  });

  /** A request as the proxy (at 10.0.0.2) forwards it. */
  const viaProxy = (
    server: TestServer,
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
  ) => server.app.inject({ method, url, remoteAddress: '10.0.0.2', headers });

  it('A-03: takes the address the proxy appended, not one the client wrote', async () => {
    // nginx's $proxy_add_x_forwarded_for appends the real client to what the client sent.
    const forged = await viaProxy(proxied, 'GET', '/metrics', {
      'x-forwarded-for': '127.0.0.1, 203.0.113.7',
    });
    expect(forged.statusCode, forged.body).toBe(401);
    expect(forged.json()).toMatchObject({ code: 'auth.required' });
    // What the proxy itself says is believed: a client on the proxy's machine.
    const local = await viaProxy(proxied, 'GET', '/metrics', { 'x-forwarded-for': '127.0.0.1' });
    expect(local.statusCode).toBe(200);
    // Audit and signals record the same address.
    const me = await proxied.app.inject({
      method: 'GET',
      url: '/v1/me',
      remoteAddress: '10.0.0.2',
      headers: {
        authorization: `Bearer ${proxied.token}`,
        'x-forwarded-for': '198.51.100.1, 203.0.113.7',
      },
    });
    expect(me.statusCode).toBe(200);
    const [token] = await proxied.store.withWorkspace(proxied.workspaceId, (ws) =>
      ws.apiTokens.list(),
    );
    expect(token?.lastUsedIp).toBe('203.0.113.7');
  });

  it('A-04: gives no local session through a proxy', async () => {
    const port = new URL(proxied.url).port;
    const asLocalBrowser = { origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
    const refused = await proxied.app.inject({
      method: 'POST',
      url: '/v1/auth/local',
      remoteAddress: '127.0.0.1',
      headers: asLocalBrowser,
    });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'auth.forbidden' });
    expect(refused.json().detail).toContain('PARLEY_REQUIRE_TOKEN=1');
    expect(refused.headers['set-cookie']).toBeUndefined();

    // Without PARLEY_BEHIND_TLS_PROXY: a proxy that rewrites Host to ours still adds its headers.
    const plainPort = new URL(plain.url).port;
    const browser = { origin: plain.url, host: `127.0.0.1:${plainPort}` };
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host']) {
      const res = await plain.app.inject({
        method: 'POST',
        url: '/v1/auth/local',
        remoteAddress: '127.0.0.1',
        headers: {
          ...browser,
          [header]: header === 'forwarded' ? 'for=203.0.113.7' : '203.0.113.7',
        },
      });
      expect(res.statusCode, header).toBe(403);
      expect(res.headers['set-cookie'], header).toBeUndefined();
    }
    // The same request straight from a browser on this machine gets its session.
    const ok = await plain.app.inject({
      method: 'POST',
      url: '/v1/auth/local',
      remoteAddress: '127.0.0.1',
      headers: browser,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers['set-cookie']).toBeDefined();
  });
});

describe('sign-up on a multi-user server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { PARLEY_MULTI_USER: '1' },
      tuning: { authFailureLimit: 3 },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('A-16: counts "this email has an account" as a failure, so emails cannot be listed quickly', async () => {
    await signUp(server, 'taken@example.test');
    const again = (email: string) =>
      fetch(`${server.url}/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: server.url },
        body: JSON.stringify({ email, password: 'a-long-enough-password' }),
      });
    for (let i = 0; i < 3; i++) {
      const res = await again('taken@example.test');
      expect(res.status).toBe(409);
      await res.body?.cancel();
    }
    // The address is blocked now: for known and unknown emails alike, so the answer tells nothing.
    for (const email of ['taken@example.test', 'new@example.test']) {
      const res = await again(email);
      expect(res.status).toBe(429);
      expect(((await res.json()) as { code: string }).code).toBe('auth.rate_limited');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});

/** A sign-in attempt from a loopback address of our choosing (127.0.0.0/8 is all ours). */
function logInFrom(server: TestServer, from: string, email: string, password: string) {
  const url = new URL('/v1/auth/login', server.url);
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: { 'content-type': 'application/json', origin: server.url },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ email, password }));
  });
}

describe('sign-in failures spread over addresses', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PARLEY_MULTI_USER: '1' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('A-17: an account blocked after failures from many addresses raises an instance signal naming it', async () => {
    await signUp(server, 'target@example.test');
    for (let i = 0; i < 10; i++)
      expect(await logInFrom(server, `127.0.1.${i + 1}`, 'target@example.test', `guess ${i}`)).toBe(
        401,
      );
    expect(await logInFrom(server, '127.0.1.50', 'target@example.test', 'guess again')).toBe(429);
    await expect
      .poll(async () =>
        (await server.store.system.securitySignals.list()).filter(
          (s) => s.kind === 'auth.failure_burst' && s.details.what === 'account',
        ),
      )
      .toEqual([
        expect.objectContaining({
          severity: 'warning',
          details: {
            failures: 10,
            what: 'account',
            account: 'target@example.test',
            windowSeconds: 900,
          },
        }),
      ]);
  });
});
