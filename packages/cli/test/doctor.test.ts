import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RunningServer, startServer } from '@parley/server';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parley, type TestIo, testIo } from './support/io.ts';

/*
 * parley doctor, in process, in a temporary project with an environment the test controls:
 * a real server on PGlite, data directories with wrong modes, PostgreSQL that is down or
 * reached as a role without privileges, a port taken by something else, and provider APIs
 * played by loopback stand-ins.
 */

interface CheckJson {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix: string | null;
}

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {});
});

async function project(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-doctor-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** `parley doctor --json`: the exit code and the checks by name. */
async function doctor(io: TestIo, ...args: string[]) {
  const result = await parley(['doctor', '--json', ...args], io);
  const list = JSON.parse(result.stdout) as CheckJson[];
  const byName = new Map(list.map((c) => [c.name, c]));
  const check = (name: string) => {
    const found = byName.get(name);
    if (!found) throw new Error(`no check "${name}" in ${list.map((c) => c.name).join(', ')}`);
    return found;
  };
  return { ...result, list, check, has: (name: string) => byName.has(name) };
}

function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; port: number; url: string }> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      cleanup.push(() => new Promise((r) => server.close(r)));
      resolve({ server, port, url: `http://127.0.0.1:${port}` });
    });
  });
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const { server, port } = await listen(() => {});
  await new Promise((r) => server.close(r));
  return port;
}

const scriptedAgent = `name: helper
instructions: Answer briefly.
model:
  provider: scripted
  model: demo
`;

describe('a healthy local setup (PGlite)', () => {
  let dir: string;
  let running: RunningServer | undefined;
  let port: number;

  beforeAll(async () => {
    dir = await project({ 'agent.yaml': scriptedAgent });
    // Exactly what parley start does, on a free port, with the default data directory.
    running = await startServer(
      loadConfig({ PARLEY_PORT: '0', PARLEY_DATA_DIR: join(dir, '.parley') }),
    );
    port = Number(new URL(running.url).port);
  });
  afterAll(async () => {
    await running?.stop();
  });

  it('passes every check while the server runs, and says the lock and the port are its own', async () => {
    const io = await testIo({ cwd: dir, env: { PARLEY_PORT: String(port) } });
    const d = await doctor(io);
    expect(d.list.filter((c) => c.status === 'fail')).toEqual([]);
    expect(d.code).toBe(0);
    expect(d.check('node')).toMatchObject({ status: 'ok' });
    expect(d.check('node').detail).toContain(process.execPath);
    expect(d.check('data dir').status).toBe('ok');
    expect(d.check('data dir').detail).toContain(`open in process ${process.pid}`);
    expect(d.check('credentials')).toMatchObject({ status: 'ok' });
    expect(d.check('credentials').detail).toContain(running!.url);
    expect(d.check('master key')).toMatchObject({ status: 'ok' });
    expect(d.check('database').detail).toContain('open in the running server');
    expect(d.check('isolation')).toMatchObject({ status: 'ok' });
    expect(d.check('isolation').detail).toContain('PostgreSQL');
    // PGlite is one process: several instances need PostgreSQL (issue #21).
    expect(d.check('cluster')).toMatchObject({ status: 'ok' });
    expect(d.check('cluster').detail).toMatch(/^one process: .*need PostgreSQL/);
    expect(d.check('port')).toMatchObject({ status: 'ok' });
    expect(d.check('port').detail).toContain('a Parley server is running there');
    expect(d.check('agent')).toMatchObject({ status: 'ok' });
    expect(d.check('model scripted/demo')).toMatchObject({ status: 'ok' });
    expect(d.check('server')).toMatchObject({ status: 'ok' });
    expect(d.check('server').detail).toContain(join(dir, '.parley', 'credentials'));
    expect(d.check('clock')).toMatchObject({ status: 'ok' });

    const text = await parley(['doctor'], io);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^✓ node +Node \d+\.\d+\.\d+/m);
    expect(text.stdout).toMatch(/^✓ port +127\.0\.0\.1:\d+: a Parley server is running there/m);
    expect(text.stdout).not.toContain('✗');
  });

  it('fails the server check with the fix when the token is rejected', async () => {
    const io = await testIo({
      cwd: dir,
      env: {
        PARLEY_PORT: String(port),
        PARLEY_SERVER: running!.url,
        PARLEY_TOKEN: 'prl_not_a_real_token',
      },
    });
    const d = await doctor(io);
    expect(d.code).toBe(1);
    expect(d.check('server')).toMatchObject({ status: 'fail' });
    expect(d.check('server').detail).toContain('rejected the token from PARLEY_TOKEN');
    expect(d.check('server').fix).toContain('PARLEY_TOKEN');
  });

  it('opens the embedded database once the server is stopped, and finds the schema current', async () => {
    await running!.stop();
    running = undefined;
    const io = await testIo({ cwd: dir, env: { PARLEY_PORT: String(port) } });
    const d = await doctor(io);
    expect(d.check('data dir').detail).not.toContain('open in process');
    expect(d.check('database')).toMatchObject({ status: 'ok' });
    expect(d.check('database').detail).toMatch(/^PGlite \d+\.\d+ in .*pgdata$/);
    expect(d.check('migrations')).toMatchObject({ status: 'ok' });
    expect(d.check('migrations').detail).toMatch(/^up to date \(\d+ migrations\)$/);
    expect(d.check('port')).toMatchObject({ status: 'ok', detail: `127.0.0.1:${port} is free` });
    // The local credentials point at a server that is not running: a warning, not a failure.
    expect(d.check('server')).toMatchObject({ status: 'warn' });
    expect(d.check('server').fix).toContain('parley start');
    expect(d.check('clock').status).toBe('skip');
    expect(d.code).toBe(0);
  });
});

