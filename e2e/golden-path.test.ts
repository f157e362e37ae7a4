import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParleyClient, type ParleyClient } from '@parley/client';
import { checkConformance, type ParleyEvent } from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childEnv,
  type Env,
  type Exit,
  freePort,
  runCli,
  type ServerProcess,
  spawnCli,
  startServerProcess,
  stopAll,
} from './support/processes.ts';
import { createOpenAiProject } from './support/project.ts';
import {
  CALCULATOR_ARGS,
  CALCULATOR_CALL_ID,
  calculatorRunReplies,
  type ProviderStandIn,
  type RecordedRequest,
  readExpected,
  startProviderStandIn,
  TEXT_FIXTURE,
} from './support/provider-stand-in.ts';

/*
 * The golden path, every piece a separate process on loopback sockets: `parley create`, a
 * local server from `parley start`, `parley deploy` and `parley run` as children, the typed
 * client from here, an OpenAI stand-in replaying golden transcripts; then a team server
 * (multi-user, PostgreSQL) reached with `parley login` and `parley deploy --server`; then
 * Ctrl-C on a running `parley run`.
 */

const KEY = `sk-e2e-${randomBytes(12).toString('hex')}`;
const AGENT = 'calc';
const QUESTION = 'What is 6 * 7?';
const ANSWER = readExpected(TEXT_FIXTURE).text;
const toolUsage = readExpected('openai-chat-tool-call-single.sse').usage as Record<string, number>;
const textUsage = readExpected(TEXT_FIXTURE).usage as Record<string, number>;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    }),
  ]);
}

