import {
  checkConformance,
  createEventStamper,
  encodeEvent,
  type ParleyEvent,
  SSE_HEADERS,
} from '@parley/protocol';
import { ROUTES } from '@parley/server';
import { scriptedAgent, startTestServer, type TestServer } from '@parley/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createParleyClient,
  OPERATIONS,
  OTHER_PROTOCOL_OPERATIONS,
  ParleyApiError,
  ParleyConnectionError,
  RunStream,
} from '../src/index.ts';

describe('coverage of the API', () => {
  it('has a method for every route of the server, and no method for a route that does not exist', () => {
    // Routes of other clients' protocols are for those protocols' SDKs (docs/clients.md).
    const other = new Set(OTHER_PROTOCOL_OPERATIONS);
    const ours = ROUTES.map((r) => r.operationId).filter((id) => !other.has(id));
    expect(Object.keys(OPERATIONS).sort()).toEqual(ours.sort());
    for (const id of other) expect(ROUTES.map((r) => r.operationId)).toContain(id);
    const client = createParleyClient({ baseUrl: 'http://127.0.0.1:1' }) as unknown as Record<
      string,
      unknown
    >;
    for (const [operation, path] of Object.entries(OPERATIONS)) {
      const method = path
        .split('.')
        .reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], client);
      expect(typeof method, `${operation} → ${path}`).toBe('function');
    }
  });
});