describe('the data directory', () => {
  it('fails a directory others may read, with the chmod that fixes it', async () => {
    const dir = await project();
    const data = join(dir, '.parley');
    await mkdir(data);
    await chmod(data, 0o755);
    const io = await testIo({ cwd: dir });
    const d = await doctor(io);
    expect(d.code).toBe(1);
    expect(d.check('data dir')).toMatchObject({ status: 'fail', fix: `chmod 700 ${data}` });
    expect(d.check('data dir').detail).toContain('mode 0755');

    const text = await parley(['doctor'], io);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^✗ data dir +.*mode 0755/m);
    expect(text.stdout).toContain(`→ chmod 700 ${data}`);
    expect(text.stdout).toMatch(/1 problem to fix/);

    await chmod(data, 0o700);
    const fixed = await doctor(io);
    expect(fixed.check('data dir').status).toBe('ok');
  });

  it('checks the credentials and key files: mode 0600 and readable contents', async () => {
    const dir = await project();
    const data = join(dir, 'elsewhere');
    await mkdir(data, { mode: 0o700 });
    await chmod(data, 0o700);
    await writeFile(join(data, 'credentials'), '{"server": "http://127.0.0.1:4000"}', {
      mode: 0o644,
    });
    await chmod(join(data, 'credentials'), 0o644);
    await writeFile(join(data, 'master.key'), 'not json', { mode: 0o600 });
    const io = await testIo({ cwd: dir, env: { PARLEY_DATA_DIR: data } });
    const loose = await doctor(io);
    expect(loose.check('data dir').status).toBe('ok');
    expect(loose.check('credentials')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`chmod 600 ${join(data, 'credentials')}`),
    });
    expect(loose.check('master key')).toMatchObject({ status: 'fail' });
    expect(loose.check('master key').fix).toContain('backup');

    await chmod(join(data, 'credentials'), 0o600);
    const unparsable = await doctor(io);
    expect(unparsable.check('credentials')).toMatchObject({
      status: 'fail',
      fix: `rm ${join(data, 'credentials')}, then parley start writes a new one with a fresh token.`,
    });
    expect(unparsable.check('credentials').detail).toContain('workspaceId');

    // PARLEY_MASTER_KEY replaces the file: a well-formed one passes, a short one does not.
    const good = Buffer.alloc(32, 1).toString('base64');
    const withKey = await testIo({
      cwd: dir,
      env: { PARLEY_DATA_DIR: data, PARLEY_MASTER_KEY: good },
    });
    expect((await doctor(withKey)).check('master key').status).toBe('ok');
    const bad = await testIo({
      cwd: dir,
      env: { PARLEY_DATA_DIR: data, PARLEY_MASTER_KEY: 'c2hvcnQ=' },
    });
    expect((await doctor(bad)).check('master key').status).toBe('fail');
  });
});