/** What the stand-in must have seen for one calculator run: the key, then the tool result. */
function expectCalculatorRun(calls: RecordedRequest[]) {
  expect(calls.map((c) => c.answeredWith)).toEqual([
    'tool-call:calculator',
    `text:${TEXT_FIXTURE}`,
  ]);
  for (const call of calls) {
    expect(call.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(call.body).toMatchObject({ model: 'gpt-4.1-mini', stream: true });
  }
  const [first, second] = calls as [RecordedRequest, RecordedRequest];
  expect(first.body!.tools?.map((t) => t.function.name)).toContain('calculator');
  expect(first.body!.messages.at(-1)).toEqual({ role: 'user', content: QUESTION });
  // Second call: the assistant's tool call and the calculator's result went back to the model.
  const assistant = second.body!.messages.find((m) => m.tool_calls);
  expect(assistant?.tool_calls).toEqual([
    {
      id: CALCULATOR_CALL_ID,
      type: 'function',
      function: { name: 'calculator', arguments: CALCULATOR_ARGS },
    },
  ]);
  const toolMessage = second.body!.messages.find((m) => m.role === 'tool');
  expect(toolMessage?.tool_call_id).toBe(CALCULATOR_CALL_ID);
  expect(JSON.parse(String(toolMessage?.content))).toEqual({ expression: '6 * 7', result: 42 });
}

describe('golden path across processes', () => {
  let standIn: ProviderStandIn;
  let root: string;
  let env: Env;
  let project: string;
  let local: ServerProcess;
  let localClient: ParleyClient;
  let workspaceId: string;
  let database: TestDatabase | undefined;
  let team: ServerProcess;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
    await mkdir(join(root, 'home'));
    env = childEnv(join(root, 'home'));
    standIn = await startProviderStandIn();

    // The local server (PGlite) and the team server (PostgreSQL) start side by side.
    const localReady = (async () => {
      project = (
        await createOpenAiProject({
          parent: root,
          name: 'proj',
          agent: AGENT,
          env,
          apiKey: KEY,
          baseURL: standIn.baseURL,
        })
      ).dir;
      local = await startServerProcess({
        how: 'parley-start',
        cwd: project,
        env: {
          ...env,
          PARLEY_PORT: String(await freePort()),
          PARLEY_LOG_LEVEL: 'warn',
          PARLEY_SHUTDOWN_GRACE_SECONDS: '2',
        },
      });
    })();
    const teamReady = (async () => {
      database = await createTestDatabase('e2e', { migrated: true });
      await mkdir(join(root, 'team'));
      team = await startServerProcess({
        how: 'npm-start',
        cwd: join(root, 'team'),
        env: {
          ...env,
          PARLEY_PORT: String(await freePort()),
          PARLEY_DATA_DIR: join(root, 'team', 'data'),
          PARLEY_DATABASE_URL: database.runtimeUrl,
          PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
          PARLEY_MULTI_USER: '1',
          PARLEY_MODEL_HOSTS: 'http://127.0.0.1', // the plain-http provider stand-in (keys go only to allowed hosts)
          PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
          PARLEY_LOG_LEVEL: 'warn',
          PARLEY_SHUTDOWN_GRACE_SECONDS: '2',
        },
      });
    })();
    // Both settle before anything fails, so afterAll stops whichever did start.
    for (const result of await Promise.allSettled([localReady, teamReady]))
      if (result.status === 'rejected') throw result.reason;

    // `parley start` wrote the owner's credentials where the CLI looks for them.
    const credentials = JSON.parse(
      await readFile(join(project, '.parley', 'credentials'), 'utf8'),
    ) as { server: string; workspaceId: string; token: string };
    expect(credentials.server).toBe(local.url);
    workspaceId = credentials.workspaceId;
    localClient = createParleyClient({ baseUrl: credentials.server, token: credentials.token });
  });

  afterAll(async () => {
    await stopAll();
    await standIn?.close();
    await database?.drop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('create → start → deploy → run: the CLI and the typed client stream a real provider run', async () => {
    const deployed = await runCli(['deploy', '--yes', '--json'], { cwd: project, env });
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({
      agent: AGENT,
      version: 1,
      created: true,
      secretsSent: ['OPENAI_API_KEY'],
      secretsMissing: [],
    });
    expect(deployed.stdout).not.toContain(KEY);

    // parley run, as a child: streamed text, the tool call and its result.
    standIn.enqueue(...calculatorRunReplies());
    const before = standIn.requests.length;
    const run = await runCli(['run', QUESTION], { cwd: project, env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`→ calculator(${CALCULATOR_ARGS})`);
    expect(run.stdout).toMatch(/← calculator \{"expression":"6 \* 7","result":42\} \d+ ms\n/);
    expect(run.stdout).toContain(ANSWER);
    expect(run.stdout).toContain(
      `${toolUsage.inputTokens! + textUsage.inputTokens!} in / ${(toolUsage.outputTokens! + textUsage.outputTokens!).toLocaleString('en')} out tokens`,
    );
    expect(standIn.pending()).toBe(0);
    expectCalculatorRun(standIn.requests.slice(before));

    // The typed client runs the same agent: a conforming Parley Stream v1.
    standIn.enqueue(...calculatorRunReplies());
    const clientBefore = standIn.requests.length;
    const stream = await localClient.runs.stream(workspaceId, AGENT, { input: QUESTION });
    const events: ParleyEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(checkConformance(events)).toEqual([]);
    const types = events.map((e) => e.type);
    for (const type of ['tool_call.start', 'tool_call.delta', 'tool_call.complete', 'tool.result'])
      expect(types).toContain(type);
    const deltas = events.flatMap((e) => (e.type === 'tool_call.delta' ? [e.argsDelta] : []));
    expect(deltas.join('')).toBe(CALCULATOR_ARGS);
    expect(events.find((e) => e.type === 'tool_call.complete')).toMatchObject({
      name: 'calculator',
      args: { expression: '6 * 7' },
      argsText: CALCULATOR_ARGS,
    });
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      ok: true,
      output: { expression: '6 * 7', result: 42 },
    });
    expect(stream.text).toBe(ANSWER);
    expect(events.at(-1)).toMatchObject({
      type: 'run.finish',
      usage: {
        inputTokens: toolUsage.inputTokens! + textUsage.inputTokens!,
        outputTokens: toolUsage.outputTokens! + textUsage.outputTokens!,
      },
    });
    expectCalculatorRun(standIn.requests.slice(clientBefore));
  });

  it('deploys to a team server (multi-user, PostgreSQL): login, deploy, run; the key stays sealed', async () => {
    const email = `dev-${randomBytes(4).toString('hex')}@example.com`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const signup = await fetch(`${team.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, workspaceName: 'Team' }),
    });
    expect(signup.status).toBe(201);

    const login = await runCli(['login', team.url, '--email', email], {
      cwd: project,
      env,
      input: `${password}\n`,
    });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${team.url} as ${email}`);
    expect(login.stdout).not.toContain(password);
    const config = JSON.parse(
      await readFile(join(env.XDG_CONFIG_HOME!, 'parley', 'config.json'), 'utf8'),
    ) as { servers: Record<string, { token: string; workspaceId: string }> };
    const saved = config.servers[team.url]!;
    expect(saved.token).toMatch(/^prl_/);

    // --yes answers "Send OPENAI_API_KEY to …?" (stdin is not a terminal).
    const deploy = ['deploy', '--yes', '--json', '--server', team.url];
    const deployed = await runCli(deploy, { cwd: project, env });
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({
      agent: AGENT,
      version: 1,
      created: true,
      secretsSent: ['OPENAI_API_KEY'],
    });

    standIn.enqueue(...calculatorRunReplies());
    const before = standIn.requests.length;
    const run = await runCli(['run', QUESTION, '--server', team.url], { cwd: project, env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/← calculator \{"expression":"6 \* 7","result":42\} \d+ ms\n/);
    expect(run.stdout).toContain(ANSWER);
    expectCalculatorRun(standIn.requests.slice(before));

    // The API shows the secret's name and last four characters, never its value.
    const teamClient = createParleyClient({ baseUrl: team.url, token: saved.token });
    const secrets = await teamClient.secrets.list(saved.workspaceId);
    expect(secrets.map((s) => [s.name, s.last4])).toEqual([['OPENAI_API_KEY', KEY.slice(-4)]]);
    expect(Object.keys(secrets[0]!).sort()).toEqual(
      ['createdAt', 'last4', 'lastRevealedAt', 'name', 'updatedAt'].sort(),
    );
    expect(JSON.stringify(secrets)).not.toContain(KEY.slice(0, -4));
    const readBack = await fetch(
      `${team.url}/v1/workspaces/${saved.workspaceId}/secrets/OPENAI_API_KEY`,
      { headers: { authorization: `Bearer ${saved.token}` } },
    );
    expect([404, 405]).toContain(readBack.status); // there is no route that reads a value
    expect(await readBack.text()).not.toContain(KEY.slice(0, -4));

    // In the database (as superuser, past row-level security): one sealed row, and the key's
    // text is in no row of any table, neither as text nor as bytes.
    const admin = database!.admin;
    const rows = await admin.query<{ name: string; bytes: number; last4: string }>(
      `select name, length(ciphertext) as bytes, last4 from secrets`,
    );
    expect(rows.rows).toEqual([
      { name: 'OPENAI_API_KEY', bytes: expect.any(Number), last4: KEY.slice(-4) },
    ]);
    expect(rows.rows[0]!.bytes).toBeGreaterThan(KEY.length);
    const plain = await admin.query<{ n: number }>(
      `select count(*)::int as n from secrets where position(convert_to($1, 'UTF8') in ciphertext) > 0`,
      [KEY],
    );
    expect(plain.rows[0]!.n).toBe(0);
    const tables = await admin.query<{ name: string }>(
      `select quote_ident(table_schema) || '.' || quote_ident(table_name) as name
         from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
    );
    expect(tables.rows.map((t) => t.name)).toContain('public.secrets');
    const hex = Buffer.from(KEY).toString('hex');
    const leaks: string[] = [];
    for (const { name } of tables.rows) {
      const found = await admin.query<{ n: number }>(
        `select count(*)::int as n from ${name} t where strpos(t::text, $1) > 0 or strpos(t::text, $2) > 0`,
        [KEY, hex],
      );
      if (found.rows[0]!.n > 0) leaks.push(name);
    }
    expect(leaks).toEqual([]);

    // Deploying again changes nothing.
    const again = await runCli(deploy, { cwd: project, env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      agent: AGENT,
      version: 1,
      created: false,
      secretsSent: [],
    });
    expect(await teamClient.agents.versions(saved.workspaceId, AGENT)).toHaveLength(1);
  });

  it('Ctrl-C on parley run cancels the run on the server, and the command exits', async () => {
    const { agent } = await localClient.agents.create(workspaceId, {
      definition: {
        name: 'waiter',
        instructions: 'Wait.',
        model: {
          provider: 'scripted',
          model: 'demo',
          script: [[{ type: 'text', text: 'Thinking it over' }, { type: 'hang' }]],
        },
      },
      deploy: true,
    });
    const child = spawnCli(['run', 'take your time', '--agent', 'waiter'], { cwd: project, env });
    await child.waitForStdout(/Thinking it over/);
    child.child.kill('SIGINT');
    const exit: Exit = await withTimeout(child.exited, 15_000, 'parley run after SIGINT');
    expect(child.stdout()).toContain('■ stopped (cancelled)');
    expect(child.stderr()).toContain('(stopping the run…)');
    // It ended by itself (not killed by the signal), failing because the run did not finish.
    expect(exit).toEqual({ code: 1, signal: null });

    const runs = await localClient.runs.list(workspaceId, { agentId: agent.id });
    expect(runs).toHaveLength(1);
    expect((await localClient.runs.get(runs[0]!.id)).status).toBe('cancelled');
    const log = localClient.runs.follow(runs[0]!.id, 0);
    const events: ParleyEvent[] = [];
    for await (const event of log) events.push(event);
    expect(checkConformance(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'run.abort', reason: 'cancelled' });
  });

  it('both servers stop cleanly on a signal', async () => {
    expect(await local.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(await team.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
