import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/harness.ts';

/*
 * The server as a process, the way `npm start` runs it: exit codes (0 after a clean stop,
 * 1 when it cannot start, 2 for bad configuration), what it prints, the credentials file.
 */

const NODE = new URL('../../../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../src/main.js', import.meta.url).pathname;
const TOKEN = /prl_[0-9A-Za-z]{36}/g;

interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (with its code, or null and the signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for stdout to match, failing early if the process exits first. */
  waitForStdout(pattern: RegExp): Promise<RegExpMatchArray>;
}

const running = new Set<ChildProcess>();

function startProcess(env: Record<string, string>): Proc {
  const child = spawn(NODE, [MAIN], {
    // Nothing from the test's own environment: no stray PARLEY_* variables.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      // Let the last output arrive.
      setImmediate(() => {
        resolve({ code, signal });
        for (const l of listeners) l();
      });
    }),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStdout(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            listeners.delete(check);
            resolve(m);
          } else if (ended) {
            listeners.delete(check);
            reject(new Error(`exited before printing ${pattern}:\nstdout: ${out}\nstderr: ${err}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Rejects when the process does not exit in `ms` (a bound for a hung process, not a timing claim). */
async function exitOf(proc: Proc, ms = 30_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running after ${ms} ms:\n${proc.stderr()}`)),
      ms,
    );
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The stderr of a failed start: exactly one line, `parley: …`, never a stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^parley: /);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

const me = (url: string, token: string) =>
  fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'parley-main-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

// Generous bounds for a busy machine: they catch a hung process, they do not measure speed.
const BOUND = { timeout: 60_000 };

describe.concurrent('main: configuration errors', BOUND, () => {
  it.each([
    [{ PARLEY_PORT: 'eighty' }, 'PARLEY_PORT'],
    [{ PARLEY_MULTIUSER: '1' }, 'PARLEY_MULTIUSER'],
    [{ PARLEY_HOST: '0.0.0.0' }, 'PARLEY_HOST'],
    [{ PARLEY_METRICS_TOKEN: 'short-secret' }, 'PARLEY_METRICS_TOKEN'],
  ])('%o exits 2 with one line naming %s', async (env, variable) => {
    const dataDir = await tempDir();
    const proc = startProcess({
      PARLEY_DATA_DIR: join(dataDir, 'data'),
      PARLEY_PORT: String(await freePort()),
      ...env,
    });
    expect((await exitOf(proc)).code).toBe(2);
    const line = oneLine(proc.stderr());
    expect(line).toContain(variable);
    // Secrets are named, never shown.
    expect(proc.stderr()).not.toContain('short-secret');
    expect(proc.stdout()).toBe('');
    // Nothing was started: no database, no credentials.
    await expect(stat(join(dataDir, 'data'))).rejects.toThrow();
  });
});

describe('main: single-user lifecycle', BOUND, () => {
  let dataDir: string;
  let port: number;
  let url: string;
  let token: string;
  let workspaceId: string;
  let first: Proc;

  beforeAll(async () => {
    dataDir = join(await tempDir(), 'data');
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  });

  it('first start: prints the URL and the new token once, and saves it 0600', async () => {
    first = startProcess({
      PARLEY_DATA_DIR: dataDir,
      PARLEY_PORT: String(port),
      PARLEY_SHUTDOWN_GRACE_SECONDS: '1',
    });
    await first.waitForStdout(/Parley listening on \S+/);
    const printed = (await first.waitForStdout(/shown once[^\n]*\n\s+(prl_\S+)/))[1]!;
    expect(first.stdout()).toContain(`Parley listening on ${url} (single-user`);
    workspaceId = (await first.waitForStdout(/Workspace ([0-9a-f-]{36})/))[1]!;

    const path = join(dataDir, 'credentials');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    expect(saved).toMatchObject({ server: url, workspaceId, token: printed });
    token = printed;

    const res = await me(url, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      mode: 'single-user',
      auth: 'token',
      token: { workspaceId },
    });
    // Printed once, and not again in request logs.
    expect(first.stdout().match(TOKEN)).toEqual([token]);
  });

  it('while it runs, another process can take neither its data directory nor its port', async () => {
    const otherDir = join(await tempDir(), 'data');
    // Both at once: each opens a database before it fails.
    const sameDir = startProcess({
      PARLEY_DATA_DIR: dataDir,
      PARLEY_PORT: String(await freePort()),
    });
    const samePort = startProcess({ PARLEY_DATA_DIR: otherDir, PARLEY_PORT: String(port) });
    const [dirExit, portExit] = await Promise.all([exitOf(sameDir), exitOf(samePort)]);

    expect(dirExit.code).toBe(1);
    expect(oneLine(sameDir.stderr())).toContain('store.data_dir_locked');
    expect(sameDir.stdout()).not.toMatch(TOKEN);

    expect(portExit.code).toBe(1);
    const line = oneLine(samePort.stderr());
    expect(line).toContain(`port ${port}`);
    expect(line).toMatch(/in use/);
    expect(line).toContain('PARLEY_PORT');
    // It let go of its data directory on the way out: a later start may take it.
    await expect(stat(join(otherDir, 'parley.lock'))).rejects.toThrow();

    // The first one is unharmed.
    expect((await me(url, token)).status).toBe(200);
  });

  it('SIGTERM stops it cleanly: exit code 0', async () => {
    first.child.kill('SIGTERM');
    const { code } = await exitOf(first, 20_000);
    expect(code).toBe(0);
    expect(first.stdout()).toMatch(/Stopping/);
    // It closed the database and let go of the data directory.
    await expect(stat(join(dataDir, 'parley.lock'))).rejects.toThrow();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('a later start reuses the saved token and prints none', async () => {
    const again = startProcess({
      PARLEY_DATA_DIR: dataDir,
      PARLEY_PORT: String(port),
      PARLEY_SHUTDOWN_GRACE_SECONDS: '1',
    });
    await again.waitForStdout(/Parley listening on \S+/);
    const res = await me(url, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token: { workspaceId } });
    const saved = JSON.parse(await readFile(join(dataDir, 'credentials'), 'utf8')) as Record<
      string,
      string
    >;
    expect(saved).toMatchObject({ token, workspaceId });
    again.child.kill('SIGTERM');
    expect((await exitOf(again, 20_000)).code).toBe(0);
    expect(again.stdout()).toContain(`Workspace ${workspaceId}`);
    expect(again.stdout()).not.toMatch(/shown once/);
    expect(again.stdout()).not.toMatch(TOKEN);
  });
});
