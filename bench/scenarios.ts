import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParleyClient } from '@parley/client';
import { createTestDatabase } from '@parley/store/testing';
import {
  fmt,
  percentiles,
  pool,
  rssMb,
  type ServerProcess,
  startServer,
  table,
  timeStream,
} from './lib.ts';
import {
  deployBenchAgent,
  directRun,
  isOpenAiText,
  isParleyText,
  parleyRun,
  standInBase,
} from './setup.ts';

export interface ScenarioResult {
  id: string;
  title: string;
  markdown: string;
  data: Record<string, unknown>;
}

export interface Context {
  quick: boolean;
  standIn: string;
}

const TTFT_SHAPE = { ttftMs: 20, chunks: 20, gapMs: 0 };

/** Warms both paths (connections, JIT) before measuring: `count` runs each, all at once. */
async function warmUp(server: ServerProcess, agent: string, base: string, count: number) {
  await pool(Array.from({ length: count }), count, async () => {
    await timeStream(await directRun(base), performance.now(), isOpenAiText);
    await timeStream(await parleyRun(server, agent), performance.now(), isParleyText);
  });
}

/**
 * 1. Time to first token through Parley vs directly, at several concurrencies, each client
 * starting its next run the moment the last one ends (short streams, no pause): at 50 and 100
 * this measures how the server behaves saturated, not a chat load (see ttftOpenStreams).
 */
export async function ttft(
  ctx: Context,
  server: ServerProcess,
  label = 'PGlite',
): Promise<ScenarioResult> {
  const base = standInBase(ctx.standIn, TTFT_SHAPE);
  await deployBenchAgent(server, 'bench-ttft', base);
  const levels = ctx.quick ? [1, 10, 50] : [1, 10, 50, 100];
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  for (const concurrency of levels) {
    const n = Math.max(concurrency * (ctx.quick ? 2 : 4), ctx.quick ? 20 : 60);
    await warmUp(server, 'bench-ttft', base, Math.min(concurrency, 10));
    const direct = await pool(Array.from({ length: n }), concurrency, async () => {
      const t0 = performance.now();
      return (await timeStream(await directRun(base), t0, isOpenAiText)).firstMs;
    });
    const parley = await pool(Array.from({ length: n }), concurrency, async () => {
      const t0 = performance.now();
      return (await timeStream(await parleyRun(server, 'bench-ttft'), t0, isParleyText)).firstMs;
    });
    const d = percentiles(direct);
    const p = percentiles(parley);
    data[`c${concurrency}`] = { direct: d, parley: p };
    rows.push([
      concurrency,
      n,
      `${fmt(d.p50)} / ${fmt(d.p99)}`,
      `${fmt(p.p50)} / ${fmt(p.p99)}`,
      `${fmt(p.p50 - d.p50)} / ${fmt(p.p99 - d.p99)}`,
      `${fmt(p.p50 / d.p50)}×`,
    ]);
  }
  return {
    id: `ttft-${label.toLowerCase()}`,
    title: `TTFT back to back: client → Parley → stand-in vs client → stand-in (${label}; stand-in TTFT ${TTFT_SHAPE.ttftMs} ms, ${TTFT_SHAPE.chunks} chunks, no pause between runs)`,
    markdown: table(
      [
        'concurrency',
        'runs',
        'direct p50 / p99 ms',
        'Parley p50 / p99 ms',
        'added p50 / p99 ms',
        'ratio p50',
      ],
      rows,
    ),
    data,
  };
}

/** A stream the length of a short chat answer: 50 chunks, 20 ms apart, after a 20 ms TTFT. */
const OPEN_STREAM_SHAPE = { ttftMs: 20, chunks: 50, gapMs: 20 };

/**
 * 1b. TTFT while 50 streams are open at once. Each of 50 clients starts a run, reads it to the
 * end (about a second) and starts the next; their first runs are spread over one stream's
 * length, so starts arrive as they would from 50 users chatting, not all in the same
 * millisecond. This is the load the TTFT target names ("at 50 concurrent streams"); the table
 * above, with zero think time and no gap between chunks, measures saturation instead.
 */
