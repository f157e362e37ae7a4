import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, isTerminalEvent, type ParleyEvent, STREAM_ERROR_CODES } from '@parley/protocol';
import { copyPgliteTemplate } from '@parley/store/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  ENGINES,
  scriptedAgent,
  startTestServer,
  type TestServer,
} from './support/harness.ts';
import { killServerProcesses, startServerProcess } from './support/server-process.ts';

/*
 * Issue #30, "one request kills the server": a run whose rows the store refused (a NUL in its
 * input or userId, in an existing conversation's input, a model name over the runs table's 200
 * characters) rejected a promise nobody handled and the process exited, also through the MCP
 * endpoint with a runs:create token. Every text field of the run-creating routes is fuzzed
 * here, on both engines, with NUL, unpaired surrogates, over-long values and text that is
 * storable but grows when escaped: each answer is a 4xx problem, or a run that ends with a
 * typed terminal; no promise is left rejected; the server keeps serving runs.
 */

const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1) || 1);
const runs = (n: number) => ({ numRuns: Math.ceil(n * SCALE) });

/** Values no run may take: NUL, unpaired surrogates (anywhere), over-long. */
const poison = fc.oneof(
  fc
    .tuple(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('\u0000', '\ud800', '\udfff', '\udc00\ud800', 'x\u0000\u0000y'),
      fc.string({ maxLength: 30 }),
    )
    .map(([a, bad, b]) => ({ value: `${a}${bad}${b}`, kind: 'unstorable' as const })),
  fc.integer({ min: 100_001, max: 100_050 }).map((n) => ({
    value: 'x'.repeat(n),
    kind: 'over-long' as const,
  })),
);
/** Storable text that grows sixfold as JSON (`\u0001`): the run's events may exceed the store's. */
const heavy = fc
  .integer({ min: 50_000, max: 100_000 })
  .map((n) => ({ value: '\u0001'.repeat(n), kind: 'heavy' as const }));

type Field = 'input' | 'inputPart' | 'userId' | 'conversationInput';
type Path = (string | number)[];

/** The paths of every string in a body. */
function textPaths(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => textPaths(v, [...path, i]));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => textPaths(v, [...path, k]));
  return [];
}

/** A copy of `value` with the string at `path` replaced. */
function replaced(value: unknown, path: Path, text: string): unknown {
  if (path.length === 0) return text;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head!] = replaced(copy[head!], rest, text);
  return copy;
}

