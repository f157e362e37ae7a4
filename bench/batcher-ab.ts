/**
 * The workspace batcher alone, on PostgreSQL: N runs of one workspace each stream 40 events 15
 * ms apart through it (one write in flight per run, as the event log does) and then end. For
 * each stall threshold: how long the terminal write takes (submit → stored), the wall time
 * and the CPU the process spent. `stallMs: Infinity` is the old one-round-at-a-time batcher.
 * Run: node bench/batcher-ab.ts [runs…] (default 50 100). Reports; never gates.
 */
import type { ParleyEvent } from '@parley/protocol';
import { type AppendBatch, type AppendResult, openStore, type Store } from '@parley/store';
import { createTestDatabase } from '@parley/store/testing';
import { fmt, percentiles, table } from './lib.ts';

/** What this bench uses of the batcher (server/src/runs/workspace-batcher.ts). */
interface BatcherModule {
  createWorkspaceBatcher(
    store: Store,
    options: { stallMs?: number },
  ): {
    append(workspaceId: string, batch: AppendBatch): Promise<AppendResult>;
    idle(): Promise<void>;
  };
}
// Loaded by URL: the server package exports no batcher, and the bench is not its project.
const { createWorkspaceBatcher } = (await import(
  new URL('../packages/server/src/runs/workspace-batcher.ts', import.meta.url).href
)) as BatcherModule;

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const EVENTS = 40;
const GAP_MS = 15;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const database = await createTestDatabase('batcherab');
const store = await openStore({
  url: database.runtimeUrl,
  migrationUrl: database.adminUrl,
  masterKey: Buffer.alloc(32, 7).toString('base64'),
  onBackgroundError: () => {},
});
await store.migrate();
const { workspaceId } = (await store.system.workspaces.ensureLocalOwner()).workspace;
const agent = await store.withWorkspace(workspaceId, (ws) => ws.agents.create({ name: 'ab' }));

const event = (runId: string, seq: number, kind: 'start' | 'delta' | 'end') =>
  ({
    v: 1,
    seq,
    runId,
    t: 0,
    ...(kind === 'start'
      ? {
          type: 'run.start',
          agentId: agent.id,
          conversationId: runId,
          startedAt: new Date().toISOString(),
        }
      : kind === 'delta'
        ? { type: 'text.delta', partId: 'p1', delta: `w${seq} ` }
        : { type: 'run.abort', reason: 'cancelled' }),
  }) as ParleyEvent;

async function trial(runs: number, stallMs: number) {
  const batcher = createWorkspaceBatcher(store, { stallMs });
  const ids = await store.withWorkspace(workspaceId, async (ws) => {
    const created: string[] = [];
    for (let i = 0; i < runs; i++) created.push((await ws.runs.create({ agentId: agent.id })).id);
    return created;
  });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const ends = await Promise.all(
    ids.map(async (runId) => {
      let queued: ParleyEvent[] = [];
      let writing: Promise<void> | undefined;
      let seq = 0;
      const drain = async () => {
        while (queued.length > 0) {
          const batch = queued;
          queued = [];
          await batcher.append(workspaceId, { runId, events: batch });
        }
        writing = undefined;
      };
      const push = (e: ParleyEvent) => {
        queued.push(e);
        writing ??= drain();
      };
      push(event(runId, ++seq, 'start'));
      for (let i = 0; i < EVENTS; i++) {
        await sleep(GAP_MS);
        push(event(runId, ++seq, 'delta'));
      }
      const t0 = performance.now();
      push(event(runId, ++seq, 'end'));
      while (writing) await writing;
      return performance.now() - t0;
    }),
  );
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await batcher.idle();
  return { end: percentiles(ends), wall, cpuMs: (used.user + used.system) / 1000 };
}

const rows: (string | number)[][] = [];
for (const runs of sizes.length ? sizes : [50, 100]) {
  for (const stallMs of [Number.POSITIVE_INFINITY, 15, 0, Number.POSITIVE_INFINITY, 15, 0]) {
    const r = await trial(runs, stallMs);
    rows.push([
      runs,
      stallMs === Number.POSITIVE_INFINITY ? '∞ (one round at a time)' : stallMs,
      `${fmt(r.end.p50, 1)} / ${fmt(r.end.p99, 1)}`,
      fmt(r.wall, 0),
      fmt(r.cpuMs, 0),
    ]);
  }
}
process.stdout.write(
  `${table(['runs', 'stallMs', 'terminal write p50 / p99 ms', 'wall ms', 'CPU ms'], rows)}\n`,
);
await store.close();
await database.drop();