export async function ttftOpenStreams(
  ctx: Context,
  server: ServerProcess,
  label = 'PGlite',
): Promise<ScenarioResult> {
  const streams = 50;
  const base = standInBase(ctx.standIn, OPEN_STREAM_SHAPE);
  await deployBenchAgent(server, 'bench-open', base);
  const runsEach = ctx.quick ? 3 : 8;
  const streamMs = OPEN_STREAM_SHAPE.ttftMs + OPEN_STREAM_SHAPE.chunks * OPEN_STREAM_SHAPE.gapMs;
  const measure = async (run: () => Promise<Response>, isText: (frame: string) => boolean) => {
    const firsts: number[] = [];
    let frames = 0;
    await Promise.all(
      Array.from({ length: streams }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i * streamMs) / streams));
        for (let k = 0; k < runsEach; k++) {
          const t0 = performance.now();
          const timed = await timeStream(await run(), t0, isText);
          firsts.push(timed.firstMs);
          frames += timed.frames;
        }
      }),
    );
    return { ttft: percentiles(firsts), frames };
  };
  await warmUp(server, 'bench-open', base, 10);
  const direct = await measure(() => directRun(base), isOpenAiText);
  const parley = await measure(() => parleyRun(server, 'bench-open'), isParleyText);
  const d = direct.ttft;
  const p = parley.ttft;
  const row = (name: string, f: (x: typeof d) => number) => [
    name,
    fmt(f(d)),
    fmt(f(p)),
    fmt(f(p) - f(d)),
    `${fmt(f(p) / f(d))}×`,
  ];
  return {
    id: `ttft-open-${label.toLowerCase()}`,
    title: `TTFT with ${streams} streams open (${label}; each ${OPEN_STREAM_SHAPE.chunks} chunks ${OPEN_STREAM_SHAPE.gapMs} ms apart after a ${OPEN_STREAM_SHAPE.ttftMs} ms TTFT, ${streams * runsEach} runs)`,
    markdown: table(
      ['percentile', 'direct ms', 'Parley ms', 'added ms', 'ratio'],
      [
        row('p50', (x) => x.p50),
        row('p95', (x) => x.p95),
        row('p99', (x) => x.p99),
        ['content frames', direct.frames, parley.frames, parley.frames - direct.frames, ''],
      ],
    ),
    data: { streams, runsEach, shape: OPEN_STREAM_SHAPE, direct, parley },
  };
}

/** 2. Latency Parley adds to each chunk after the first, and whether chunks are merged. */
export async function interChunk(ctx: Context, server: ServerProcess): Promise<ScenarioResult> {
  const shape = { ttftMs: 5, chunks: ctx.quick ? 60 : 200, gapMs: 5 };
  const base = standInBase(ctx.standIn, shape);
  await deployBenchAgent(server, 'bench-chunks', base);
  const runs = ctx.quick ? 5 : 20;
  const direct: number[] = [];
  const parley: number[] = [];
  let directFrames = 0;
  let parleyFrames = 0;
  for (let i = 0; i < runs; i++) {
    const a = await timeStream(await directRun(base), performance.now(), isOpenAiText);
    const b = await timeStream(
      await parleyRun(server, 'bench-chunks'),
      performance.now(),
      isParleyText,
    );
    direct.push(...a.gaps);
    parley.push(...b.gaps);
    directFrames += a.frames;
    parleyFrames += b.frames;
  }
  const d = percentiles(direct);
  const p = percentiles(parley);
  return {
    id: 'inter-chunk',
    title: `Inter-chunk latency (${shape.chunks} chunks, ${shape.gapMs} ms apart, ${runs} runs)`,
    markdown: table(
      ['path', 'gap mean ms', 'gap p50 ms', 'gap p99 ms', 'content frames'],
      [
        ['direct', fmt(d.mean, 3), fmt(d.p50, 3), fmt(d.p99, 3), directFrames],
        ['Parley', fmt(p.mean, 3), fmt(p.p50, 3), fmt(p.p99, 3), parleyFrames],
        [
          'added',
          fmt(p.mean - d.mean, 3),
          fmt(p.p50 - d.p50, 3),
          fmt(p.p99 - d.p99, 3),
          parleyFrames - directFrames,
        ],
      ],
    ),
    data: {
      direct: d,
      parley: p,
      directFrames,
      parleyFrames,
      coalesced: parleyFrames < directFrames,
    },
  };
}

