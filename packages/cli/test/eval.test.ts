import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParleyClient } from '@parley/client';
import { scriptFromEvents } from '@parley/providers';
import { startTestServer, type TestServer } from '@parley/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parley, testIo } from './support/io.ts';

/*
 * `parley eval` (docs/evals.md) against a real server on loopback with a scripted agent:
 * every scorer on one dataset, the LLM judge answered by a local OpenAI-compatible stand-in
 * over a real socket, the comparison with the previous result, and the --min-score exit code.
 */

const ANSWER = '{"answer": 42}';

/** The scripted agent: calls the calculator, then answers `answer`. */
const agent = (answer: string) => ({
  name: 'evaluee',
  instructions: 'Answer in JSON.',
  model: {
    provider: 'scripted',
    model: 'test',
    script: [
      [{ type: 'tool_call', name: 'calculator', args: { expression: '6 * 7' } }],
      [{ type: 'text', text: answer }],
    ],
  },
  plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
  memory: { enabled: false, autoExtract: false },
});

/** One case per scorer (and one per failing variant), with what each should score. */
const CASES: [Record<string, unknown>, number][] = [
  [{ id: 'exact', input: 'q', criteria: [{ type: 'exact', value: ANSWER }] }, 1],
  [{ id: 'expected', input: 'q', expected: '42' }, 1],
  [{ id: 'regex', input: 'q', criteria: [{ type: 'regex', pattern: '"answer":\\s*4\\d' }] }, 1],
  [
    {
      id: 'schema',
      input: 'q',
      criteria: [
        {
          type: 'json_schema',
          schema: {
            type: 'object',
            properties: { answer: { type: 'number' } },
            required: ['answer'],
          },
        },
      ],
    },
    1,
  ],
  [
    {
      id: 'schema-miss',
      input: 'q',
      criteria: [
        {
          type: 'json_schema',
          schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        },
      ],
    },
    0,
  ],
  [
    {
      id: 'tool',
      input: 'q',
      criteria: [{ type: 'tool_called', name: 'calculator', args: { expression: '6 * 7' } }],
    },
    1,
  ],
  [
    {
      id: 'tool-args',
      input: 'q',
      criteria: [{ type: 'tool_called', name: 'calculator', args: { expression: '1 + 1' } }],
    },
    0,
  ],
  [{ id: 'steps', input: 'q', criteria: [{ type: 'max_steps', max: 2 }] }, 1],
  [{ id: 'steps-over', input: 'q', criteria: [{ type: 'max_steps', max: 1 }] }, 0],
  [{ id: 'latency', input: 'q', criteria: [{ type: 'latency', maxMs: 60_000 }] }, 1],
  [{ id: 'cost', input: 'q', criteria: [{ type: 'cost', maxUsd: 1, maxTokens: 1_000_000 }] }, 1],
  [{ id: 'cost-over', input: 'q', criteria: [{ type: 'cost', maxTokens: 1 }] }, 0],
  [
    {
      id: 'judge',
      input: 'What is 6 * 7?',
      tags: ['tone'],
      criteria: [{ type: 'judge', rubric: 'The answer says 42.' }],
    },
    0.75,
  ],
];

