/**
 * Burst: many runs arriving at the same instant, timed from outside as a user's HTTP client
 * sees them (issue #28). The server is started as `npm start` starts it, in its own process;
 * the stand-in streams 40 chunks 15 ms apart after 250 ms; every Parley figure stands beside
 * the same requests made to the stand-in directly, in the same run, from this (client)
 * process. Two agents: the quickstart agent (templates/agent: plugin-basics, memory on with
 * extraction) and a bare one (no tools, no memory). Also: `npm start` to the first 200 on
 * /readyz on an existing data directory, the way a user times it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createParleyClient } from '@parley/client';
import { createTestDatabase } from '@parley/store/testing';
import {
  cpuMs,
  fmt,
  freePort,
  percentiles,
  pool,
  ROOT,
  rssMb,
  type ServerProcess,
  startServer,
  table,
} from './lib.ts';
import type { Context, ScenarioResult } from './scenarios.ts';
import { directRun, parleyRun, standInBase } from './setup.ts';

/** `plain`: the quickstart agent offers tools, but the answer is text, as in the direct call. */
const SHAPE = { ttftMs: 250, chunks: 40, gapMs: 15, plain: true };

interface Timing {
  /** Request sent → first content chunk, last content chunk, end of the response, in ms. */
  firstMs: number;
  lastMs: number;
  endMs: number;
  frames: number;
  /** Every SSE frame of the response (Parley: each event of the run). */
  events: number;
  /** The stream ended as it should (Parley: run.finish; direct: [DONE]). */
  finished: boolean;
}

/** Reads an SSE response to its end, timing its content frames. */
async function readStream(
  response: Response,
  t0: number,
  isContent: (frame: string) => boolean,
  isEnd: (frame: string) => boolean,
): Promise<Timing> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const timing: Timing = {
    firstMs: Number.NaN,
    lastMs: Number.NaN,
    endMs: Number.NaN,
    frames: 0,
    events: 0,
    finished: false,
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      timing.events++;
      if (isContent(frame)) {
        const now = performance.now() - t0;
        if (timing.frames === 0) timing.firstMs = now;
        timing.lastMs = now;
        timing.frames++;
      } else if (isEnd(frame)) timing.finished = true;
      end = buffer.indexOf('\n\n');
    }
  }
  timing.endMs = performance.now() - t0;
  return timing;
}

const parleyText = (frame: string) => frame.includes('\nevent: text.delta\n');
const parleyEnd = (frame: string) => frame.includes('\nevent: run.finish\n');
const directText = (frame: string) => frame.includes('"content":"w');
const directEnd = (frame: string) => frame.includes('[DONE]');

/** The agent `parley create` makes (templates/agent/agent.yaml), on the stand-in. */
function quickstartAgent(baseURL: string) {
  return {
    name: 'quickstart',
    description: 'A helpful assistant with a calculator and a clock.',
    instructions:
      'You are quickstart, a helpful assistant. Answer clearly and briefly.\n' +
      'Use the calculator tool for arithmetic instead of working it out yourself, and the\n' +
      'current_time tool when the date or time matters.\n',
    model: { provider: 'openai', model: 'bench-model', baseURL, apiKeySecret: 'BENCH_KEY' },
    plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
  };
}

function bareAgent(baseURL: string) {
  return {
    name: 'bare',
    instructions: 'Answer.',
    model: { provider: 'openai', model: 'bench-model', baseURL, apiKeySecret: 'BENCH_KEY' },
    memory: { enabled: false, autoExtract: false },
  };
}

const AGENTS = [
  ['quickstart', quickstartAgent],
  ['bare', bareAgent],
] as const;

/** `n` runs, `atOnce` at a time; the batch's wall time is its total. */
async function batch(n: number, atOnce: number, one: () => Promise<Timing>) {
  const started = performance.now();
  const timings = await pool(Array.from({ length: n }), atOnce, one);
  return { timings, totalMs: performance.now() - started };
}

interface Engine {
  label: 'PGlite' | 'PostgreSQL';
  start(root: string | undefined): Promise<{ server: ServerProcess; stop(): Promise<void> }>;
}