/** Cuts the first streaming response after `bytes` bytes, as a dropped connection would. */
function droppingFetch(bytes: number): typeof fetch {
  let dropped = false;
  return async (input, init) => {
    const response = await fetch(input, init);
    const isStream = response.headers.get('content-type')?.startsWith('text/event-stream');
    if (dropped || !isStream || !response.body) return response;
    dropped = true;
    let sent = 0;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        if (sent + value.length > bytes) {
          controller.enqueue(value.subarray(0, bytes - sent));
          await reader.cancel();
          controller.error(new TypeError('terminated: connection reset'));
          return;
        }
        sent += value.length;
        controller.enqueue(value);
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
}

describe('against a real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const parley = createParleyClient({ baseUrl: server.url, token: server.token });
    await parley.agents.create(server.workspaceId, {
      definition: scriptedAgent(
        'talker',
        [
          [
            { type: 'text', text: 'Alpha beta gamma delta epsilon zeta eta theta iota kappa.' },
            { type: 'delay', ms: 30 },
            { type: 'text', text: ' Lambda mu nu xi omicron pi rho sigma tau.' },
          ],
        ],
        {},
      ),
      deploy: true,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('streams a run and folds it into state', async () => {
    const parley = createParleyClient({ baseUrl: server.url, token: server.token });
    const run = await parley.runs.stream(server.workspaceId, 'talker', { input: 'go' });
    const types: string[] = [];
    for await (const event of run) types.push(event.type);
    expect(types[0]).toBe('run.start');
    expect(types.at(-1)).toBe('run.finish');
    expect(run.text).toBe(
      'Alpha beta gamma delta epsilon zeta eta theta iota kappa. Lambda mu nu xi omicron pi rho sigma tau.',
    );
    expect(run.state.status).toBe('finished');
    expect((await parley.runs.get(run.runId)).status).toBe('succeeded');
  });

  it('resumes by itself after the connection drops: every event once, in order', async () => {
    const reconnects: number[] = [];
    const parley = createParleyClient({
      baseUrl: server.url,
      token: server.token,
      fetch: droppingFetch(900),
    });
    const run = await parley.runs.stream(
      server.workspaceId,
      'talker',
      { input: 'go' },
      { reconnectDelayMs: 10, onReconnect: (info) => reconnects.push(info.afterSeq) },
    );
    const events: ParleyEvent[] = [];
    for await (const event of run) events.push(event);
    expect(reconnects).toHaveLength(1);
    expect(reconnects[0]).toBeGreaterThan(0);
    expect(checkConformance(events)).toEqual([]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(run.text).toContain('sigma tau.');
  });

  it('follows an existing run from a seq', async () => {
    const parley = createParleyClient({ baseUrl: server.url, token: server.token });
    const first = await parley.runs.stream(server.workspaceId, 'talker', { input: 'go' });
    const state = await first.finished();
    const tail = parley.runs.follow(first.runId, 3);
    const seen: number[] = [];
    for await (const event of tail) seen.push(event.seq);
    expect(seen[0]).toBe(4);
    expect(seen.at(-1)).toBe(state.lastSeq);
  });

  it('answers JSON runs, and raises typed errors with the stable code', async () => {
    const parley = createParleyClient({ baseUrl: server.url, token: server.token });
    const result = await parley.runs.start(server.workspaceId, 'talker', { input: 'go' });
    expect(result.outcome).toBe('run.finish');
    const missing = await parley.agents.get(server.workspaceId, 'nobody').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ParleyApiError);
    expect(missing).toMatchObject({ status: 404, code: 'resource.not_found' });
    const invalid = await parley.agents
      .create(server.workspaceId, { definition: { name: 'x' } })
      .catch((e: unknown) => e as ParleyApiError);
    expect(invalid).toMatchObject({ status: 422, code: 'agent.invalid_definition' });
    expect(
      (invalid as ParleyApiError).fieldErrors.some((f) => f.path === 'definition.instructions'),
    ).toBe(true);
    const anonymous = createParleyClient({ baseUrl: server.url });
    await expect(anonymous.me()).rejects.toMatchObject({ code: 'auth.required', status: 401 });
    const nowhere = createParleyClient({ baseUrl: 'http://127.0.0.1:9', token: server.token });
    await expect(nowhere.me()).rejects.toBeInstanceOf(ParleyConnectionError);
  });

  it('manages secrets write-only and tokens shown once', async () => {
    const parley = createParleyClient({ baseUrl: server.url, token: server.token });
    const info = await parley.secrets.put(server.workspaceId, 'DEMO_KEY', 'sk-demo-123456789');
    expect(info).toMatchObject({ name: 'DEMO_KEY', last4: '6789' });
    expect(JSON.stringify(await parley.secrets.list(server.workspaceId))).not.toContain('sk-demo');
    const created = await parley.tokens.create(server.workspaceId, {
      name: 'ci',
      scopes: ['agents:read'],
    });
    expect(created.token).toMatch(/^prl_/);
    const listed = await parley.tokens.list(server.workspaceId);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    const narrow = createParleyClient({ baseUrl: server.url, token: created.token });
    expect((await narrow.agents.list(server.workspaceId)).map((a) => a.name)).toContain('talker');
    await expect(narrow.secrets.list(server.workspaceId)).rejects.toMatchObject({
      code: 'auth.forbidden',
    });
    await parley.tokens.revoke(server.workspaceId, created.info.id);
    await expect(narrow.me()).rejects.toMatchObject({ code: 'auth.invalid_token' });
  });
});

describe('a run whose server died before storing what it showed', () => {
  it('drops the lost output at the run.gap the next server sends: state is what the run kept', async () => {
    const stamper = createEventStamper({ runId: 'r' });
    const shown = [
      stamper.stamp({ type: 'run.start', agentId: 'a', startedAt: new Date().toISOString() }),
      stamper.stamp({ type: 'step.start', stepIndex: 0, provider: 'p', model: 'm', attempt: 1 }),
      stamper.stamp({ type: 'text.start', partId: 't' }),
      stamper.stamp({ type: 'text.delta', partId: 't', delta: 'kept ' }),
      stamper.stamp({ type: 'text.delta', partId: 't', delta: 'lost' }),
    ];
    const base = { v: 1 as const, runId: 'r', t: shown.at(-1)!.t + 1 };
    const closing: ParleyEvent[] = [
      { ...base, seq: 1_005, type: 'run.gap', afterSeq: 4 },
      { ...base, seq: 1_006, type: 'run.abort', reason: 'shutdown', by: 'server' },
    ];
    // The first server's stream breaks after what it showed; the restarted one sends the end.
    const opened: number[] = [];
    const sse = (events: ParleyEvent[], broken: boolean) =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(events.map(encodeEvent).join('')));
            if (!broken) controller.close();
          },
          // Read past what was sent: the connection is gone.
          pull(controller) {
            if (broken) controller.error(new TypeError('terminated: connection reset'));
          },
        }),
        { headers: SSE_HEADERS },
      );
    const run = new RunStream(
      'r',
      sse(shown, true),
      async (afterSeq) => {
        opened.push(afterSeq);
        return sse(closing, false);
      },
      { cancel: async () => undefined, decide: async () => undefined },
      { reconnectDelayMs: 1 },
    );
    const state = await run.finished();
    expect(opened).toEqual([5]);
    expect(run.text).toBe('kept ');
    expect(state).toMatchObject({ status: 'aborted', lostAfterSeq: 4, lastSeq: 1_006 });
    expect(run.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 1_005, 1_006]);
    expect(checkConformance(run.events)).toEqual([]);
  });
});