/** An OpenAI Chat Completions stand-in for the judge: streams a fixed verdict, keeps requests. */
async function judgeStandIn() {
  const requests: { model: string; messages: { role: string; content: string }[] }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      requests.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'j1', object: 'chat.completion.chunk', created: 1, model: 'judge', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(
        chunk({ role: 'assistant', content: '' }) +
          chunk({ content: '{"score": 0.75, ' }) +
          chunk({ content: '"reason": "Says 42, in JSON."}' }) +
          chunk({}, 'stop') +
          'data: [DONE]\n\n',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let server: TestServer;
let judge: Awaited<ReturnType<typeof judgeStandIn>>;
let dir: string;
let dataset: string;

async function post(path: string, body: unknown) {
  const res = await fetch(`${server.url}/v1/workspaces/${server.workspaceId}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

async function evaluate(...args: string[]) {
  const io = await testIo({
    cwd: dir,
    env: { PARLEY_SERVER: server.url, PARLEY_TOKEN: server.token, PARLEY_JUDGE_API_KEY: 'k' },
  });
  return parley(
    [
      'eval',
      dataset,
      '--judge',
      'openai-compatible/judge-1',
      '--judge-base-url',
      judge.baseURL,
      ...args,
    ],
    io,
  );
}

beforeAll(async () => {
  [server, judge] = await Promise.all([startTestServer(), judgeStandIn()]);
  dir = await mkdtemp(join(tmpdir(), 'parley-eval-'));
  dataset = join(dir, 'answers.jsonl');
  await writeFile(dataset, `${CASES.map(([c]) => JSON.stringify(c)).join('\n')}\n`);
  await post('/agents', { definition: agent(ANSWER), deploy: true });
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.close(), judge?.close()]);
});

describe('parley eval', () => {
  it('scores every case with its scorers, the judge over a real socket, and stores the result', async () => {
    const result = await evaluate('--agent', 'evaluee', '--json', '--concurrency', '3');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      meanScore: number;
      result: { versionLabel: string; caseCount: number };
      cases: { id: string; score: number; error?: string }[];
      changes: Record<string, string>;
    };
    expect(out.cases.map((c) => [c.id, c.score, c.error])).toEqual(
      CASES.map(([c, score]) => [c.id, score, undefined]),
    );
    const expectedMean = CASES.reduce((sum, [, s]) => sum + s, 0) / CASES.length;
    expect(out.meanScore).toBeCloseTo(expectedMean, 9);
    expect(out.result).toMatchObject({ versionLabel: 'v1', caseCount: CASES.length });
    expect(new Set(Object.values(out.changes))).toEqual(new Set(['new']));
    // The judge saw the rubric, the question and the answer.
    expect(judge.requests).toHaveLength(1);
    expect(judge.requests[0]!.model).toBe('judge-1');
    const asked = judge.requests[0]!.messages.at(-1)!.content;
    expect(asked).toContain('The answer says 42.');
    expect(asked).toContain(ANSWER);
  });

  it('compares a new version with the previous result case by case, and gates on --min-score', async () => {
    // v2 answers 41: exact, regex (4\d still matches) and the rest differ as they should.
    await post('/agents/evaluee/versions', { definition: agent('{"answer": 41}') });
    const result = await evaluate('--agent', 'evaluee@2', '--min-score', '0.9');
    expect(result.code).toBe(1);
    const table = result.stdout;
    expect(table).toMatch(/^evaluee v2 on answers \(vs v1, /);
    expect(table).toMatch(/^exact\s+0\.00\s+worse\s+exact: not exactly/m);
    expect(table).toMatch(/^expected\s+0\.00\s+worse\s+contains:/m);
    expect(table).toMatch(/^regex\s+1\.00\s+same/m);
    expect(table).toMatch(/^schema-miss\s+0\.00\s+same\s+json_schema:/m);
    expect(table).toContain('✗ mean score');
    expect(table).toMatch(/2 worse, 11 same/);

    // The same version again, gated lower: passes; and the results are listed newest first.
    const again = await evaluate('--agent', 'evaluee@2', '--min-score', '0.5', '--no-store');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/13 same/);
    const listed = await fetch(
      `${server.url}/v1/workspaces/${server.workspaceId}/agents/evaluee/evals?dataset=answers`,
      { headers: { authorization: `Bearer ${server.token}` } },
    );
    const results = (await listed.json()) as { versionLabel: string }[];
    expect(results.map((r) => r.versionLabel)).toEqual(['v2', 'v1']);
  });

  it('replays a recorded run offline: its script answers the dataset as the run did', async () => {
    const client = createParleyClient({ baseUrl: server.url, token: server.token });
    const [stored] = await client.evals.list(server.workspaceId, 'evaluee', { limit: 1 });
    const runId = stored!.cases.find((c) => c.id === 'exact')!.runId!;
    const recorded = client.runs.follow(runId);
    for await (const _ of recorded) {
      // The whole log, to its end.
    }
    const script = scriptFromEvents(recorded.events);
    const replay = { ...agent('unused'), name: 'evaluee-replay' };
    await post('/agents', {
      definition: { ...replay, model: { provider: 'scripted', model: 'replay', script } },
      deploy: true,
    });
    const result = await evaluate('--agent', 'evaluee-replay', '--json', '--no-store');
    const out = JSON.parse(result.stdout) as { cases: { id: string; score: number }[] };
    const recordedRun = stored!.cases;
    expect(out.cases.map((c) => [c.id, c.score])).toEqual(recordedRun.map((c) => [c.id, c.score]));
  });

  it('refuses a dataset line that is not a case, naming the line', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"input": "ok", "expected": "x"}\n{"expected": "no input"}\n');
    const io = await testIo({
      cwd: dir,
      env: { PARLEY_SERVER: server.url, PARLEY_TOKEN: server.token },
    });
    const result = await parley(['eval', bad, '--agent', 'evaluee'], io);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.jsonl: line 2: input/);
  });
});