describe('PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('doctor');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('fails a URL where nothing listens, and skips what needs a connection', async () => {
    const dir = await project();
    const port = await closedPort();
    const io = await testIo({
      cwd: dir,
      env: { PARLEY_DATABASE_URL: `postgres://parley:s3cret-password@127.0.0.1:${port}/parley` },
    });
    const d = await doctor(io);
    expect(d.code).toBe(1);
    expect(d.check('database')).toMatchObject({ status: 'fail' });
    expect(d.check('database').detail).toContain('ECONNREFUSED');
    expect(d.check('database').fix).toContain('PARLEY_DATABASE_URL');
    expect(d.stdout).not.toContain('s3cret-password');
    expect(d.has('migrations') || d.has('pgvector')).toBe(false);
  });

  it('tells a runtime role without CREATE to add PARLEY_MIGRATION_DATABASE_URL', async () => {
    const dir = await project();
    const io = await testIo({ cwd: dir, env: { PARLEY_DATABASE_URL: db.runtimeUrl } });
    const d = await doctor(io);
    expect(d.code).toBe(1);
    expect(d.check('database')).toMatchObject({ status: 'ok' });
    expect(d.check('database').detail).toContain('no CREATE on schema public');
    const migrations = d.check('migrations');
    expect(migrations.status).toBe('fail');
    expect(migrations.detail).toContain('migrations pending');
    expect(migrations.detail).toContain(
      '"parley_test_runtime" (not a superuser, no CREATE on schema public)',
    );
    expect(migrations.fix).toContain(
      `PARLEY_MIGRATION_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${db.name}`,
    );
    // pgvector is not a trusted extension: the runtime role cannot create it.
    expect(d.check('pgvector')).toMatchObject({ status: 'fail' });
    expect(d.check('pgvector').fix).toContain('CREATE EXTENSION vector');
    expect(d.check('isolation')).toMatchObject({ status: 'ok' });
    expect(d.check('isolation').detail).toContain('enforced');
    expect(d.check('cluster').detail).toContain('their bus is PostgreSQL LISTEN/NOTIFY');
  });

  it('is satisfied once a superuser migration URL is set, and warns about a superuser runtime role', async () => {
    const dir = await project();
    const split = await doctor(
      await testIo({
        cwd: dir,
        env: { PARLEY_DATABASE_URL: db.runtimeUrl, PARLEY_MIGRATION_DATABASE_URL: db.adminUrl },
      }),
    );
    expect(split.check('migrations')).toMatchObject({ status: 'ok' });
    expect(split.check('migrations').detail).toContain(
      'parley start (or parley migrate) applies them',
    );
    expect(split.check('pgvector')).toMatchObject({ status: 'ok' });
    expect(split.check('pgvector').detail).toContain('migrate() creates the extension');
    expect(split.list.filter((c) => c.status === 'fail')).toEqual([]);
    expect(split.code).toBe(0);

    const superuser = await doctor(
      await testIo({ cwd: dir, env: { PARLEY_DATABASE_URL: db.adminUrl } }),
    );
    expect(superuser.check('migrations')).toMatchObject({ status: 'ok' });
    expect(superuser.check('isolation')).toMatchObject({ status: 'warn' });
    expect(superuser.check('isolation').fix).toContain('CREATE ROLE parley_api LOGIN');
    expect(superuser.check('isolation').fix).toContain('PARLEY_MIGRATION_DATABASE_URL=');
  });
});

describe('the sandbox', () => {
  it('says the OS sandbox holds here, and warns with the fix in the weak mode', async () => {
    const dir = await project();
    const held = await doctor(await testIo({ cwd: dir, env: {} }));
    expect(held.check('sandbox')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('the OS sandbox (bubblewrap'),
    });
    const weak = await doctor(await testIo({ cwd: dir, env: { PARLEY_SANDBOX: 'weak' } }));
    expect(weak.check('sandbox')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('PARLEY_SANDBOX=weak'),
      fix: expect.stringContaining('unset PARLEY_SANDBOX'),
    });
  });
});