/** 3. Completed runs per second, 100 streams at once, each with a tool call. */
export async function throughput(
  ctx: Context,
  server: ServerProcess,
  label: string,
): Promise<ScenarioResult> {
  const base = standInBase(ctx.standIn, { ttftMs: 10, chunks: 10, gapMs: 1 });
  await deployBenchAgent(server, 'bench-tool', base, { tools: true });
  const total = ctx.quick ? 100 : 400;
  const concurrency = 100;
  const durations: number[] = [];
  let failed = 0;
  const started = performance.now();
  await pool(Array.from({ length: total }), concurrency, async () => {
    const t0 = performance.now();
    const response = await parleyRun(server, 'bench-tool');
    const text = await response.text();
    if (!text.includes('event: run.finish') || !text.includes('event: tool.result')) failed++;
    durations.push(performance.now() - t0);
  });
  const seconds = (performance.now() - started) / 1000;
  const d = percentiles(durations);
  return {
    id: `throughput-${label.toLowerCase()}`,
    title: `Throughput on ${label}: ${total} runs with a tool call, ${concurrency} at a time`,
    markdown: table(
      ['runs/s', 'run p50 ms', 'run p99 ms', 'failed'],
      [[fmt(total / seconds, 1), fmt(d.p50, 1), fmt(d.p99, 1), failed]],
    ),
    data: { runsPerSecond: total / seconds, duration: d, failed, total },
  };
}

