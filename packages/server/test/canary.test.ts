import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkConformance, type ParleyEvent, readParleyEvents } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/harness.ts';

/*
 * A canary API key goes in through PUT /v1/workspaces/:ws/secrets/:name and is used as an
 * agent's OpenAI key against a loopback stand-in for OpenAI. The stand-in must receive it as
 * the bearer key (so the test proves the key was used), and it must appear nowhere else: not in
 * any HTTP response body or header of the API (secrets, agents, runs, run events over SSE,
 * audit, signals, errors), not in the runs' stored events, messages or audit rows, not in the
 * requests sent to the model beyond the Authorization header, and not in the server's log
 * (pino at trace level, captured in memory).
 */

const CANARY = `sk-canary-${randomBytes(24).toString('hex')}`;
/** The canary, its secret part without the last 4 (which the API may show), and encodings. */
const NEEDLES = [
  CANARY,
  CANARY.slice('sk-canary-'.length, -4),
  Buffer.from(CANARY).toString('base64'),
  Buffer.from(CANARY).toString('base64url'),
];
function leaks(text: string): string | undefined {
  return NEEDLES.find((needle) => text.includes(needle));
}

// ── The stand-in for OpenAI ─────────────────────────────────────────────────────────────────

type Mode = 'ok' | 'unauthorized' | 'echo';
interface Received {
  url: string;
  authorization: string | undefined;
  headers: string;
  body: string;
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-canary',
    object: 'chat.completion.chunk',
    created: 1770933892,
    model: 'gpt-canary',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
  })}\n\n`;

/** A minimal Chat Completions stream, as OpenAI sends it (stream_options.include_usage). */
const COMPLETION = [
  chunk({ role: 'assistant', content: '', refusal: null }),
  chunk({ content: 'Hello' }),
  chunk({ content: ' there.' }),
  chunk({}, 'stop'),
  `data: ${JSON.stringify({
    id: 'chatcmpl-canary',
    object: 'chat.completion.chunk',
    created: 1770933892,
    model: 'gpt-canary',
    choices: [],
    usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
  })}\n\n`,
  'data: [DONE]\n\n',
].join('');

let mode: Mode = 'ok';
const received: Received[] = [];
let standIn: Server;
let standInUrl = '';

function answer(request: IncomingMessage, response: ServerResponse, body: string) {
  received.push({
    url: request.url ?? '',
    authorization: request.headers.authorization,
    headers: JSON.stringify(
      Object.fromEntries(Object.entries(request.headers).filter(([k]) => k !== 'authorization')),
    ),
    body,
  });
  if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
    response.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  if (mode !== 'ok') {
    // OpenAI's answer to a wrong key shows its first and last characters only; some
    // OpenAI-compatible servers and gateways echo the whole key (`echo`).
    const shown =
      mode === 'echo' ? CANARY : `${CANARY.slice(0, 7)}${'*'.repeat(16)}${CANARY.slice(-4)}`;
    response.writeHead(401, { 'content-type': 'application/json; charset=utf-8' }).end(
      JSON.stringify({
        error: {
          message: `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      }),
    );
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.end(COMPLETION);
}

// ── The API, every answer recorded ──────────────────────────────────────────────────────────

let server: TestServer;
const logLines: string[] = [];
interface Seen {
  what: string;
  status: number;
  headers: string;
  body: string;
}
const seen: Seen[] = [];

async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Seen> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const answer = {
    what: `${method} ${path}`,
    status: response.status,
    headers: JSON.stringify([...response.headers]),
    // SSE included: the run streams end, so the whole stream is read.
    body: await response.text(),
  };
  seen.push(answer);
  return answer;
}

async function events(text: string): Promise<ParleyEvent[]> {
  const out: ParleyEvent[] = [];
  for await (const event of readParleyEvents(new Response(text).body!)) out.push(event);
  return out;
}

function agentDefinition(name: string) {
  return {
    name,
    instructions: 'You are a test agent. Answer briefly.',
    model: { provider: 'openai', model: 'gpt-canary', baseURL: `${standInUrl}/v1` },
    memory: { enabled: false, autoExtract: false },
  };
}

const runIds: string[] = [];
let ws = '';

beforeAll(async () => {
  standIn = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (c: string) => {
      body += c;
    });
    request.on('end', () => answer(request, response, body));
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  standInUrl = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
  server = await startTestServer({
    logger: {
      level: 'trace',
      // As serve.ts configures it, with every line kept in memory.
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      stream: { write: (line: string) => void logLines.push(line) },
    },
  });
  ws = server.workspaceId;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => standIn?.close(resolve));
});