const ENGINES: Engine[] = [
  {
    label: 'PGlite',
    async start(root) {
      const server = await startServer({ ...(root ? { root } : {}) });
      return {
        server,
        async stop() {
          await server.stop();
          await rm(server.dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    label: 'PostgreSQL',
    async start(root) {
      const database = await createTestDatabase('burst');
      const server = await startServer({
        ...(root ? { root } : {}),
        env: {
          PARLEY_DATABASE_URL: database.runtimeUrl,
          PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
          PARLEY_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
        },
      });
      return {
        server,
        async stop() {
          await server.stop();
          await database.drop();
          await rm(server.dataDir, { recursive: true, force: true });
        },
      };
    },
  },
];

const p = (values: number[]) => percentiles(values.filter(Number.isFinite));

async function burstOn(
  engine: Engine,
  ctx: Context,
  root: string | undefined,
): Promise<ScenarioResult> {
  const base = standInBase(ctx.standIn, SHAPE);
  const { server, stop } = await engine.start(root);
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  try {
    // Idle: 2 s after ready, before any run (PGlite's worker has finished opening by then).
    await new Promise((r) => setTimeout(r, 2_000));
    data.rssIdleMb = rssMb(server.child.pid!);
    const client = createParleyClient({ baseUrl: server.url, token: server.token });
    await client.secrets.put(server.workspaceId, 'BENCH_KEY', 'sk-bench-0000000000000000');
    for (const [, make] of AGENTS)
      await client.agents.create(server.workspaceId, { definition: make(base), deploy: true });
    const direct = async () => {
      const t0 = performance.now();
      return readStream(await directRun(base), t0, directText, directEnd);
    };
    const viaParley = (agent: string) => async () => {
      const t0 = performance.now();
      return readStream(await parleyRun(server, agent), t0, parleyText, parleyEnd);
    };
    // Warm both paths (connections, JIT, caches) a little, as a server that has served before.
    await pool(Array.from({ length: 10 }), 10, async (_, i) =>
      i % 2 ? direct() : viaParley(AGENTS[(i >> 1) % 2]![0])(),
    );
    const rounds = ctx.quick ? 1 : 3;
    for (const [agent] of AGENTS.filter(
      ([name]) => listArg('--burst-agents')?.includes(name) ?? true,
    )) {
      for (const atOnce of (listArg('--burst-sizes') ?? ['1', '50', '100']).map(Number)) {
        const n = atOnce === 1 ? 10 : atOnce;
        const d: Timing[] = [];
        const q: Timing[] = [];
        const totals = { direct: 0, parley: 0 };
        let serverCpuMs = 0;
        for (let round = 0; round < rounds; round++) {
          const a = await batch(n, atOnce, direct);
          const cpuBefore = cpuMs(server.child.pid!);
          const b = await batch(n, atOnce, viaParley(agent));
          serverCpuMs += cpuMs(server.child.pid!) - cpuBefore;
          d.push(...a.timings);
          q.push(...b.timings);
          totals.direct += a.totalMs / rounds;
          totals.parley += b.totalMs / rounds;
        }
        const failed = q.filter((t) => !t.finished || t.frames !== SHAPE.chunks).length;
        const ttft = { direct: p(d.map((t) => t.firstMs)), parley: p(q.map((t) => t.firstMs)) };
        const last = { direct: p(d.map((t) => t.lastMs)), parley: p(q.map((t) => t.lastMs)) };
        const tail = {
          direct: p(d.map((t) => t.endMs - t.lastMs)),
          parley: p(q.map((t) => t.endMs - t.lastMs)),
        };
        const events = q.reduce((sum, t) => sum + t.events, 0);
        const cpu = { perRunMs: serverCpuMs / q.length, perEventUs: (serverCpuMs * 1000) / events };
        data[`${agent}-${atOnce}`] = { ttft, last, tail, totals, failed, runs: q.length, cpu };
        rows.push([
          agent,
          atOnce === 1 ? `1 (×${n})` : atOnce,
          `+${fmt(ttft.parley.p50 - ttft.direct.p50, 1)} / +${fmt(ttft.parley.p99 - ttft.direct.p99, 1)}`,
          `${fmt(last.parley.p50, 0)} (${fmt(last.direct.p50, 0)})`,
          `${fmt(tail.parley.p50, 1)} / ${fmt(tail.parley.p99, 1)} (${fmt(tail.direct.p50, 1)})`,
          `${fmt(totals.parley / 1000, 2)} (${fmt(totals.direct / 1000, 2)})`,
          `${fmt(totals.parley / totals.direct, 2)}×`,
          `${fmt(cpu.perRunMs, 1)} (${fmt(cpu.perEventUs, 0)})`,
          failed,
        ]);
      }
    }
    data.rssAfterMb = rssMb(server.child.pid!);
  } finally {
    await stop();
  }
  return {
    id: `burst-${engine.label.toLowerCase()}`,
    title: `Burst: runs fired at once from a client process (${engine.label}; stand-in TTFT ${SHAPE.ttftMs} ms, ${SHAPE.chunks} chunks ${SHAPE.gapMs} ms apart; ${ctx.quick ? 1 : 3} round(s) each; server RSS idle ${fmt(data.rssIdleMb as number, 0)} MB, after ${fmt(data.rssAfterMb as number, 0)} MB)`,
    markdown: table(
      [
        'agent',
        'at once',
        'added TTFT p50 / p99 ms',
        'last token p50 ms (direct)',
        'stream end after last token p50 / p99 ms (direct p50)',
        'total s (direct)',
        'total vs direct',
        'server CPU ms per run (µs per event)',
        'failed',
      ],
      rows,
    ),
    data,
  };
}

/** PATH as the user's shell has it: without the node_modules/.bin `npm run` put first. */
const userPath = () =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.endsWith('node_modules/.bin'))
    .join(delimiter);

async function readyAfter(url: string, child: ChildProcess, started: number): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

const spread = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  return [sorted[0]!, sorted[(sorted.length - 1) >> 1]!, sorted.at(-1)!].map((v) => fmt(v, 0));
};

/** `npm start` → first 200 on /readyz, on a data directory an earlier start created. */
async function npmStartReady(ctx: Context, root: string | undefined): Promise<ScenarioResult> {
  const cwd = root ?? ROOT;
  const first = await startServer({ ...(root ? { root } : {}) });
  await first.stop();
  const npm: number[] = [];
  const node: number[] = [];
  let memory: Awaited<ReturnType<typeof memoryAfterStart>> = [];
  try {
    for (let i = 0; i < (ctx.quick ? 3 : 5); i++) {
      const port = await freePort();
      const started = performance.now();
      const child = spawn('npm', ['start'], {
        cwd,
        detached: true, // its own process group: npm, its shell and the server stop together
        stdio: 'ignore',
        env: {
          PATH: userPath(),
          HOME: process.env.HOME ?? '',
          PARLEY_DATA_DIR: first.dataDir,
          PARLEY_PORT: String(port),
          PARLEY_LOG_LEVEL: 'error',
          PARLEY_SHUTDOWN_GRACE_SECONDS: '1',
        },
      });
      const url = `http://127.0.0.1:${port}`;
      try {
        npm.push(await readyAfter(url, child, started));
      } finally {
        const exited = new Promise((r) => child.once('exit', r));
        if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
        await exited;
        // The server leaves after npm: wait until it no longer answers (it holds the data dir).
        for (;;) {
          try {
            await fetch(`${url}/readyz`);
            await new Promise((r) => setTimeout(r, 20));
          } catch {
            break;
          }
        }
      }
      const again = await startServer({ dataDir: first.dataDir, ...(root ? { root } : {}) });
      node.push(again.readyMs);
      await again.stop();
    }
    memory = await memoryAfterStart(first.dataDir, root, ctx.quick ? 2 : 3);
  } finally {
    await rm(first.dataDir, { recursive: true, force: true });
  }
  const a = percentiles(npm);
  const b = percentiles(node);
  return {
    id: 'burst-startup',
    title: `Ready on an existing PGlite data directory: spawn → first 200 on /readyz (${npm.length} rounds)`,
    markdown: `${table(
      ['command', 'min ms', 'median ms', 'max ms'],
      [
        ['npm start (as a user types it)', ...spread(npm)],
        ['node … main.js (the server alone)', ...spread(node)],
      ],
    )}\n\nThe same server's memory, ${IDLE_AFTER_READY_MS / 1000} s after ready (no run yet; the peak is the process's highest RSS so far):\n\n${table(
      ['environment', 'RSS MB', 'peak RSS MB'],
      memory.map((m) => [
        m.label,
        m.rss.map((v) => fmt(v, 0)).join(', '),
        m.peak.map((v) => fmt(v, 0)).join(', '),
      ]),
    )}`,
    data: { npmStart: a, node: b, memory },
  };
}

const IDLE_AFTER_READY_MS = 3_000;

/** The Docker image's glibc malloc setting (Dockerfile `ENV`), to compare with none. */
function imageMallocEnv(root: string | undefined): Record<string, string> {
  const dockerfile = readFileSync(join(root ?? ROOT, 'Dockerfile'), 'utf8');
  const value = /MALLOC_TRIM_THRESHOLD_=(\d+)/.exec(dockerfile)?.[1];
  return value ? { MALLOC_TRIM_THRESHOLD_: value } : {};
}

/** RSS and peak RSS of a PGlite server a few seconds after ready, as npm start and as the image. */
async function memoryAfterStart(dataDir: string, root: string | undefined, rounds: number) {
  const settings = [
    { label: "npm start's", env: {} },
    { label: "the image's (MALLOC_TRIM_THRESHOLD_)", env: imageMallocEnv(root) },
  ];
  const results = settings.map(({ label }) => ({
    label,
    rss: [] as number[],
    peak: [] as number[],
  }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, { env }] of settings.entries()) {
      const server = await startServer({ dataDir, env, ...(root ? { root } : {}) });
      await new Promise((r) => setTimeout(r, IDLE_AFTER_READY_MS));
      results[i]!.rss.push(rssMb(server.child.pid!));
      results[i]!.peak.push(rssMb(server.child.pid!, 'peak'));
      await server.stop();
    }
  }
  return results;
}

/** `--name=a,b` on the command line, as a list. */
const listArg = (name: string) =>
  process.argv
    .find((a) => a.startsWith(`${name}=`))
    ?.slice(name.length + 1)
    .split(',');

/** The burst scenarios, each engine in turn, then start-up. */
export async function burst(ctx: Context, root?: string): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  // --burst-engines=pglite (or postgresql): one engine only.
  // --burst-agents=bare and --burst-sizes=50,100 narrow it the same way (while profiling).
  const engines = listArg('--burst-engines');
  for (const engine of ENGINES)
    if (!engines || engines.includes(engine.label.toLowerCase()))
      results.push(await burstOn(engine, ctx, root));
  if (!process.argv.includes('--no-startup')) results.push(await npmStartReady(ctx, root));
  return results;
}
