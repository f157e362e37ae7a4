import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length
      ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
      : Number.NaN;
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), mean };
}

export const fmt = (ms: number, digits = 2) => (Number.isFinite(ms) ? ms.toFixed(digits) : '–');

/** A Markdown table from a header and rows. */
export function table(header: string[], rows: (string | number)[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Resident set size of a process in MB (Linux /proc): now, or its peak so far. */
export function rssMb(pid: number, which: 'now' | 'peak' = 'now'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = which === 'now' ? /VmRSS:\s+(\d+)/ : /VmHWM:\s+(\d+)/;
  const kb = Number(field.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/**
 * CPU time (user + system) a process has used so far, in ms (Linux /proc; clock ticks of
 * 10 ms). Unlike wall time it barely moves with the machine's load: what a run costs.
 */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The server is started as `npm start` starts it (its Node flags included). */
const START_ARGS = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(' ')
  .slice(1)
  .map((arg) => (arg.endsWith('.ts') ? join(ROOT, arg) : arg));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  workspaceId: string;
  dataDir: string;
  /** Process start → /readyz answering 200, in ms. */
  readyMs: number;
  stop(): Promise<void>;
}

/** Starts `packages/server/src/main.js` as a child and waits until /readyz answers. */
export async function startServer(
  options: {
    dataDir?: string;
    env?: Record<string, string>;
    /** Another checkout to run the server of (its own packages; `--server-root=`). */
    root?: string;
  } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'parley-bench-')));
  const port = await freePort();
  const started = performance.now();
  const child = spawn(NODE, START_ARGS, {
    cwd: options.root ?? ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_PORT: String(port),
      PARLEY_LOG_LEVEL: 'error',
      PARLEY_SHUTDOWN_GRACE_SECONDS: '1',
      // Node flags for the server alone, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile.
      ...(process.env.PARLEY_BENCH_SERVER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.PARLEY_BENCH_SERVER_NODE_OPTIONS }
        : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    // A child killed by a signal has a signalCode and no exitCode.
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - started;
  const credentials = JSON.parse(readFileSync(join(dataDir, 'credentials'), 'utf8')) as {
    token: string;
    workspaceId: string;
  };
  return {
    child,
    url,
    dataDir,
    readyMs,
    ...credentials,
    stop: () =>
      new Promise((resolve) => {
        // Already gone (an exit code, or a signal such as a benchmark's SIGKILL).
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

/**
 * Reads an SSE response; returns when the first frame satisfying `isContent` arrived (ms
 * from `t0`), the gaps between content frames, and the total time.
 */
export async function timeStream(
  response: Response,
  t0: number,
  isContent: (frame: string) => boolean,
): Promise<{ firstMs: number; gaps: number[]; totalMs: number; frames: number }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let firstMs = Number.NaN;
  let last = 0;
  const gaps: number[] = [];
  let frames = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (isContent(frame)) {
        const now = performance.now();
        frames++;
        if (Number.isNaN(firstMs)) firstMs = now - t0;
        else gaps.push(now - last);
        last = now;
      }
      end = buffer.indexOf('\n\n');
    }
  }
  return { firstMs, gaps, totalMs: performance.now() - t0, frames };
}