describe('a canary API key', () => {
  it('is stored write-only: the API answers with its last 4 characters at most', async () => {
    const created = await api('PUT', `/v1/workspaces/${ws}/secrets/OPENAI_API_KEY`, {
      value: CANARY,
    });
    expect(created.status, created.body).toBe(201);
    expect(JSON.parse(created.body)).toMatchObject({
      name: 'OPENAI_API_KEY',
      last4: CANARY.slice(-4),
    });
    const replaced = await api('PUT', `/v1/workspaces/${ws}/secrets/OPENAI_API_KEY`, {
      value: CANARY,
    });
    expect(replaced.status).toBe(200);
    const listed = await api('GET', `/v1/workspaces/${ws}/secrets`);
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body)).toEqual([
      expect.objectContaining({ name: 'OPENAI_API_KEY', last4: CANARY.slice(-4) }),
    ]);
    const agent = await api('POST', `/v1/workspaces/${ws}/agents`, {
      definition: agentDefinition('canary-bot'),
      deploy: true,
    });
    expect(agent.status, agent.body).toBe(201);
  });

  it('is sent to the model as its bearer key, in a streamed and a JSON run', async () => {
    mode = 'ok';
    const streamed = await api('POST', `/v1/workspaces/${ws}/agents/canary-bot/runs`, {
      input: 'Say hello.',
    });
    expect(streamed.status, streamed.body).toBe(200);
    const streamedEvents = await events(streamed.body);
    expect(checkConformance(streamedEvents)).toEqual([]);
    expect(streamedEvents.at(-1)?.type).toBe('run.finish');
    expect(streamed.body).toContain('Hello');
    runIds.push(streamedEvents[0]!.runId);

    const json = await api(
      'POST',
      `/v1/workspaces/${ws}/agents/canary-bot/runs`,
      { input: 'Again.' },
      { accept: 'application/json' },
    );
    expect(json.status, json.body).toBe(200);
    const result = JSON.parse(json.body) as { run: { id: string }; text: string; outcome: string };
    expect(result).toMatchObject({ text: 'Hello there.', outcome: 'run.finish' });
    runIds.push(result.run.id);

    const calls = received.filter((r) => r.url === '/v1/chat/completions');
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call.authorization).toBe(`Bearer ${CANARY}`);
  });

  it('is sent when the provider refuses it, and the failed run does not repeat it', async () => {
    mode = 'unauthorized';
    const before = received.length;
    const failed = await api('POST', `/v1/workspaces/${ws}/agents/canary-bot/runs`, {
      input: 'And now?',
    });
    expect(failed.status).toBe(200);
    const failedEvents = await events(failed.body);
    expect(checkConformance(failedEvents)).toEqual([]);
    const last = failedEvents.at(-1)!;
    expect(last.type).toBe('run.error');
    // The provider's (masked) message reaches the client: proof the 401 was read, not lost.
    expect(JSON.stringify(last)).toMatch(/auth|api key/i);
    runIds.push(failedEvents[0]!.runId);
    const calls = received.slice(before).filter((r) => r.url === '/v1/chat/completions');
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const call of calls) expect(call.authorization).toBe(`Bearer ${CANARY}`);
    mode = 'ok';
  });

  it('never reaches the model beyond the Authorization header', () => {
    expect(received.length).toBeGreaterThanOrEqual(3);
    for (const call of received) {
      expect(leaks(call.body), `request body to ${call.url}`).toBeUndefined();
      expect(leaks(call.headers), `other headers to ${call.url}`).toBeUndefined();
    }
  });

  it('appears in no answer of the API, errors included', async () => {
    const paths = [
      '/v1/me',
      '/v1/workspaces',
      `/v1/workspaces/${ws}`,
      `/v1/workspaces/${ws}/secrets`,
      `/v1/workspaces/${ws}/agents`,
      `/v1/workspaces/${ws}/agents/canary-bot`,
      `/v1/workspaces/${ws}/agents/canary-bot/versions`,
      `/v1/workspaces/${ws}/agents/canary-bot/versions/1`,
      `/v1/workspaces/${ws}/runs`,
      `/v1/workspaces/${ws}/conversations`,
      `/v1/workspaces/${ws}/audit`,
      `/v1/workspaces/${ws}/audit?action=secret.decrypt`,
      `/v1/workspaces/${ws}/security-signals`,
      `/v1/workspaces/${ws}/usage`,
      '/v1/plugins',
      '/v1/openapi.json',
      '/metrics',
      ...runIds.flatMap((id) => [`/v1/runs/${id}`, `/v1/runs/${id}/events`]),
    ];
    for (const path of paths) {
      const answer = await api('GET', path);
      expect(answer.status, `${path}: ${answer.body.slice(0, 200)}`).toBe(200);
    }
    // Replays from the middle (Last-Event-ID) and the conversations' messages.
    for (const id of runIds) {
      const replay = await api('GET', `/v1/runs/${id}/events`, undefined, { 'last-event-id': '1' });
      expect(replay.status).toBe(200);
    }
    const conversations = JSON.parse(
      seen.find((s) => s.what === `GET /v1/workspaces/${ws}/conversations`)!.body,
    ) as { id: string }[];
    expect(conversations.length).toBeGreaterThanOrEqual(3);
    for (const c of conversations) {
      const messages = await api('GET', `/v1/workspaces/${ws}/conversations/${c.id}/messages`);
      expect(messages.status).toBe(200);
    }
    // The audit log shows the key was revealed for the model (once: the run manager keeps
    // model keys for a while), not what it is.
    const audit = JSON.parse(
      seen.find((s) => s.what === `GET /v1/workspaces/${ws}/audit?action=secret.decrypt`)!.body,
    ) as unknown[];
    expect(audit).toEqual([expect.objectContaining({ metadata: { purpose: 'model' } })]);

    // Errors that carry the canary in the request: a bad secret name, a value over the limit,
    // a value sent as text, agent definitions with the key where it does not belong, a run
    // whose key is missing, a cancel and an approval of runs that have ended.
    const errors = [
      await api('PUT', `/v1/workspaces/${ws}/secrets/bad%20name!`, { value: CANARY }),
      await api('PUT', `/v1/workspaces/${ws}/secrets/OPENAI_API_KEY`, {
        value: `${CANARY}${'x'.repeat(20_000)}`,
      }),
      await api(
        'PUT',
        `/v1/workspaces/${ws}/secrets/OPENAI_API_KEY`,
        { value: CANARY, x: 1 },
        {
          'content-type': 'text/plain',
        },
      ),
      await api('POST', `/v1/workspaces/${ws}/agents`, {
        definition: {
          ...agentDefinition('canary-bad'),
          model: { provider: 'openai', model: 'gpt-canary', apiKey: CANARY },
        },
      }),
      await api('POST', `/v1/workspaces/${ws}/agents`, {
        definition: { ...agentDefinition('canary-bad'), name: `${CANARY}!` },
      }),
      await api('POST', `/v1/workspaces/${ws}/agents`, {
        definition: {
          ...agentDefinition('canary-nokey'),
          model: { provider: 'anthropic', model: 'claude-canary', baseURL: `${standInUrl}/v1` },
        },
        deploy: true,
      }),
      await api('POST', `/v1/workspaces/${ws}/agents/canary-nokey/runs`, { input: 'hi' }),
      await api('POST', `/v1/runs/${runIds[0]}/cancel`),
      await api('POST', `/v1/runs/${runIds[0]}/approvals/call_1`, { decision: 'approved' }),
    ];
    expect(errors.map((e) => e.status)).toEqual([400, 400, 400, 422, 422, 201, 422, 200, 409]);

    expect(seen.length).toBeGreaterThan(30);
    for (const answer of seen) {
      expect(leaks(answer.body), `${answer.what} body`).toBeUndefined();
      expect(leaks(answer.headers), `${answer.what} headers`).toBeUndefined();
    }
  });

  it("appears in none of the runs' stored events, rows and messages, nor in the audit log", async () => {
    expect(runIds).toHaveLength(3);
    const stored = await server.store.withWorkspace(ws, async (w) => {
      const out: unknown[] = [];
      for (const id of runIds) {
        const runEvents = await w.runs.listRunEvents(id, { afterSeq: 0, limit: 1_000 });
        expect(runEvents.length, `events of run ${id}`).toBeGreaterThan(2);
        const run = await w.runs.get(id);
        out.push(runEvents, run);
        if (run?.conversationId) out.push(await w.messages.list(run.conversationId, {}));
      }
      out.push(await w.audit.list({ limit: 200 }));
      out.push(await w.secrets.list());
      return out;
    });
    const text = JSON.stringify(stored);
    expect(text).toContain('Hello there.');
    expect(leaks(text)).toBeUndefined();
  });

  it("appears in no line of the server's log", () => {
    // The log is real: requests, the runs and their failure were logged.
    expect(logLines.length).toBeGreaterThan(50);
    const all = logLines.join('');
    expect(all).toContain('incoming request');
    for (const id of runIds) expect(all).toContain(id);
    for (const line of logLines) expect(leaks(line), line.slice(0, 300)).toBeUndefined();
  });

  // Last, because it leaks: the answers and rows checked above would contain the canary.
  describe('when the provider echoes the whole key in its error (reported: src/runs)', () => {
    let echoed: { stream: string; stored: string } | undefined;
    it('the run fails with the provider error, and the provider did get the key', async () => {
      mode = 'echo';
      const before = received.length;
      const failed = await api('POST', `/v1/workspaces/${ws}/agents/canary-bot/runs`, {
        input: 'Once more.',
      });
      mode = 'ok';
      const failedEvents = await events(failed.body);
      expect(failedEvents.at(-1)?.type).toBe('run.error');
      expect(received.at(-1)?.authorization).toBe(`Bearer ${CANARY}`);
      expect(received.length).toBeGreaterThan(before);
      const runId = failedEvents[0]!.runId;
      const stored = await server.store.withWorkspace(ws, async (w) => ({
        events: await w.runs.listRunEvents(runId, { afterSeq: 0, limit: 1_000 }),
        run: await w.runs.get(runId),
      }));
      echoed = { stream: failed.body, stored: JSON.stringify(stored) };
    });
    // A provider quoting the key in its error message: the run scrubs its keys from error
    // events before streaming or storing them (docs/identity.md §3.3).
    it('does not repeat it in the run.error event, streamed or stored', () => {
      expect(echoed).toBeDefined();
      expect(leaks(echoed!.stream)).toBeUndefined();
      expect(leaks(echoed!.stored)).toBeUndefined();
    });
  });
});
