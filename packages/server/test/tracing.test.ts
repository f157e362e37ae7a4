import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParleyEvent, readParleyEvents } from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracing } from '../src/telemetry/tracing.ts';
import { client, scriptedAgent } from './support/harness.ts';
import {
  killServerProcesses,
  type ServerProcess,
  startServerProcess,
} from './support/server-process.ts';

/*
 * Issue #25 (first part): a run's trace, exported over OTLP/HTTP only when the standard
 * variables ask for it. A local receiver speaking OTLP/HTTP JSON (the OpenTelemetry
 * protocol's `/v1/traces`) collects what the server sends; the spans are checked against the
 * run's own events: names and GenAI attributes, parents, times. No prompt or answer text
 * leaves the server. Without the variables nothing is sent.
 */

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}

let database: TestDatabase;
let dataDir = '';
let receiver: Server;
let receiverUrl = '';
const bodies: string[] = [];
let server: ServerProcess;

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

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  database = await createTestDatabase('tracing');
  dataDir = await mkdtemp(join(tmpdir(), 'parley-tracing-'));
  server = await startServerProcess({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_DATABASE_URL: database.runtimeUrl,
    PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_SERVICE_NAME: 'parley-test',
  });
}, 120_000);

afterAll(async () => {
  killServerProcesses();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if (value.arrayValue) return value.arrayValue.values.map((v) => v.stringValue);
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.doubleValue ?? value.boolValue;
};
const exported = (): OtlpSpan[] =>
  bodies.flatMap((body) =>
    (
      JSON.parse(body) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      }
    ).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
  );

describe('tracing over OTLP [postgres]', () => {
  it('exports a run as invoke_agent, chat and execute_tool spans, by the GenAI conventions', {
    timeout: 60_000,
  }, async () => {
    const call = client(server.url, server.token);
    const agents = `/v1/workspaces/${server.workspaceId}/agents`;
    const created = await call('POST', agents, {
      definition: scriptedAgent('tracer', script, {
        plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
      }),
      deploy: true,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const response = await call('POST', `${agents}/tracer/runs`, {
      input: 'What is six times seven? secret-prompt-text',
    });
    const events: ParleyEvent[] = [];
    for await (const event of readParleyEvents(response.body!)) events.push(event);
    const runId = events[0]!.runId;
    expect(events.at(-1)).toMatchObject({ type: 'run.finish' });

    while (!exported().some((s) => s.name === 'invoke_agent tracer'))
      await new Promise((resolve) => setTimeout(resolve, 20));
    const spans = exported().filter((s) => s.traceId === exported()[0]!.traceId);
    const run = spans.find((s) => s.name === 'invoke_agent tracer')!;
    const chats = spans.filter((s) => s.name === 'chat test');
    const tool = spans.find((s) => s.name === 'execute_tool calculator')!;
    expect(run.parentSpanId ?? '').toBe('');
    expect(chats).toHaveLength(2);
    for (const span of [...chats, tool]) expect(span.parentSpanId).toBe(run.spanId);
    expect(attribute(run, 'gen_ai.operation.name')).toBe('invoke_agent');
    expect(attribute(run, 'gen_ai.agent.name')).toBe('tracer');
    expect(attribute(run, 'parley.run.id')).toBe(runId);
    expect(attribute(chats[0]!, 'gen_ai.operation.name')).toBe('chat');
    expect(attribute(chats[0]!, 'gen_ai.provider.name')).toBe('scripted');
    expect(attribute(chats[0]!, 'gen_ai.request.model')).toBe('test');
    expect(attribute(chats[0]!, 'gen_ai.response.finish_reasons')).toEqual(['tool-calls']);
    expect(attribute(chats[1]!, 'gen_ai.response.finish_reasons')).toEqual(['stop']);
    expect(chats[0]!.kind).toBe(3); // SPAN_KIND_CLIENT
    expect(attribute(tool, 'gen_ai.tool.call.id')).toBe('call_calc');
    expect(attribute(tool, 'gen_ai.operation.name')).toBe('execute_tool');

    // Usage and time to first token are the events' own.
    const finishes = events.filter((e) => e.type === 'step.finish');
    expect(attribute(chats[0]!, 'gen_ai.usage.output_tokens')).toBe(
      finishes[0]!.type === 'step.finish' ? finishes[0]!.usage?.outputTokens : -1,
    );
    const end = events.at(-1)!;
    if (end.type === 'run.finish')
      expect(attribute(run, 'parley.time_to_first_token_ms')).toBe(end.timing.ttftMs);
    // Timed by the run's clock: the run span holds its children.
    const ns = (v: string) => BigInt(v);
    for (const span of [...chats, tool]) {
      expect(ns(span.startTimeUnixNano) >= ns(run.startTimeUnixNano)).toBe(true);
      expect(ns(span.endTimeUnixNano) <= ns(run.endTimeUnixNano)).toBe(true);
    }
    // No content leaves: not the prompt, not the answer, not the tool's arguments.
    const sent = bodies.join('');
    for (const text of ['secret-prompt-text', 'It is 42', '6 * 7'])
      expect(sent).not.toContain(text);
  });

  it('is off unless an exporter is configured, and refuses a protocol it cannot speak', async () => {
    expect(await createTracing({})).toBeUndefined();
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl };
    expect(await createTracing({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(await createTracing({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    await expect(
      createTracing({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).rejects.toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
    const on = await createTracing({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiverUrl}/v1/traces`,
    });
    expect(on?.target).toBe(`${receiverUrl}/v1/traces (http/protobuf)`);
    await on?.shutdown();
  });
});