describe.each(ENGINES)('no request ends the server [%s]', (engine) => {
  let server: TestServer;
  let call: ReturnType<typeof client>;
  let ws: string;
  let conversationId: string;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    server = await startTestServer({ engine });
    call = client(server.url, server.token);
    ws = server.workspaceId;
    const created = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent('echo'),
      deploy: true,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const first = await runJson({ input: 'hello' });
    expect(first.status).toBe(200);
    conversationId = ((await first.json()) as { conversationId: string }).conversationId;
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await server?.close();
  });

  const runJson = (body: unknown) =>
    call('POST', `/v1/workspaces/${ws}/agents/echo/runs`, body, { accept: 'application/json' });
  const runSse = (body: unknown) => call('POST', `/v1/workspaces/${ws}/agents/echo/runs`, body);
  const mcp = (args: Record<string, unknown>) =>
    call(
      'POST',
      `/v1/workspaces/${ws}/agents/echo/mcp`,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'run_echo', arguments: args },
      },
      { accept: 'application/json, text/event-stream' },
    );

  function bodyWith(field: Field, value: string): Record<string, unknown> {
    switch (field) {
      case 'input':
        return { input: value };
      case 'inputPart':
        return { input: [{ type: 'text', text: value }] };
      case 'userId':
        return { input: 'hi', userId: value };
      case 'conversationInput':
        return { input: value, conversationId };
    }
  }

  /** A refusal: problem+json with a known 4xx code. */
  async function expectProblem(res: Response, what: string) {
    const text = await res.text();
    expect(res.status, `${what}: ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
    expect(res.status, `${what}: ${text.slice(0, 300)}`).toBeLessThan(500);
    expect(res.headers.get('content-type')).toContain(api.PROBLEM_CONTENT_TYPE);
    const problem = api.ProblemSchema.parse(JSON.parse(text));
    expect(problem.status).toBe(res.status);
  }

  /** A stream that ends with a stored terminal: run.finish, or a typed run.error. */
  function expectTypedEnd(events: ParleyEvent[], what: string) {
    const last = events.at(-1);
    expect(last && isTerminalEvent(last), `${what}: ${JSON.stringify(last)}`).toBe(true);
    if (last?.type === 'run.error')
      expect(Object.keys(STREAM_ERROR_CODES)).toContain(last.error.code);
  }

  function parseSse(text: string): ParleyEvent[] {
    return text
      .split('\n\n')
      .map((block) => block.split('\n').find((l) => l.startsWith('data: ')))
      .filter((line): line is string => line !== undefined)
      .map((line) => JSON.parse(line.slice(6)) as ParleyEvent);
  }

  /** The JSON-RPC answer, sent as JSON or as one SSE message. */
  async function mcpAnswer(res: Response): Promise<unknown> {
    const text = await res.text();
    const data = text.split('\n').find((l) => l.startsWith('data: '));
    return JSON.parse(data ? data.slice(6) : text);
  }

  async function stillServing(what: string) {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status, `/healthz after ${what}`).toBe(200);
  }

  it('refuses NUL, unpaired surrogates and over-long values in every text field of a run', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Field>('input', 'inputPart', 'userId', 'conversationInput'),
        poison,
        fc.boolean(),
        async (field, { value, kind }, sse) => {
          const what = `${field} ${kind} (${value.length} chars) over ${sse ? 'SSE' : 'JSON'}`;
          const body = bodyWith(field, value);
          const res = await (sse ? runSse(body) : runJson(body));
          await expectProblem(res, what);
          await stillServing(what);
        },
      ),
      runs(24),
    );
  });

  it('refuses the same values through the MCP endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('input', 'conversationId'),
        poison,
        async (field, { value, kind }) => {
          const what = `MCP ${field} ${kind}`;
          const args =
            field === 'input' ? { input: value } : { input: 'hi', conversationId: value };
          const res = await mcp(args);
          // The SDK answers a value its tool schema refuses as a JSON-RPC error in a 200.
          if (res.status === 200) {
            const answer = (await mcpAnswer(res)) as {
              error?: unknown;
              result?: { isError?: boolean };
            };
            expect(answer.error ?? answer.result?.isError, what).toBeTruthy();
          } else await expectProblem(res, what);
          await stillServing(what);
        },
      ),
      runs(12),
    );
  });

  it('ends a run whose events the store refuses with a typed run.error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Field>('input', 'inputPart', 'conversationInput'),
        heavy,
        async (field, { value, kind }) => {
          const what = `${field} ${kind} (${value.length} chars)`;
          const res = await runSse(bodyWith(field, value));
          if (res.status >= 400) return expectProblem(res, what);
          expectTypedEnd(parseSse(await res.text()), what);
          await stillServing(what);
        },
      ),
      runs(4),
    );
  });

  it('refuses a model name longer than a run row stores when the agent is saved', async () => {
    const res = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent('long-model', undefined, {
        model: { provider: 'scripted', model: 'm'.repeat(201) },
      }),
      deploy: true,
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'agent.invalid_definition' });
  });

  it('refuses the same values in every text field of the routes that take text', async () => {
    const ticket = await call('POST', `/v1/workspaces/${ws}/support/tickets`, {
      subject: 'fuzz',
      requester: 'fz',
    });
    expect(ticket.status).toBe(201);
    const ticketId = ((await ticket.json()) as { id: string }).id;
    const echo = await call('GET', `/v1/workspaces/${ws}/agents/echo`);
    const agentId = ((await echo.json()) as { agent: { id: string } }).agent.id;
    const routes: [string, string, Record<string, unknown>][] = [
      ['PATCH', '', { name: 'Renamed' }],
      ['POST', '/tokens', { name: 'fuzz', scopes: ['agents:read'], expiresInDays: 1 }],
      ['PUT', '/secrets/FUZZ_SECRET', { value: 'v' }],
      ['POST', '/agents', { definition: scriptedAgent('made'), description: 'd' }],
      ['PATCH', '/agents/echo', { description: 'd' }],
      ['PUT', '/agents/echo/draft', { definition: scriptedAgent('echo') }],
      ['POST', '/conversations', { agentId, title: 't' }],
      ['PUT', '/trust', { content: { title: 'T', officialDomains: ['fuzz.example'] } }],
      ['POST', '/trust/status', { body: 'all good' }],
      ['PUT', '/trust/partners', { name: 'Partner', migrationStatus: 'in_progress' }],
      ['POST', '/support/tickets', { subject: 's', requester: 'r' }],
      [`POST`, `/support/tickets/${ticketId}/messages`, { body: 'b' }],
      ['POST', '/support/inbound', { channel: 'c', threadId: 't', requester: 'r', text: 'x' }],
    ];
    const cases = routes.flatMap(([method, path, template]) =>
      textPaths(template).map((at) => ({ method, path, template, at })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...cases), poison, async (c, { value, kind }) => {
        const what = `${c.method} ${c.path} ${c.at.join('.')} ${kind}`;
        const res = await call(
          c.method,
          `/v1/workspaces/${ws}${c.path}`,
          replaced(c.template, c.at, value),
        );
        await expectProblem(res, what);
      }),
      runs(60),
    );
    await stillServing('text fields');
  });

  it('left no promise rejected and still runs agents', async () => {
    const res = await runJson({ input: 'still here?', conversationId });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'run.finish' });
    const viaMcp = await mcp({ input: 'and here?' });
    expect(viaMcp.status).toBe(200);
    expect(await mcpAnswer(viaMcp)).toMatchObject({
      result: { structuredContent: { text: '(scripted) and here?' } },
    });
    expect(rejections).toEqual([]);
  });
});

describe('an unhandled rejection in the server process', () => {
  let dataDir: string;
  afterAll(async () => {
    killServerProcesses();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('is logged as a bug and survived: the process keeps serving', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-survive-'));
    // A migrated PGlite database to start from (the store's test templates), not initdb.
    await copyPgliteTemplate(dataDir);
    // A rejection nobody handles, planted in the real process and set off by SIGUSR2.
    const plant = `process.on('SIGUSR2', () => { Promise.reject(new Error('planted by the test')); });`;
    const server = await startServerProcess({
      PARLEY_DATA_DIR: dataDir,
      NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(plant)}`,
    });
    server.child.kill('SIGUSR2');
    const deadline = Date.now() + 30_000;
    while (!server.output().includes('planted by the test')) {
      expect(server.alive(), server.output()).toBe(true);
      expect(Date.now() < deadline, 'the rejection was logged').toBe(true);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(server.output()).toContain('BUG: unhandled promise rejection (survived)');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.alive()).toBe(true);
  }, 120_000);
});
