import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { checkConformance, isTerminalEvent } from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { client, startTestServer, type TestServer } from './support/harness.ts';
import {
  killServerProcesses,
  readUntilGone,
  type ServerProcess,
  startServerProcess,
} from './support/server-process.ts';

/*
 * Issue #21: a run whose instance dies while its tools run. One model step calls two tools of
 * an MCP server at once: `lookup` (read-only: idempotent) and `send_email` (not). Both hang on
 * their first call. Once the log holds the step, the instance is SIGKILLed; another instance
 * continues the run: it calls `lookup` again, never `send_email` (the model is told that call
 * was interrupted), and the model's next step ends the run. The MCP server and the model are
 * local servers speaking their wire formats (MCP Streamable HTTP, OpenAI Chat Completions).
 */

const LEASE_SECONDS = '2';
let database: TestDatabase;
let dataDir = '';
let first: ServerProcess | undefined;
let survivor: TestServer | undefined;
let mcp: Server;
let mcpUrl = '';
let model: Server;
let modelUrl = '';
const toolCalls: string[] = [];
/** The messages of every model request, in order. */
const modelRequests: { role: string; content?: unknown; tool_call_id?: string }[][] = [];

/** The MCP server: each tool's first call never answers (its instance is killed meanwhile). */
function desk() {
  const server = new McpServer({ name: 'desk', version: '1.0.0' });
  const hangFirst = (name: string, answer: string) => async () => {
    toolCalls.push(name);
    if (toolCalls.filter((n) => n === name).length === 1) await new Promise(() => {});
    return { content: [{ type: 'text' as const, text: answer }] };
  };
  server.registerTool(
    'lookup',
    {
      description: 'Looks an order up',
      inputSchema: z.object({ order: z.string() }),
      annotations: { readOnlyHint: true },
    },
    hangFirst('lookup', 'order 7 shipped'),
  );
  server.registerTool(
    'send_email',
    { description: 'Sends an email', inputSchema: z.object({ to: z.string() }) },
    hangFirst('send_email', 'sent'),
  );
  return server;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An OpenAI-compatible model: calls both tools, then answers once it has their results. */
function modelHandler(raw: Buffer, write: (frame: string) => void) {
  const request = JSON.parse(raw.toString()) as { messages: (typeof modelRequests)[number] };
  modelRequests.push(request.messages);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    write(
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'desk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
    );
  chunk({ role: 'assistant', content: '' });
  if (request.messages.at(-1)?.role === 'tool') {
    chunk({ content: 'All done.' });
    chunk({}, 'stop');
  } else {
    const call = (index: number, id: string, name: string, args: string) =>
      chunk({
        tool_calls: [{ index, id, type: 'function', function: { name, arguments: args } }],
      });
    call(0, 'call_lookup', 'desk_lookup', '{"order":"7"}');
    call(1, 'call_email', 'desk_send_email', '{"to":"a@example.com"}');
    chunk({}, 'tool_calls');
  }
  write('data: [DONE]\n\n');
}

beforeAll(async () => {
  const handler = createMcpHandler(() => desk());
  mcp = createServer(async (req, res) => {
    const raw = await body(req);
    const response = await handler.fetch(
      new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method!,
        headers: req.headers as Record<string, string>,
        ...(raw.length ? { body: raw } : {}),
      }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) for await (const part of response.body) res.write(part);
    res.end();
  });
  model = createServer(async (req, res) => {
    const raw = await body(req);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    modelHandler(raw, (frame) => res.write(frame));
    res.end();
  });
  for (const server of [mcp, model])
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mcpUrl = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp`;
  modelUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`;
  database = await createTestDatabase('failover_tools', { migrated: true });
  dataDir = await mkdtemp(join(tmpdir(), 'parley-failover-tools-'));
}, 120_000);

afterAll(async () => {
  killServerProcesses();
  await survivor?.close();
  for (const server of [mcp, model]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const until = async (check: () => Promise<boolean>) => {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe('a run whose instance dies while its tools run [postgres]', () => {
  it('runs the idempotent tool again, tells the model the other was interrupted, and ends once', {
    timeout: 120_000,
  }, async () => {
    const env = {
      PARLEY_RUN_LEASE_SECONDS: LEASE_SECONDS,
      PARLEY_MCP_HOSTS: new URL(mcpUrl).host,
    };
    first = await startServerProcess({
      ...env,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_DATABASE_URL: database.runtimeUrl,
      PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
      PARLEY_INSTANCE_ID: 'first',
    });
    survivor = await startTestServer({
      engine: 'postgres',
      reuse: { database, dataDir },
      keepDatabase: true,
      env: { ...env, PARLEY_INSTANCE_ID: 'survivor' },
    });
    const call = client(first.url, first.token);
    const agents = `/v1/workspaces/${first.workspaceId}/agents`;
    const created = await call('POST', agents, {
      definition: {
        name: 'clerk',
        instructions: 'You are a test agent.',
        model: { provider: 'openai-compatible', model: 'desk', baseURL: modelUrl },
        memory: { enabled: false, autoExtract: false },
        mcp: [{ name: 'desk', transport: { url: mcpUrl } }],
      },
      deploy: true,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const response = await call('POST', `${agents}/clerk/runs`, { input: 'Where is order 7?' });
    expect(response.status).toBe(200);
    const runId = response.headers.get('x-parley-run-id')!;
    const stored = () =>
      survivor!.store.withWorkspace(survivor!.workspaceId, (ws) =>
        ws.runs.listRunEvents(runId, { afterSeq: 0, limit: 500 }),
      );
    const reading = readUntilGone(response);
    // Both calls are running on the first instance, and its log holds the step that made them.
    await until(async () => toolCalls.length === 2);
    await until(async () =>
      (await stored()).some(
        (e) => e.type === 'step.finish' && e.finishReason.unified === 'tool-calls',
      ),
    );
    first.child.kill('SIGKILL');
    const seen = await reading;

    // Its client reconnects to the survivor where it was; the survivor continues the run.
    const tail = await readUntilGone(
      await fetch(`${survivor.url}/v1/runs/${runId}/events`, {
        headers: {
          authorization: `Bearer ${survivor.token}`,
          'last-event-id': String(seen.at(-1)!.seq),
        },
      }),
    );
    const whole = [...seen, ...tail];
    expect(checkConformance(whole)).toEqual([]);
    expect(whole.filter(isTerminalEvent)).toEqual([
      expect.objectContaining({ type: 'run.finish' }),
    ]);
    expect(toolCalls.sort()).toEqual(['lookup', 'lookup', 'send_email']);
    const results = Object.fromEntries(
      whole.flatMap((e) => (e.type === 'tool.result' ? [[e.toolCallId, e]] : [])),
    );
    expect(results.call_lookup).toMatchObject({ ok: true, output: 'order 7 shipped' });
    expect(results.call_email).toMatchObject({
      ok: false,
      error: expect.stringContaining('interrupted'),
    });
    // The model's next request holds both answers: the rerun's result, and the interruption.
    const last = modelRequests.at(-1)!;
    const toolMessage = (id: string) => JSON.stringify(last.find((m) => m.tool_call_id === id));
    expect(toolMessage('call_lookup')).toContain('order 7 shipped');
    expect(toolMessage('call_email')).toContain('interrupted');
    expect(modelRequests).toHaveLength(2);
    const run = await (
      await client(survivor.url, survivor.token)('GET', `/v1/runs/${runId}`)
    ).json();
    expect(run).toMatchObject({ status: 'succeeded' });
  });
});