describe('the port', () => {
  it('fails when another program holds it, with how to find it and another port', async () => {
    const other = await listen((_req, res) => res.end('not parley'));
    const dir = await project();
    const io = await testIo({ cwd: dir, env: { PARLEY_PORT: String(other.port) } });
    const d = await doctor(io);
    expect(d.code).toBe(1);
    expect(d.check('port')).toMatchObject({ status: 'fail' });
    expect(d.check('port').detail).toContain('in use by another program');
    expect(d.check('port').fix).toContain(`lsof -nP -iTCP:${other.port}`);
    expect(d.check('port').fix).toContain(`PARLEY_PORT=${other.port + 1} parley start`);
    // Nothing Parley-like there: no clock comparison against it.
    expect(d.check('clock').status).toBe('skip');
  });

  it("compares the clock with a Parley server's Date header", async () => {
    let offsetMs = 0;
    const fake = await listen((req, res) => {
      res.setHeader('date', new Date(Date.now() + offsetMs).toUTCString());
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/healthz' ? '{"ok":true}' : '{}');
    });
    const io = await testIo({ cwd: await project(), env: { PARLEY_PORT: String(fake.port) } });
    const inTime = await doctor(io);
    expect(inTime.check('port')).toMatchObject({ status: 'ok' });
    expect(inTime.check('clock')).toMatchObject({ status: 'ok' });
    offsetMs = 120_000;
    const skewed = await doctor(io);
    expect(skewed.check('clock')).toMatchObject({ status: 'warn' });
    expect(skewed.check('clock').detail).toMatch(/clock is 1[12]\d s behind/);
    expect(skewed.check('clock').fix).toContain('timedatectl set-ntp true');
  });
});

