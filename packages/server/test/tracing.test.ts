import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { type ParleyEvent, readParleyEvents } from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactingProcessor, secretsToScrub } from '../src/telemetry/redaction.ts';
import { watchRunSecrets } from '../src/telemetry/run-secrets.ts';
import { createRunSpans } from '../src/telemetry/run-spans.ts';
import { createTracing } from '../src/telemetry/tracing.ts';
import { client, scriptedAgent } from './support/harness.ts';
import { type OtlpReceiver, type OtlpSpan, startOtlpReceiver } from './support/otlp.ts';
import {
  killServerProcesses,
  type ServerProcess,
  startServerProcess,
} from './support/server-process.ts';

/*
 * Issue #25: a run's trace, exported over OTLP/HTTP only when the standard variables ask for
 * it. Local receivers speaking OTLP/HTTP (the OpenTelemetry protocol's `/v1/traces`, JSON and
 * protobuf: support/otlp.ts) collect what two servers send; the spans are checked against the
 * run's own events: names and GenAI attributes, parents (the caller's traceparent, the HTTP
 * request, the run), times. No prompt or answer text leaves the server unless content capture
 * is on, and then scrubbed of credentials. Without the variables nothing is sent.
 */

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VAULT_VALUE = 'vault-value-7c1d0e9b2a';

let database: TestDatabase;
const dataDirs: string[] = [];
let json: OtlpReceiver;
let protobuf: OtlpReceiver;
/** Exports OTLP/HTTP JSON, content not captured (the default). */
let server: ServerProcess;
/** Exports OTLP/HTTP protobuf with PARLEY_OTEL_CAPTURE_CONTENT=1. */
let capturing: ServerProcess;

const script = [
  [
    { type: 'text', text: 'Let me compute that.' },
    {
      type: 'tool_call',
      name: 'calculator',
      args: { expression: '6 * 7' },
      id: 'call_calc',
      deltas: ['{"expression"', ':"6 * 7"}'],
    },
  ],
  [{ type: 'text', text: 'It is 42.' }],
];

async function startTraced(receiver: OtlpReceiver, env: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-tracing-'));
  dataDirs.push(dataDir);
  return startServerProcess({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_DATABASE_URL: database.runtimeUrl,
    PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_SERVICE_NAME: 'parley-test',
    ...env,
  });
}

