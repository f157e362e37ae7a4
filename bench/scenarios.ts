import { rm } from 'node:fs/promises';
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

/** 1. Time to first token through Parley vs directly, at several concurrencies. */
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
    // Warm both paths (connections, JIT) before measuring.
    await pool(Array.from({ length: Math.min(concurrency, 10) }), concurrency, async () => {
      await timeStream(await directRun(base), performance.now(), isOpenAiText);
      await timeStream(await parleyRun(server, 'bench-ttft'), performance.now(), isParleyText);
    });
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
    title: `TTFT: client → Parley → stand-in vs client → stand-in (${label}; stand-in TTFT ${TTFT_SHAPE.ttftMs} ms)`,
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
  const pg = engine === 'PostgreSQL' ? await postgresServer() : undefined;
  const server = pg ? pg.server : await startServer();
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
    for (let i = 1; i <= sequential; i++) {
      await (await parleyRun(server, `agent-${i % 10}`)).text();
      if (i % Math.floor(sequential / 10) === 0) await sample(i);
    }
    // Finished runs stay in memory for 30 s (late subscribers attach to them): a leak is what
    // is still there after that. The quick run does not wait.
    let afterLinger: number | undefined;
    if (!ctx.quick) {
      await new Promise((r) => setTimeout(r, 35_000));
      afterLinger = await heapUsedMb(server);
    }
    const reference = samples[1]!;
    const growthPer1000 =
      afterLinger === undefined
        ? undefined
        : ((afterLinger - reference.heap) / (sequential - reference.runs)) * 1000;
    return {
      id: `memory-${engine.toLowerCase()}`,
      title: `Memory (${engine}: RSS of the Parley process${pg ? ', not of PostgreSQL' : ''}; ${sequential} sequential runs)`,
      markdown: table(
        [
          'idle MB',
          '10 agents MB',
          'peak during 100 streams MB',
          `RSS after ${sequential} runs MB`,
          `heap after ${reference.runs} / ${sequential} runs MB`,
          'heap 35 s later MB',
          'heap growth MB / 1000 runs',
        ],
        [
          [
            fmt(idle, 1),
            fmt(tenAgents, 1),
            fmt(peak, 1),
            fmt(samples.at(-1)!.rss, 1),
            `${fmt(reference.heap, 1)} / ${fmt(samples.at(-1)!.heap, 1)}`,
            afterLinger === undefined ? 'not waited (quick)' : fmt(afterLinger, 1),
            growthPer1000 === undefined ? '–' : fmt(growthPer1000, 2),
          ],
        ],
      ),
      data: { engine, idle, tenAgents, peak, samples, afterLinger, growthPer1000 },
    };
  } finally {
    if (pg) await pg.stop();
    else {
      await server.stop();
      await rm(server.dataDir, { recursive: true, force: true });
    }
  }
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