describe('the project agent and its model keys', () => {
  const GOOD = 'sk-good-0123456789abcd';
  const BAD = 'sk-bad-0123456789wxyz';
  const seen: { url: string; headers: IncomingMessage['headers'] }[] = [];
  let provider: string;

  beforeAll(async () => {
    // One stand-in for every provider, told apart by the path prefix of its baseURL.
    const stub = await listen((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      const bearer = req.headers.authorization === `Bearer ${GOOD}`;
      const ok =
        req.url === '/openai/v1/models'
          ? bearer
          : req.url === '/anthropic/v1/models'
            ? req.headers['x-api-key'] === GOOD && req.headers['anthropic-version'] === '2023-06-01'
            : req.url === '/openrouter/api/v1/key'
              ? bearer
              : req.url === '/local/v1/models';
      res.statusCode = ok ? 200 : 401;
      res.setHeader('content-type', 'application/json');
      res.end(ok ? '{"data":[]}' : '{"error":{"message":"invalid key"}}');
    });
    provider = stub.url;
  });
  afterEach(() => {
    seen.length = 0;
  });

  it('accepts keys the provider accepts and fails the ones it rejects (401)', async () => {
    const closed = await closedPort();
    const dir = await project({
      'agent.yaml': `name: keys
instructions: Answer briefly.
model:
  provider: openai
  model: gpt-test
  baseURL: ${provider}/openai/v1
fallbackModels:
  - provider: anthropic
    model: claude-test
    baseURL: ${provider}/anthropic/v1
  - provider: openrouter
    model: some/model
    baseURL: ${provider}/openrouter/api/v1
  - provider: openai-compatible
    model: llama
    baseURL: ${provider}/local/v1
  - provider: openai
    model: unset-key
    apiKeySecret: NOT_SET_KEY
    baseURL: ${provider}/openai/v1
  - provider: openai-compatible
    model: down
    baseURL: http://127.0.0.1:${closed}/v1
`,
      '.env': `OPENAI_API_KEY=${GOOD}\nANTHROPIC_API_KEY="${GOOD}"\nOPENROUTER_API_KEY=${BAD}\n`,
    });
    const io = await testIo({ cwd: dir });
    const d = await doctor(io);
    expect(d.code).toBe(1);
    expect(d.check('agent')).toMatchObject({ status: 'ok' });
    expect(d.check('agent').detail).toContain('openai/gpt-test + 5 fallbacks');
    expect(d.check('model openai/gpt-test')).toMatchObject({ status: 'ok' });
    expect(d.check('model openai/gpt-test').detail).toBe(
      `OPENAI_API_KEY (…abcd) accepted by 127.0.0.1:${new URL(provider).port}`,
    );
    expect(d.check('model anthropic/claude-test')).toMatchObject({ status: 'ok' });
    expect(d.check('memory recall')).toMatchObject({
      status: 'ok',
      detail:
        "hybrid (vectors + words): embeds with openai/text-embedding-3-small, openai's standard",
    });
    const openrouter = d.check('model openrouter/some/model');
    expect(openrouter).toMatchObject({ status: 'fail' });
    expect(openrouter.detail).toContain('rejected OPENROUTER_API_KEY (…wxyz) (HTTP 401)');
    expect(openrouter.fix).toContain('Replace OPENROUTER_API_KEY in .env');
    expect(d.check('model openai-compatible/llama')).toMatchObject({ status: 'ok' });
    expect(d.check('model openai-compatible/llama').detail).toContain('no key needed');
    expect(d.check('model openai/unset-key')).toMatchObject({ status: 'fail' });
    expect(d.check('model openai/unset-key').fix).toContain('Add NOT_SET_KEY=<your key> to .env');
    expect(d.check('model openai-compatible/down')).toMatchObject({ status: 'warn' });
    expect(d.check('model openai-compatible/down').detail).toContain('cannot check');

    // The key went in the right header, and never into the output.
    const anthropic = seen.find((r) => r.url === '/anthropic/v1/models');
    expect(anthropic?.headers).toMatchObject({
      'x-api-key': GOOD,
      'anthropic-version': '2023-06-01',
    });
    expect(anthropic?.headers.authorization).toBeUndefined();
    expect(seen.find((r) => r.url === '/local/v1/models')?.headers.authorization).toBeUndefined();
    expect(d.stdout).not.toContain(GOOD);
    expect(d.stdout).not.toContain(BAD);
  });

  it('warns that an Anthropic agent without an embedding model recalls by words only', async () => {
    const dir = await project({
      'agent.yaml': `name: claude
instructions: Answer briefly.
model:
  provider: anthropic
  model: claude-test
  baseURL: ${provider}/anthropic/v1
`,
      '.env': `ANTHROPIC_API_KEY=${GOOD}\n`,
    });
    const d = await doctor(await testIo({ cwd: dir }));
    const recall = d.check('memory recall');
    expect(recall).toMatchObject({ status: 'warn' });
    expect(recall.detail).toContain('full-text only: anthropic has no embedding model');
    expect(recall.fix).toContain('memory.embeddingModel');
  });

  it('takes the key from the environment over .env, and fails a rejected one', async () => {
    const dir = await project({
      'agent.yaml': `name: envkey
instructions: Answer briefly.
model:
  provider: openai
  model: gpt-test
  baseURL: ${provider}/openai/v1
`,
      '.env': `OPENAI_API_KEY=${GOOD}\n`,
    });
    const good = await doctor(await testIo({ cwd: dir }));
    expect(good.check('model openai/gpt-test').status).toBe('ok');
    const shell = await doctor(await testIo({ cwd: dir, env: { OPENAI_API_KEY: BAD } }));
    expect(shell.check('model openai/gpt-test')).toMatchObject({ status: 'fail' });
    expect(seen.at(-1)?.headers.authorization).toBe(`Bearer ${BAD}`);
  });

  it('reports an invalid agent file with its problems', async () => {
    const dir = await project({ 'agent.yaml': 'name: broken\nmodel:\n  provider: nobody\n' });
    const d = await doctor(await testIo({ cwd: dir }));
    expect(d.code).toBe(1);
    expect(d.check('agent')).toMatchObject({ status: 'fail' });
    expect(d.check('agent').detail).toContain('agent.yaml');
    expect(d.check('agent').fix).toContain('agent.yaml');
    expect(d.list.some((c) => c.name.startsWith('model '))).toBe(false);
  });

  it('skips the agent checks with a note when there is no agent.yaml', async () => {
    const d = await doctor(await testIo({ cwd: await project() }));
    expect(d.check('agent')).toMatchObject({ status: 'skip', fix: null });
    expect(d.check('agent').detail).toContain('no agent file here');
    expect(d.list.some((c) => c.name.startsWith('model '))).toBe(false);
    expect(seen).toEqual([]);
    const text = await parley(['doctor'], await testIo({ cwd: await project() }));
    expect(text.stdout).toMatch(/^- agent +no agent file here/m);
  });
});