beforeAll(async () => {
  [json, protobuf, database] = await Promise.all([
    startOtlpReceiver(),
    startOtlpReceiver(),
    createTestDatabase('tracing'),
  ]);
  [server, capturing] = await Promise.all([
    startTraced(json, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    startTraced(protobuf, { PARLEY_OTEL_CAPTURE_CONTENT: '1' }),
  ]);
}, 120_000);

afterAll(async () => {
  killServerProcesses();
  await Promise.all([json?.close(), protobuf?.close()]);
  await database?.drop();
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
});

/** Deploys the calculator agent on `on` and runs it once (with a caller's traceparent). */
async function tracedRun(on: ServerProcess, name: string, input: string) {
  const call = client(on.url, on.token);
  const agents = `/v1/workspaces/${on.workspaceId}/agents`;
  const created = await call('POST', agents, {
    definition: scriptedAgent(name, script, {
      plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
    }),
    deploy: true,
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const response = await call(
    'POST',
    `${agents}/${name}/runs`,
    { input },
    {
      traceparent: `00-${TRACE}-${PARENT}-01`,
    },
  );
  const events: ParleyEvent[] = [];
  for await (const event of readParleyEvents(response.body!)) events.push(event);
  expect(events.at(-1)).toMatchObject({ type: 'run.finish' });
  return events;
}

/** The spans of the run's trace, once its run span and its request's span have arrived. */
async function traceOf(receiver: OtlpReceiver, agent: string): Promise<OtlpSpan[]> {
  const arrived = () =>
    receiver.spans().some((s) => s.name === `invoke_agent ${agent}`) &&
    receiver.spans().some((s) => s.kind === 2 && s.traceId === TRACE && s.name.endsWith('/runs'));
  while (!arrived()) await new Promise((resolve) => setTimeout(resolve, 20));
  const run = receiver.spans().find((s) => s.name === `invoke_agent ${agent}`)!;
  return receiver.spans().filter((s) => s.traceId === run.traceId);
}

describe('tracing over OTLP [postgres]', () => {
  it('exports a run as invoke_agent, chat and execute_tool spans, by the GenAI conventions', {
    timeout: 60_000,
  }, async () => {
    const events = await tracedRun(server, 'tracer', 'What is six times seven? secret-prompt-text');
    const runId = events[0]!.runId;
    const spans = await traceOf(json, 'tracer');
    const http = spans.find((s) => s.kind === 2)!; // SPAN_KIND_SERVER
    const run = spans.find((s) => s.name === 'invoke_agent tracer')!;
    const chats = spans.filter((s) => s.name === 'chat test');
    const tool = spans.find((s) => s.name === 'execute_tool calculator')!;
    // The caller's trace goes on: its request, then the run under it, then the run's calls.
    expect(events[0]).toMatchObject({ type: 'run.start', traceId: TRACE });
    expect(http.name).toBe('POST /v1/workspaces/:workspaceId/agents/:agent/runs');
    expect(http.parentSpanId).toBe(PARENT);
    expect(http.attributes['http.request.method']).toBe('POST');
    expect(http.attributes['http.response.status_code']).toBe(200);
    expect(run.parentSpanId).toBe(http.spanId);
    expect(chats).toHaveLength(2);
    for (const span of [...chats, tool]) expect(span.parentSpanId).toBe(run.spanId);
    expect(run.attributes['gen_ai.operation.name']).toBe('invoke_agent');
    expect(run.attributes['gen_ai.agent.name']).toBe('tracer');
    expect(run.attributes['parley.run.id']).toBe(runId);
    expect(chats[0]!.attributes['gen_ai.operation.name']).toBe('chat');
    expect(chats[0]!.attributes['gen_ai.provider.name']).toBe('scripted');
    expect(chats[0]!.attributes['gen_ai.request.model']).toBe('test');
    expect(chats[0]!.attributes['gen_ai.response.finish_reasons']).toEqual(['tool-calls']);
    expect(chats[1]!.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(chats[0]!.kind).toBe(3); // SPAN_KIND_CLIENT
    expect(tool.attributes['gen_ai.tool.call.id']).toBe('call_calc');
    expect(tool.attributes['gen_ai.operation.name']).toBe('execute_tool');

    // Usage and time to first token are the events' own.
    const finishes = events.filter((e) => e.type === 'step.finish');
    expect(chats[0]!.attributes['gen_ai.usage.output_tokens']).toBe(
      finishes[0]!.type === 'step.finish' ? finishes[0]!.usage?.outputTokens : -1,
    );
    const end = events.at(-1)!;
    if (end.type === 'run.finish')
      expect(run.attributes['parley.time_to_first_token_ms']).toBe(end.timing.ttftMs);
    // Timed by the run's clock: the run span holds its children.
    for (const span of [...chats, tool]) {
      expect(span.startTimeUnixNano >= run.startTimeUnixNano).toBe(true);
      expect(span.endTimeUnixNano <= run.endTimeUnixNano).toBe(true);
    }
    // No content leaves by default: not the prompt, not the answer, not the tool's arguments.
    const sent = Buffer.concat(json.raw()).toString();
    for (const text of ['secret-prompt-text', 'It is 42', '6 * 7'])
      expect(sent).not.toContain(text);
  });

  it('records content only when asked (protobuf here), scrubbed of credentials', {
    timeout: 60_000,
  }, async () => {
    // A key pasted into a prompt is content like any other: it leaves scrubbed.
    const key = `sk-proj-${'A1b2C3d4'.repeat(4)}`;
    await tracedRun(capturing, 'talker', `What is six times seven? My key is ${key}`);
    const spans = await traceOf(protobuf, 'talker');
    expect([...protobuf.contentTypes]).toEqual(['application/x-protobuf']);
    const run = spans.find((s) => s.name === 'invoke_agent talker')!;
    const chats = spans.filter((s) => s.name === 'chat test');
    const tool = spans.find((s) => s.name === 'execute_tool calculator')!;
    expect(JSON.parse(run.attributes['gen_ai.input.messages'] as string)).toEqual([
      {
        role: 'user',
        parts: [{ type: 'text', content: 'What is six times seven? My key is [REDACTED]' }],
      },
    ]);
    expect(JSON.parse(chats[0]!.attributes['gen_ai.output.messages'] as string)).toEqual([
      {
        role: 'assistant',
        finish_reason: 'tool-calls',
        parts: [
          { type: 'text', content: 'Let me compute that.' },
          {
            type: 'tool_call',
            id: 'call_calc',
            name: 'calculator',
            arguments: { expression: '6 * 7' },
          },
        ],
      },
    ]);
    expect(JSON.parse(chats[1]!.attributes['gen_ai.output.messages'] as string)[0].parts).toEqual([
      { type: 'text', content: 'It is 42.' },
    ]);
    expect(tool.attributes['gen_ai.tool.call.arguments']).toBe('{"expression":"6 * 7"}');
    expect(tool.attributes['gen_ai.tool.call.result']).toContain('42');
    expect(Buffer.concat(protobuf.raw()).includes(key)).toBe(false);
  });

  it('is off unless an exporter is configured, and refuses a protocol it cannot speak', async () => {
    expect(await createTracing({})).toBeUndefined();
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: json.url };
    expect(await createTracing({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(await createTracing({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    await expect(
      createTracing({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).rejects.toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
    const on = await createTracing({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${json.url}/v1/traces`,
    });
    expect(on?.target).toBe(`${json.url}/v1/traces (http/protobuf)`);
    await on?.shutdown();
  });

  it('scrubs a run’s secret values from every span of its trace while it is watched', async () => {
    const { TracerProvider } = await import('@opentelemetry/sdk-trace');
    const exported: { attributes: Record<string, unknown>; events: { attributes?: object }[] }[] =
      [];
    const provider = new TracerProvider({
      spanProcessors: [
        redactingProcessor({
          onStart() {},
          onEnd: (span) => exported.push(span),
          forceFlush: async () => {},
          shutdown: async () => {},
        }),
      ],
    });
    const tracer = provider.getTracer('test');
    const secrets = new Set<string>();
    const record = () => {
      const span = tracer.startSpan('step');
      const traceId = span.spanContext().traceId;
      span.setAttributes({ said: `the key is ${VAULT_VALUE}`, list: [VAULT_VALUE, 'plain'] });
      span.addEvent('quoted', { error: `upstream said ${VAULT_VALUE}` });
      return { span, traceId };
    };
    const early = record();
    const unwatch = watchRunSecrets(early.traceId, secrets);
    early.span.end(); // before the value is read: its list is made without it
    const watched = tracer.startSpan('step', {}, trace.setSpan(ROOT_CONTEXT, early.span));
    watched.setAttributes({ said: `the key is ${VAULT_VALUE}`, list: [VAULT_VALUE, 'plain'] });
    watched.addEvent('quoted', { error: `upstream said ${VAULT_VALUE}` });
    secrets.add(VAULT_VALUE); // read by a plugin after the run started: counted too
    watched.end();
    unwatch();
    const after = record();
    after.span.end();
    expect(exported[1]!.attributes).toEqual({
      said: 'the key is [REDACTED]',
      list: ['[REDACTED]', 'plain'],
    });
    expect(exported[1]!.events[0]!.attributes).toEqual({ error: 'upstream said [REDACTED]' });
    // Another run's trace, or this one once it ended, keeps what is not a credential's shape.
    expect(exported[2]!.attributes.said).toBe(`the key is ${VAULT_VALUE}`);
    await provider.shutdown();
  });

  it('makes a trace’s list of values to scrub once per change of its secrets', () => {
    const traceId = 'a'.repeat(32);
    const first = new Set(['sk-first-run-key']);
    const unwatchFirst = watchRunSecrets(traceId, first);
    const made = secretsToScrub(traceId);
    expect(made).toEqual(['sk-first-run-key']);
    expect(secretsToScrub(traceId)).toBe(made); // nothing changed: the same list
    first.add('short'); // too short to scrub, but a change all the same
    first.add('sk-read-later-by-a-plugin');
    expect(secretsToScrub(traceId)).toEqual(['sk-read-later-by-a-plugin', 'sk-first-run-key']);
    const unwatchSecond = watchRunSecrets(traceId, new Set(['sk-a-second-run-longest-key']));
    expect(secretsToScrub(traceId)).toEqual([
      'sk-a-second-run-longest-key',
      'sk-read-later-by-a-plugin',
      'sk-first-run-key',
    ]);
    unwatchSecond();
    expect(secretsToScrub(traceId)).toEqual(['sk-read-later-by-a-plugin', 'sk-first-run-key']);
    unwatchFirst();
    expect(secretsToScrub(traceId)).toEqual([]);
  });

  it('places every span of a run under the run’s span, where it ran', async () => {
    const { TracerProvider } = await import('@opentelemetry/sdk-trace');
    const ended: {
      name: string;
      attributes: Record<string, unknown>;
      startTime: [number, number];
      endTime: [number, number];
      parentSpanContext?: { spanId: string };
    }[] = [];
    const provider = new TracerProvider({
      spanProcessors: [
        {
          onStart() {},
          onEnd: (span) => ended.push(span as never),
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    const tracer = provider.getTracer('test');
    const root = tracer.startSpan('invoke_agent x');
    const spans = createRunSpans(tracer, root);
    const base = { v: 1, runId: '00000000-0000-4000-8000-000000000001' };
    const events = [
      { ...base, seq: 1, t: 0, type: 'run.start', agentId: 'a', startedAt: '2026-12-07T00:00:00Z' },
      {
        ...base,
        seq: 2,
        t: 30,
        type: 'memory.recall',
        hits: [{ memoryId: 'm', score: 1 }],
        method: 'hybrid',
        latencyMs: 20,
      },
      {
        ...base,
        seq: 3,
        t: 45,
        type: 'knowledge.retrieve',
        query: 'q',
        method: 'vector',
        chunks: [],
        latencyMs: 40,
      },
      { ...base, seq: 4, t: 50, type: 'step.start', stepIndex: 0, attempt: 1, model: 'm' },
      { ...base, seq: 5, t: 60, type: 'tool_call.complete', toolCallId: 'c1', name: 'add' },
      { ...base, seq: 6, t: 70, type: 'tool.result', toolCallId: 'c1', ok: true, output: 2 },
      {
        ...base,
        seq: 7,
        t: 80,
        type: 'step.finish',
        finishReason: { unified: 'stop' },
        timing: {},
      },
    ] as unknown as ParleyEvent[];
    for (const event of events) spans.observe(event);
    const ms = ([s, ns]: [number, number]) => s * 1000 + ns / 1e6;
    const start = Date.parse('2026-12-07T00:00:00Z');
    const recall = ended.find((s) => s.name === 'search_memory memories')!;
    const retrieval = ended.find((s) => s.name === 'retrieval knowledge')!;
    expect(recall.attributes).toMatchObject({
      'gen_ai.operation.name': 'search_memory',
      'parley.recall.method': 'hybrid',
      'parley.recall.hits': 1,
    });
    expect([ms(recall.startTime) - start, ms(recall.endTime) - start]).toEqual([10, 30]);
    expect(retrieval.attributes).toMatchObject({ 'gen_ai.operation.name': 'retrieval' });
    expect([ms(retrieval.startTime) - start, ms(retrieval.endTime) - start]).toEqual([5, 45]);
    const times = (name: string) => {
      const span = ended.find((s) => s.name === name)!;
      return [ms(span.startTime) - start, ms(span.endTime) - start];
    };
    expect(times('chat m')).toEqual([50, 80]);
    expect(times('execute_tool add')).toEqual([60, 70]);
    expect(ended.map((s) => s.parentSpanContext?.spanId)).toEqual(
      ended.map(() => root.spanContext().spanId),
    );
    await provider.shutdown();
  });
});
