import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParleyEvent, readParleyEvents } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
  withTraceparent,
} from '../src/telemetry/trace-context.ts';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Issue #25: every run has a W3C trace id, exporter or not. It continues the caller's
 * `traceparent`, is stored on the run, announced in `run.start`, bound to every log line of
 * the request, and sent on with the run's model requests (here to a local OpenAI Chat
 * Completions stand-in that records the headers it gets).
 */

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

let provider: Server;
let baseURL = '';
const providerHeaders: IncomingHttpHeaders[] = [];
let server: TestServer;
const logLines: string[] = [];

beforeAll(async () => {
  provider = createServer((req, res) => {
    providerHeaders.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(
        `${chunk({ role: 'assistant', content: 'Hi.' })}${chunk({}, 'stop')}data: [DONE]\n\n`,
      );
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(provider.address() as AddressInfo).port}/v1`;
  server = await startTestServer({
    engine: 'postgres',
    logger: { level: 'info', stream: { write: (line: string) => logLines.push(line) } },
  });
  const call = client(server.url, server.token);
  const ws = `/v1/workspaces/${server.workspaceId}`;
  expect(
    (await call('PUT', `${ws}/secrets/TRACE_KEY`, { value: 'sk-trace-000000000000' })).ok,
  ).toBe(true);
  const created = await call('POST', `${ws}/agents`, {
    definition: {
      name: 'traced',
      instructions: 'Answer.',
      model: { provider: 'openai', model: 'stand-in', baseURL, apiKeySecret: 'TRACE_KEY' },
      memory: { enabled: false, autoExtract: false },
    },
    deploy: true,
  });
  expect(created.status, await created.clone().text()).toBe(201);
}, 120_000);

afterAll(async () => {
  await server?.close();
  provider?.closeAllConnections();
  await new Promise((resolve) => provider?.close(resolve));
});

/** Runs the agent (with these request headers); its events, stored run and model request. */
async function run(headers: Record<string, string> = {}) {
  const before = providerHeaders.length;
  const response = await fetch(
    `${server.url}/v1/workspaces/${server.workspaceId}/agents/traced/runs`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.token}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({ input: 'Hello?' }),
    },
  );
  expect(response.status).toBe(200);
  const events: ParleyEvent[] = [];
  for await (const event of readParleyEvents(response.body!)) events.push(event);
  expect(events.at(-1)?.type).toBe('run.finish');
  const start = events[0]!;
  if (start.type !== 'run.start') throw new Error(`first event: ${start.type}`);
  const stored = (await (
    await client(server.url, server.token)('GET', `/v1/runs/${start.runId}`)
  ).json()) as { traceId: string | null };
  expect(providerHeaders.length).toBe(before + 1);
  return { start, stored, sent: providerHeaders.at(-1)!.traceparent };
}

describe('trace context without an exporter [postgres]', () => {
  it('continues the caller’s traceparent: run record, run.start, logs and the model request', async () => {
    const { start, stored, sent } = await run({ traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(start.traceId).toBe(TRACE);
    expect(stored.traceId).toBe(TRACE);
    // The model request is a child of the run (its own span id), in the caller's trace.
    const outgoing = parseTraceparent(sent);
    expect(outgoing).toMatchObject({ traceId: TRACE, sampled: true });
    expect(outgoing!.spanId).not.toBe(PARENT);
    // Every line the request logged carries the trace id.
    const lines = logLines
      .map((line) => JSON.parse(line) as { msg?: string; traceId?: string; reqId?: string })
      .filter((line) => line.traceId === TRACE);
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['incoming request', 'request completed']),
    );
  });

  it('starts a new trace when there is none, or the header is not valid', async () => {
    const invalid = `00-${'0'.repeat(32)}-${PARENT}-01`;
    for (const headers of [{}, { traceparent: invalid }] as Record<string, string>[]) {
      const { start, stored, sent } = await run(headers);
      expect(start.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(start.traceId).not.toBe('0'.repeat(32));
      expect(stored.traceId).toBe(start.traceId);
      expect(parseTraceparent(sent)?.traceId).toBe(start.traceId);
    }
    const a = await run();
    const b = await run();
    expect(a.start.traceId).not.toBe(b.start.traceId);
  });
});

describe('agents calling agents [postgres]', () => {
  it('a child run joins its parent’s trace', async () => {
    const call = client(server.url, server.token);
    const agents = `/v1/workspaces/${server.workspaceId}/agents`;
    for (const definition of [
      scriptedAgent('helper'),
      scriptedAgent(
        'boss',
        [
          [{ type: 'tool_call', name: 'ask_helper', args: { input: 'part' }, id: 'c1' }],
          [{ type: 'text', text: 'Done.' }],
        ],
        { agents: [{ name: 'helper' }] },
      ),
    ])
      expect((await call('POST', agents, { definition, deploy: true })).status).toBe(201);
    const response = await call(
      'POST',
      `${agents}/boss/runs`,
      { input: 'Go.' },
      {
        traceparent: `00-${TRACE}-${PARENT}-01`,
      },
    );
    const events: ParleyEvent[] = [];
    for await (const event of readParleyEvents(response.body!)) events.push(event);
    expect(events[0]).toMatchObject({ type: 'run.start', traceId: TRACE });
    const childStart = events.find((e) => e.type === 'run.child' && e.event.type === 'run.start');
    if (childStart?.type !== 'run.child') throw new Error('no child run started');
    expect(childStart.event).toMatchObject({ type: 'run.start', traceId: TRACE });
    const child = (await (await call('GET', `/v1/runs/${childStart.childRunId}`)).json()) as {
      traceId: string;
    };
    expect(child.traceId).toBe(TRACE);
  });
});

describe('traceparent', () => {
  it('parses version 00 and later versions, refuses what the specification calls invalid', () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({
      traceId: TRACE,
      spanId: PARENT,
      sampled: true,
    });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.sampled).toBe(false);
    // A later version may add fields after the four it shares with 00.
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-01-what-the-future-holds`)?.traceId).toBe(TRACE);
    for (const invalid of [
      undefined,
      '',
      `ff-${TRACE}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-01-extra`,
      `00-${TRACE.toUpperCase()}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.slice(1)}-${PARENT}-01`,
    ])
      expect(parseTraceparent(invalid)).toBeUndefined();
    expect(formatTraceparent({ traceId: TRACE, spanId: PARENT, sampled: false })).toBe(
      `00-${TRACE}-${PARENT}-00`,
    );
  });

  it('is added to a plugin’s requests unless the plugin set its own', async () => {
    const seen: (string | undefined)[] = [];
    const echo = createServer((req, res) => {
      seen.push(req.headers.traceparent as string | undefined);
      res.end('ok');
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
    const ours = `00-${TRACE}-${PARENT}-01`;
    const traced = withTraceparent(globalThis.fetch, ours);
    await (await traced(url, { headers: { accept: 'text/plain' } })).text();
    await (await traced(url, { headers: { traceparent: 'theirs' } })).text();
    await (await traced(new Request(url))).text();
    echo.closeAllConnections();
    await new Promise((resolve) => echo.close(resolve));
    expect(seen).toEqual([ours, 'theirs', ours]);
  });
});

describe('new trace and span ids', () => {
  it('are W3C-shaped and never repeat, across refills of their random pool', () => {
    // 3,000 span ids and 1,000 trace ids draw 40,000 random bytes: ten refills of the pool.
    const spans = Array.from({ length: 3_000 }, newSpanId);
    const traces = Array.from({ length: 1_000 }, newTraceId);
    expect(spans.every((id) => /^[0-9a-f]{16}$/.test(id) && !/^0+$/.test(id))).toBe(true);
    expect(traces.every((id) => /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id))).toBe(true);
    expect(new Set(spans).size).toBe(spans.length);
    expect(new Set(traces).size).toBe(traces.length);
    expect(
      parseTraceparent(
        formatTraceparent({ traceId: traces[0]!, spanId: spans[0]!, sampled: true }),
      ),
    ).toEqual({
      traceId: traces[0],
      spanId: spans[0],
      sampled: true,
    });
  });
});