/** 4. Memory: RSS idle, with 10 agents, during 100 streams; heap growth over many sequential runs. */
export async function memory(
  ctx: Context,
  engine: 'PGlite' | 'PostgreSQL',
): Promise<ScenarioResult> {
  // Full runs compare the heap after full collections: the server writes a heap snapshot on
  // SIGUSR2, which collects everything first (Node has no other way in from outside).
  const snapshots = ctx.quick ? undefined : await mkdtemp(join(tmpdir(), 'parley-heap-'));
  const env: Record<string, string> = snapshots
    ? { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}` }
    : {};
  const pg = engine === 'PostgreSQL' ? await postgresServer(env) : undefined;
  const server = pg ? pg.server : await startServer({ env });
  try {
    const pid = server.child.pid!;
    await new Promise((r) => setTimeout(r, 300));
    const idle = rssMb(pid);
    const base = standInBase(ctx.standIn, { ttftMs: 5, chunks: 20, gapMs: 1 });
    for (let i = 0; i < 10; i++) await deployBenchAgent(server, `agent-${i}`, base);
    for (let i = 0; i < 10; i++) await (await parleyRun(server, `agent-${i}`)).text();
    const tenAgents = rssMb(pid);
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 25);
    await pool(Array.from({ length: 100 }), 100, async (_, i) =>
      (await parleyRun(server, `agent-${i % 10}`)).text(),
    );
    clearInterval(sampler);
    const sequential = ctx.quick ? 300 : 2000;
    const samples: { runs: number; rss: number; heap: number }[] = [];
    const sample = async (runs: number) =>
      samples.push({ runs, rss: rssMb(pid), heap: await heapUsedMb(server) });
    const every = Math.floor(sequential / 10);
    /** Where growth is measured from: the second sample (the first still warms up). */
    const referenceRuns = every * 2;
    let referenceAfterGc: number | undefined;
    for (let i = 1; i <= sequential; i++) {
      await (await parleyRun(server, `agent-${i % 10}`)).text();
      if (i % every === 0) await sample(i);
      if (snapshots && i === referenceRuns) {
        // The reference point, measured like the end: its lingering runs gone, then collected.
        await new Promise((r) => setTimeout(r, 35_000));
        referenceAfterGc = await heapAfterGcMb(server, snapshots);
      }
    }
    // Finished runs stay in memory for 30 s (late subscribers attach to them): a leak is what
    // is still there after that. The quick run does not wait.
    let afterLinger: number | undefined;
    if (snapshots) {
      await new Promise((r) => setTimeout(r, 35_000));
      afterLinger = await heapAfterGcMb(server, snapshots);
    }
    const growthPer1000 =
      afterLinger === undefined || referenceAfterGc === undefined
        ? undefined
        : ((afterLinger - referenceAfterGc) / (sequential - referenceRuns)) * 1000;
    return {
      id: `memory-${engine.toLowerCase()}`,
      title: `Memory (${engine}: RSS of the Parley process${pg ? ', not of PostgreSQL' : ''}; ${sequential} sequential runs)`,
      markdown: table(
        [
          'idle MB',
          '10 agents MB',
          'peak during 100 streams MB',
          `RSS after ${sequential} runs MB`,
          `heap after ${referenceRuns} / ${sequential} runs MB`,
          `heap after full GC, ${referenceRuns} / ${sequential} runs (35 s later) MB`,
          'heap growth MB / 1000 runs',
        ],
        [
          [
            fmt(idle, 1),
            fmt(tenAgents, 1),
            fmt(peak, 1),
            fmt(samples.at(-1)!.rss, 1),
            `${fmt(samples[1]!.heap, 1)} / ${fmt(samples.at(-1)!.heap, 1)}`,
            afterLinger === undefined || referenceAfterGc === undefined
              ? 'not measured (quick)'
              : `${fmt(referenceAfterGc, 1)} / ${fmt(afterLinger, 1)}`,
            growthPer1000 === undefined ? '–' : fmt(growthPer1000, 2),
          ],
        ],
      ),
      data: {
        engine,
        idle,
        tenAgents,
        peak,
        samples,
        referenceAfterGc,
        afterLinger,
        growthPer1000,
      },
    };
  } finally {
    if (pg) await pg.stop();
    else {
      await server.stop();
      await rm(server.dataDir, { recursive: true, force: true });
    }
    if (snapshots) await rm(snapshots, { recursive: true, force: true });
  }
}

/** Heap in use after a full collection: asks the server for a heap snapshot, then deletes it. */
async function heapAfterGcMb(server: ServerProcess, dir: string): Promise<number> {
  server.child.kill('SIGUSR2');
  // The snapshot is written synchronously, after the collection: once its size holds still
  // and /metrics answers again, the server is past it.
  let size = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.heapsnapshot'));
    if (files.length === 0) continue;
    const now = (await stat(join(dir, files[0]!))).size;
    if (now > 0 && now === size) break;
    size = now;
  }
  const heap = await heapUsedMb(server);
  for (const file of await readdir(dir)) await rm(join(dir, file), { force: true });
  return heap;
}

/** The server's V8 heap in use, from its own /metrics (prom-client's process metrics). */
async function heapUsedMb(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('parley_process_nodejs_heap_size_used_bytes'));
  return Number(line?.split(' ').at(-1)) / 2 ** 20;
}

/** 5. Process start to /readyz, on a fresh and on an existing PGlite data directory. */
export async function startup(ctx: Context): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 2 : 5;
  const fresh: number[] = [];
  const existing: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const first = await startServer();
    fresh.push(first.readyMs);
    await first.stop();
    const again = await startServer({ dataDir: first.dataDir });
    existing.push(again.readyMs);
    await again.stop();
    await rm(first.dataDir, { recursive: true, force: true });
  }
  const f = percentiles(fresh);
  const e = percentiles(existing);
  return {
    id: 'startup',
    title: `Start-up: process start → /readyz (PGlite, ${rounds} rounds)`,
    markdown: table(
      ['data dir', 'p50 ms', 'max ms'],
      [
        ['fresh (creates and migrates)', fmt(f.p50, 0), fmt(Math.max(...fresh), 0)],
        ['existing', fmt(e.p50, 0), fmt(Math.max(...existing), 0)],
      ],
    ),
    data: { fresh: f, existing: e },
  };
}

/** 6. What storing every event (resume) costs: the same runs with the event log off. */
export async function eventLog(ctx: Context): Promise<ScenarioResult> {
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  for (const on of [true, false]) {
    const server = await startServer({ env: { PARLEY_EVENT_LOG: on ? '1' : '0' } });
    try {
      const base = standInBase(ctx.standIn, { ttftMs: 10, chunks: 50, gapMs: 0 });
      await deployBenchAgent(server, 'bench-log', base);
      const n = ctx.quick ? 60 : 200;
      await pool(Array.from({ length: 10 }), 10, async () =>
        (await parleyRun(server, 'bench-log')).text(),
      );
      const started = performance.now();
      const firsts = await pool(Array.from({ length: n }), 20, async () => {
        const t0 = performance.now();
        return (await timeStream(await parleyRun(server, 'bench-log'), t0, isParleyText)).firstMs;
      });
      const seconds = (performance.now() - started) / 1000;
      const p = percentiles(firsts);
      data[on ? 'on' : 'off'] = { ttft: p, runsPerSecond: n / seconds };
      rows.push([on ? 'on (resume)' : 'off', fmt(p.p50), fmt(p.p99), fmt(n / seconds, 1)]);
    } finally {
      await server.stop();
      await rm(server.dataDir, { recursive: true, force: true });
    }
  }
  return {
    id: 'event-log',
    title: 'Event log on vs off (PGlite, 50-chunk runs, 20 at a time)',
    markdown: table(['event log', 'TTFT p50 ms', 'TTFT p99 ms', 'runs/s'], rows),
    data,
  };
}

/** A server on a fresh PostgreSQL database, as the non-superuser runtime role. */
export async function postgresServer(extraEnv: Record<string, string> = {}) {
  const database = await createTestDatabase('bench');
  const server = await startServer({
    env: {
      PARLEY_DATABASE_URL: database.runtimeUrl,
      PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
      PARLEY_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
      ...extraEnv,
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
}

export const clientFor = (server: ServerProcess) =>
  createParleyClient({ baseUrl: server.url, token: server.token });
