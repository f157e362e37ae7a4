import { checkConformance, readParleyEvents } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  ENGINES,
  scriptedAgent,
  startTestServer,
  type TestServer,
} from './support/harness.ts';

describe.each(ENGINES)('smoke [%s]', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('creates an agent and streams a conformant run', async () => {
    const call = client(server.url, server.token);
    const ws = server.workspaceId;
    const created = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent('echo'),
      deploy: true,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const res = await call('POST', `/v1/workspaces/${ws}/agents/echo/runs`, {
      input: 'hello there',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = [];
    for await (const e of readParleyEvents(res.body!)) events.push(e);
    expect(checkConformance(events)).toEqual([]);
    expect(events.at(-1)?.type).toBe('run.finish');
  });
});

describe('smoke, multi-user', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PARLEY_MULTI_USER: '1' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('signs up, uses the session cookie, mints a token and uses it', async () => {
    const origin = server.url;
    const signup = await fetch(`${server.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery' }),
    });
    expect(signup.status, await signup.clone().text()).toBe(201);
    const cookie = signup.headers.get('set-cookie')!.split(';')[0]!;
    const session = (await signup.json()) as { workspaces: { id: string }[] };
    const ws = session.workspaces[0]!.id;
    const me = await fetch(`${server.url}/v1/me`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ auth: 'session', mode: 'multi-user' });
    const token = await fetch(`${server.url}/v1/workspaces/${ws}/tokens`, {
      method: 'POST',
      headers: { cookie, origin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci', scopes: ['agents:read'] }),
    });
    expect(token.status, await token.clone().text()).toBe(201);
    const { token: secret } = (await token.json()) as { token: string };
    const call = client(server.url, secret);
    expect((await call('GET', `/v1/workspaces/${ws}/agents`)).status).toBe(200);
    const denied = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent('x'),
    });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: 'auth.forbidden' });
    const openapi = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as {
      paths: object;
    };
    expect(Object.keys(openapi.paths).length).toBeGreaterThan(30);
  });
});
