import { checkConformance, readParleyEvents } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
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
