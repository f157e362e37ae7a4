import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * The routes the dashboard added: the model key check (one cheap request, made by the server,
 * against a loopback stand-in for the provider), the usage time series behind the TTFT chart,
 * and agents created per new login in the funnel.
 */

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** A provider stand-in: answers every request with `status` and records what it saw. */
async function standIn() {
  const seen: Seen[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    if (status === 302) {
      res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end();
      return;
    }
    // A provider that echoes the key in its error: the check must not pass it on.
    const echoed = String(req.headers.authorization ?? req.headers['x-api-key'] ?? '');
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify({ data: [], error: status === 200 ? null : `bad key ${echoed}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    baseURL: `http://127.0.0.1:${port}/v1`,
    answer(next: number) {
      status = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const KEY = 'sk-local-check-0123456789abcdef';

describe('POST …/agents/:agent/key-check', () => {
  let server: TestServer;
  let provider: Awaited<ReturnType<typeof standIn>>;
  let call: ReturnType<typeof client>;
  const path = (agent: string) => `/v1/workspaces/${server.workspaceId}/agents/${agent}/key-check`;

  beforeAll(async () => {
    [server, provider] = await Promise.all([startTestServer(), standIn()]);
    call = client(server.url, server.token);
    const agents = [
      {
        name: 'compatible',
        model: {
          provider: 'openai-compatible',
          model: 'llama',
          baseURL: provider.baseURL,
          apiKeySecret: 'LOCAL_KEY',
        },
      },
      {
        name: 'claude',
        model: { provider: 'anthropic', model: 'claude-x', baseURL: provider.baseURL },
      },
      {
        name: 'router',
        model: { provider: 'openrouter', model: 'some/model', baseURL: provider.baseURL },
      },
      { name: 'keyless', model: { provider: 'openai', model: 'gpt-x', apiKeySecret: 'NOT_SET' } },
    ];
    for (const { name, model } of agents) {
      const created = await call('POST', `/v1/workspaces/${server.workspaceId}/agents`, {
        definition: { name, instructions: 'x', model },
      });
      expect(created.status, await created.clone().text()).toBe(201);
    }
    await call('POST', `/v1/workspaces/${server.workspaceId}/agents`, {
      definition: scriptedAgent('demo', [[{ type: 'text', text: 'hi' }]]),
    });
    for (const name of ['LOCAL_KEY', 'ANTHROPIC_API_KEY', 'OPENROUTER_API_KEY'])
      await call('PUT', `/v1/workspaces/${server.workspaceId}/secrets/${name}`, { value: KEY });
  });
  afterAll(async () => {
    await Promise.all([server?.close(), provider?.close()]);
  });

  async function check(agent: string) {
    const res = await call('POST', path(agent));
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(text, 'the key never comes back').not.toContain(KEY.slice(8));
    return JSON.parse(text) as {
      agent: string;
      checks: { result: string; httpStatus: number | null; host: string | null; detail: string }[];
    };
  }

  it('sends the key to the model’s host with one GET …/models and says it is accepted', async () => {
    provider.answer(200);
    provider.seen.length = 0;
    const answer = await check('compatible');
    expect(answer.agent).toBe('compatible');
    expect(answer.checks).toEqual([
      {
        provider: 'openai-compatible',
        model: 'llama',
        secret: 'LOCAL_KEY',
        host: new URL(provider.baseURL).host,
        result: 'ok',
        httpStatus: 200,
        detail: expect.stringContaining('accepted LOCAL_KEY'),
      },
    ]);
    expect(provider.seen).toHaveLength(1);
    expect(provider.seen[0]).toMatchObject({ method: 'GET', path: '/v1/models' });
    expect(provider.seen[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('uses x-api-key for Anthropic and GET …/key for OpenRouter', async () => {
    provider.answer(200);
    provider.seen.length = 0;
    expect((await check('claude')).checks[0]!.result).toBe('ok');
    expect(provider.seen[0]!.path).toBe('/v1/models');
    expect(provider.seen[0]!.headers['x-api-key']).toBe(KEY);
    expect(provider.seen[0]!.headers['anthropic-version']).toBeDefined();
    expect(provider.seen[0]!.headers.authorization).toBeUndefined();
    expect((await check('router')).checks[0]!.result).toBe('ok');
    expect(provider.seen[1]!.path).toBe('/v1/key');
  });

  it('tells rejected, rate limited, unexpected and unreachable apart (without the provider’s body)', async () => {
    provider.answer(401);
    const rejected = (await check('compatible')).checks[0]!;
    expect(rejected).toMatchObject({ result: 'rejected', httpStatus: 401 });
    expect(rejected.detail).not.toContain('bad key');
    provider.answer(429);
    expect((await check('compatible')).checks[0]).toMatchObject({
      result: 'rate_limited',
      httpStatus: 429,
    });
    provider.answer(404);
    expect((await check('compatible')).checks[0]).toMatchObject({
      result: 'unexpected',
      httpStatus: 404,
    });
    // A redirect is not followed: the key stays with the host the agent names.
    provider.answer(302);
    provider.seen.length = 0;
    expect((await check('compatible')).checks[0]).toMatchObject({
      result: 'unexpected',
      httpStatus: 302,
    });
    expect(provider.seen).toHaveLength(1);
    provider.answer(200);
  });

  it('answers missing for an unset secret and not_needed for the scripted demo, sending nothing', async () => {
    provider.seen.length = 0;
    expect((await check('keyless')).checks[0]).toMatchObject({
      result: 'missing',
      host: null,
      httpStatus: null,
    });
    expect((await check('demo')).checks[0]).toMatchObject({ result: 'not_needed', host: null });
    expect(provider.seen).toHaveLength(0);
  });

  it('audits each decryption as a key check, and 404s an unknown agent', async () => {
    const audit = (await (
      await call('GET', `/v1/workspaces/${server.workspaceId}/audit?action=secret.decrypt`)
    ).json()) as { targetId: string; metadata: { purpose?: string } }[];
    expect(
      audit.some((e) => e.targetId === 'LOCAL_KEY' && e.metadata.purpose === 'key-check'),
    ).toBe(true);
    expect((await call('POST', path('nobody'))).status).toBe(404);
  });

  it('answers unreachable when nothing listens', async () => {
    const gone = await standIn();
    await gone.close();
    const res = await call('PUT', `/v1/workspaces/${server.workspaceId}/agents/compatible/draft`, {
      definition: {
        name: 'compatible',
        instructions: 'x',
        model: {
          provider: 'openai-compatible',
          model: 'llama',
          baseURL: gone.baseURL,
          apiKeySecret: 'LOCAL_KEY',
        },
      },
    });
    expect(res.status).toBe(200);
    expect((await check('compatible')).checks[0]).toMatchObject({
      result: 'unreachable',
      httpStatus: null,
    });
  });
});

describe('key check in multi-user mode', () => {
  it('refuses to send a key to a host the operator does not allow, even from a stored draft', async () => {
    const [server, provider] = await Promise.all([
      startTestServer({ env: { PARLEY_MULTI_USER: '1' } }),
      standIn(),
    ]);
    try {
      const res = await fetch(`${server.url}/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: server.url },
        body: JSON.stringify({ email: 'keys@example.com', password: 'a-long-enough-password' }),
      });
      const ws = ((await res.json()) as { workspaces: { id: string }[] }).workspaces[0]!.id;
      const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
      // Planted past the API (which refuses it): the check validates the definition again.
      await server.store.withWorkspace(ws, (w) =>
        w.agents.create({
          name: 'planted',
          draft: {
            name: 'planted',
            instructions: 'x',
            model: { provider: 'openai', model: 'gpt-x', baseURL: provider.baseURL },
          },
        }),
      );
      await server.store.withWorkspace(ws, (w) => w.secrets.put('OPENAI_API_KEY', KEY));
      const answer = await fetch(`${server.url}/v1/workspaces/${ws}/agents/planted/key-check`, {
        method: 'POST',
        headers: { cookie, origin: server.url },
      });
      expect(answer.status).toBe(422);
      expect(((await answer.json()) as { code: string }).code).toBe('agent.secret_destination');
      expect(provider.seen).toHaveLength(0);
    } finally {
      await Promise.all([server.close(), provider.close()]);
    }
  });
});

describe('GET …/usage/series and the funnel’s activation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        PARLEY_MULTI_USER: '1',
        PARLEY_OPERATOR_EMAILS: 'op@example.com',
        PARLEY_OPERATOR_CODE: 'dashboard-routes-operator-code',
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function signUp(email: string) {
    const res = await fetch(`${server.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ email, password: 'a-long-enough-password' }),
    });
    expect(res.status).toBe(201);
    const ws = ((await res.json()) as { workspaces: { id: string }[] }).workspaces[0]!.id;
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const send = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: {
          cookie,
          origin: server.url,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    return { ws, send };
  }

  it('buckets runs by hour and day with TTFT percentiles, per provider and model', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const { ws, send } = await signUp('series@example.com');
    const created = await send('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent('charted', [[{ type: 'text', text: 'one two three' }]]),
    });
    expect(created.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const res = await send('POST', `/v1/workspaces/${ws}/agents/charted/runs`, { input: 'go' });
      expect(res.status).toBe(200);
      await res.text();
    }
    for (const bucket of ['hour', 'day'] as const) {
      const res = await send(
        'GET',
        `/v1/workspaces/${ws}/usage/series?bucket=${bucket}&since=${encodeURIComponent(since)}`,
      );
      expect(res.status).toBe(200);
      const series = (await res.json()) as {
        bucket: string;
        points: {
          at: string;
          provider: string;
          model: string;
          runs: number;
          failed: number;
          ttftCount: number;
          ttftP50: number | null;
          ttftP95: number | null;
        }[];
      };
      expect(series.bucket).toBe(bucket);
      const runs = series.points.reduce((n, p) => n + p.runs, 0);
      expect(runs).toBe(3);
      const point = series.points.at(-1)!;
      expect(point).toMatchObject({ provider: 'scripted', model: 'test', failed: 0 });
      expect(point.ttftCount).toBeGreaterThan(0);
      expect(point.ttftP50).not.toBeNull();
      expect(point.ttftP95!).toBeGreaterThanOrEqual(point.ttftP50!);
      const at = new Date(point.at);
      expect(at.getUTCMinutes()).toBe(0);
      if (bucket === 'day') expect(at.getUTCHours()).toBe(0);
      expect(Date.now() - at.getTime()).toBeLessThan(bucket === 'hour' ? 3_600_000 : 86_400_000);
    }
    // Another person's workspace shows none of it.
    const other = await signUp('series-other@example.com');
    const theirs = await other.send('GET', `/v1/workspaces/${other.ws}/usage/series`);
    expect(((await theirs.json()) as { points: unknown[] }).points).toEqual([]);
    expect((await other.send('GET', `/v1/workspaces/${ws}/usage/series`)).status).toBe(404);
    // Hours reach back 31 days at most.
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const refused = await send(
      'GET',
      `/v1/workspaces/${ws}/usage/series?bucket=hour&since=${encodeURIComponent(old)}`,
    );
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe(
      'query.since',
    );
    expect(
      (
        await send(
          'GET',
          `/v1/workspaces/${ws}/usage/series?bucket=day&since=${encodeURIComponent(old)}`,
        )
      ).status,
    ).toBe(200);
  });

  it('counts agents created per new login for operators', async () => {
    // From now on: the other tests' sign-ups came before.
    const since = new Date().toISOString();
    const a = await signUp('maker@example.com');
    await signUp('idle@example.com');
    for (const name of ['first', 'second'])
      expect(
        (
          await a.send('POST', `/v1/workspaces/${a.ws}/agents`, {
            definition: scriptedAgent(name),
          })
        ).status,
      ).toBe(201);
    const op = await signUp('op@example.com');
    // The listed address is confirmed with the one-time code before it is an operator.
    expect(
      (
        await op.send('POST', '/v1/auth/operator/confirm', {
          code: 'dashboard-routes-operator-code',
        })
      ).status,
    ).toBe(200);
    const res = await op.send('GET', `/v1/instance/funnel?since=${encodeURIComponent(since)}`);
    expect(res.status).toBe(200);
    const funnel = (await res.json()) as {
      steps: { step: string; users: number }[];
      activation: Record<string, number | null>;
    };
    expect(funnel.activation).toEqual({
      newUsers: 3,
      agentsCreated: 2,
      usersWithAgent: 1,
      agentsPerNewUser: 2 / 3,
    });
    expect(funnel.steps.find((s) => s.step === 'agent_created')?.users).toBe(1);
    // Not an operator: no funnel.
    expect((await a.send('GET', '/v1/instance/funnel')).status).toBe(403);
  });
});
