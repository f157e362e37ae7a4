import { type ChildProcess, spawn } from 'node:child_process';
import { NODE, PARLEY_BIN, SERVER_MAIN } from './paths.ts';

export { freePort } from '@parley/server/testing';

/*
 * Parley as separate processes: servers (`parley start`, or `npm start`'s entry) and `parley`
 * commands, each a child on the repository's Node 24, with its own environment and directory,
 * talking over loopback sockets. Every child is tracked so a test file can stop them all.
 */

export type Env = Record<string, string>;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Proc {
  child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once the process has exited and its output is read to the end. */
  exited: Promise<Exit>;
  /** Resolves with the first match of `pattern` in stdout (rejects if the process ends first). */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal`, waits for the exit; SIGKILL if it is still running after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

const running = new Set<Proc>();

/**
 * The environment every child gets: PATH, a private HOME and XDG config (so `parley login`
 * writes there, never to the real home), no colours; nothing else from the test runner's own
 * environment (no stray PARLEY_* variables), plus `extra`.
 */
export function childEnv(home: string, extra: Env = {}): Env {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    ...extra,
  };
}

export function spawnProcess(
  args: string[],
  options: { cwd: string; env: Env; input?: string },
): Proc {
  const child = spawn(NODE, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  const proc: Proc = {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStdout(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match) {
            finish();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `no ${pattern} in the output of ${args.join(' ')} after ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`,
            ),
          );
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
        void exited.then((exit) => {
          if (!waiters.has(check)) return;
          finish();
          reject(
            new Error(
              `${args.join(' ')} exited (${exit.code ?? exit.signal}) before printing ${pattern}\nstdout:\n${out}\nstderr:\n${err}`,
            ),
          );
        });
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  running.add(proc);
  void exited.finally(() => {
    done = true;
    running.delete(proc);
  });
  return proc;
}

/** Stops every child still running (afterAll): SIGTERM, then SIGKILL for the stubborn. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGTERM', 10_000).catch(() => undefined)));
}

export interface ServerProcess extends Proc {
  /** From the "Parley listening on <url>" line. */
  url: string;
}

/**
 * Starts a Parley server as a child and waits for its "Parley listening on <url>" line.
 * `how`: `parley-start` runs `parley start` (the CLI), `npm-start` runs npm start's entry
 * (packages/server/src/main.js). Configure it with PARLEY_* variables in `env`.
 */
export async function startServerProcess(options: {
  how: 'parley-start' | 'npm-start';
  cwd: string;
  env: Env;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const args = options.how === 'parley-start' ? [PARLEY_BIN, 'start'] : [SERVER_MAIN];
  const proc = spawnProcess(args, { cwd: options.cwd, env: options.env });
  try {
    const match = await proc.waitForStdout(
      /^Parley listening on (http:\/\/\S+)/m,
      options.timeoutMs ?? 40_000,
    );
    return Object.assign(proc, { url: match[1]! });
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }
}

export interface CliResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs `parley <args>` as a child to its end (stdin: `input`, else closed). */
export async function runCli(
  args: string[],
  options: { cwd: string; env: Env; input?: string; timeoutMs?: number },
): Promise<CliResult> {
  const proc = spawnCli(args, options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const exit = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (exit === 'timeout') {
    await proc.stop('SIGKILL');
    throw new Error(
      `parley ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`,
    );
  }
  return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** Starts `parley <args>` as a child and returns at once (for signals, long runs). */
export function spawnCli(args: string[], options: { cwd: string; env: Env; input?: string }): Proc {
  return spawnProcess([PARLEY_BIN, ...args], options);
}
