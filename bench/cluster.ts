/**
 * Cluster (issue #21): several instances, started as `npm start` starts them, on one fresh
 * PostgreSQL database (and a private Redis for the Redis bus). Reported, never asserted:
 *   1. the delay a client of another instance sees over a client of the run's owner, with 50
 *      streams open, on the PostgreSQL bus and on Redis, next to the same delay for a second
 *      client of the owner (the machine's own share: two readers in one client process);
 *   2. cancel through another instance → the terminal on the owner's client;
 *   3. failover: SIGKILL of the owner → the next event on a surviving instance's client
 *      (the default lease);
 *   4. a token revoked on one instance → refused by another;
 *   5. one instance on PostgreSQL with the bus vs a checkout from before the cluster work
 *      (`--server-root=`, e.g. a worktree at c545a3b), throughput.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import {
  fmt,
  freePort,
  type Percentiles,
  percentiles,
  pool,
  type ServerProcess,
  startServer,
  table,
} from './lib.ts';
import { type Context, type ScenarioResult, throughput } from './scenarios.ts';
import { deployBenchAgent, standInBase } from './setup.ts';

const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const progress = (what: string) => process.stderr.write(`cluster: ${what}…\n`);

interface Cluster {
  servers: ServerProcess[];
  database: TestDatabase;
  stop(): Promise<void>;
}

/** `n` instances on one fresh database and one data directory (the single-user owner). */
async function startCluster(
  n: number,
  env: Record<string, string> = {},
  root?: string,
): Promise<Cluster> {
  const database = await createTestDatabase('bench_cluster');
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-cluster-'));
  const start = (i: number) =>
    startServer({
      dataDir,
      ...(root ? { root } : {}),
      env: {
        PARLEY_DATABASE_URL: database.runtimeUrl,
        PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
        PARLEY_MASTER_KEY: MASTER_KEY,
        ...(root ? {} : { PARLEY_INSTANCE_ID: `bench-${i}` }),
        ...env,
        // E.g. `--cpu-prof --cpu-prof-dir=…` to profile the instances.
        ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      },
    });
  const servers = [await start(0)];
  servers.push(...(await Promise.all(Array.from({ length: n - 1 }, (_, i) => start(i + 1)))));
  return {
    servers,
    database,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A private redis-server (Debian's) on a free port. */
async function startRedis(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

interface Frame {
  seq: number;
  type: string;
  at: number;
}

/** Reads an SSE response, calling `onFrame` with each event's seq, type and arrival time. */
async function readFrames(response: Response, onFrame: (frame: Frame) => void): Promise<void> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const at = performance.now();
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(text);
        const type = /^event: (\S+)$/m.exec(text);
        if (id && type) onFrame({ seq: Number(id[1]), type: type[1]!, at });
        end = buffer.indexOf('\n\n');
      }
    }
  } catch {
    // The instance died: what arrived is what the client saw.
  }
}

const isTerminal = (type: string) => ['run.finish', 'run.error', 'run.abort'].includes(type);

/** How long a client reads one run before the benchmark counts it as not ended. */
const READ_LIMIT_MS = 60_000;

function startRun(server: ServerProcess, agent: string, signal?: AbortSignal) {
  return fetch(`${server.url}/v1/workspaces/${server.workspaceId}/agents/${agent}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: 'Say something.' }),
    ...(signal ? { signal } : {}),
  });
}

/**
 * GET …/events on `server`, retried while the run's row is not stored yet (404: the run
 * streams while its row is written), backing off from 10 to 160 ms as a client would;
 * `onRetry` counts the 404s. (Fifty clients retrying every 10 ms made the instance count
 * each miss as a probe on one counter row — hundreds of upserts queued on its lock — and
 * attaching took most of a run.)
 */
async function followOn(
  server: ServerProcess,
  runId: string,
  signal?: AbortSignal,
  onRetry: () => void = () => {},
): Promise<Response> {
  for (let wait = 10; ; wait = Math.min(wait * 2, 160)) {
    const response = await fetch(`${server.url}/v1/runs/${runId}/events`, {
      headers: { authorization: `Bearer ${server.token}`, 'last-event-id': '0' },
      ...(signal ? { signal } : {}),
    });
    if (response.status === 200) return response;
    await response.body?.cancel();
    onRetry();
    await sleep(wait);
  }
}

/** CPU seconds used so far, and the event loop's delay since the last scrape (prom-client). */
async function processStats(server: ServerProcess) {
  const text = await fetch(`${server.url}/metrics`).then((r) => r.text());
  const value = (name: string) =>
    Number(new RegExp(`^parley_process_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    cpuSeconds: value('process_cpu_seconds_total'),
    lagP99Ms: value('nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

const msRow = (name: string, p: Percentiles) => [name, p.n, fmt(p.p50), fmt(p.p99), fmt(p.mean)];

/** How long after attaching a follower counts as catching up (its replay, its first watch). */
const CATCH_UP_MS = 500;

/**
 * 1. Each of 50 runs is read by two clients at once: one on the owner (its POST), one on the
 * other instance (GET …/events; with `sameInstance`, on the owner too: the baseline). For
 * every text.delta both saw live, the second's arrival minus the first's: in the first
 * CATCH_UP_MS after the second attached (it replays the log and asks for the run's events),
 * and after (live). A run that failed over (a lease lapsed on a starved machine) shows the
 * same seqs twice: counted apart, not in the delays.
 */
async function followerDelay(
  ctx: Context,
  label: string,
  env: Record<string, string>,
  sameInstance = false,
) {
  progress(`follower delay, ${label}`);
  const cluster = await startCluster(2, env);
  try {
    const [owner, second] = cluster.servers as [ServerProcess, ServerProcess];
    const other = sameInstance ? owner : second;
    const shape = { ttftMs: 20, chunks: ctx.quick ? 400 : 800, gapMs: 20 };
    await deployBenchAgent(owner, 'bench-follow', standInBase(ctx.standIn, shape));
    const before = await Promise.all([processStats(owner), processStats(second)]);
    const live: number[] = [];
    const catchUp: number[] = [];
    const attach: number[] = [];
    let notFound = 0;
    let incomplete = 0;
    let failedOver = 0;
    const streams = 50;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: streams }, async (_, i) => {
        await sleep((i * 200 * shape.gapMs) / streams / 4);
        const signal = AbortSignal.timeout(READ_LIMIT_MS);
        const response = await startRun(owner, 'bench-follow', signal);
        const runId = response.headers.get('x-parley-run-id')!;
        const atOwner = new Map<number, number>();
        const atOther = new Map<number, number>();
        const attaching = performance.now();
        let connected = Number.POSITIVE_INFINITY;
        let ownerEnd = false;
        let otherEnd = false;
        let reset = false;
        const saw = (f: Frame, at: Map<number, number>) => {
          if (f.type === 'text.delta') at.set(f.seq, f.at);
          if (f.type === 'step.reset' || f.type === 'run.gap') reset = true;
        };
        await Promise.all([
          readFrames(response, (f) => {
            saw(f, atOwner);
            if (isTerminal(f.type)) ownerEnd = true;
          }),
          followOn(other, runId, signal, () => notFound++)
            .then((r) => {
              connected = performance.now();
              attach.push(connected - attaching);
              return readFrames(r, (f) => {
                saw(f, atOther);
                if (isTerminal(f.type)) otherEnd = true;
              });
            })
            .catch(() => {}),
        ]);
        if (!ownerEnd || !otherEnd) incomplete++;
        if (reset) {
          failedOver++;
          return;
        }
        // Only events the owner's client got after the second client was attached (not its
        // replay of what came before).
        for (const [seq, at] of atOwner) {
          const there = atOther.get(seq);
          if (there === undefined || at <= connected) continue;
          (at > connected + CATCH_UP_MS ? live : catchUp).push(there - at);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = await Promise.all([processStats(owner), processStats(second)]);
    const instances = sameInstance ? [0] : [0, 1];
    return {
      label,
      delay: percentiles(live),
      catchUp: percentiles(catchUp),
      attach: percentiles(attach),
      notFound,
      incomplete,
      failedOver,
      // Each instance's share of a core over the pass, and its event loop's p99 delay.
      cpu: instances.map((i) => (after[i]!.cpuSeconds - before[i]!.cpuSeconds) / seconds),
      lagP99Ms: instances.map((i) => after[i]!.lagP99Ms),
    };
  } finally {
    await cluster.stop();
  }
}

/**
 * 2. Cancel through another instance (and through the owner: the baseline), from the POST to
 * the owner's client seeing the end. Measured on warm instances: the first runs of a fresh
 * process also compile the run path and load its lazy modules, which a cluster in service has
 * long done; those first runs are reported apart ("cold").
 */
async function cancelElsewhere(ctx: Context) {
  progress('cancel through the owner and through another instance');
  const cluster = await startCluster(2);
  try {
    const [owner, second] = cluster.servers as [ServerProcess, ServerProcess];
    const shape = { ttftMs: 20, chunks: 2000, gapMs: 10 };
    await deployBenchAgent(owner, 'bench-cancel', standInBase(ctx.standIn, shape));
    const n = ctx.quick ? 30 : 100;
    const pass = (through: ServerProcess, runs: number) => cancelPass(owner, through, runs);
    const cold = await pass(second, 10);
    await pass(owner, 20);
    const passes = [
      { label: 'through the owner (baseline)', ...(await pass(owner, n)) },
      { label: 'through another instance', ...(await pass(second, n)) },
      { label: 'through another instance, cold (first runs of fresh instances)', ...cold },
    ];
    return passes.map(({ latencies, ...p }) => ({ ...p, latency: percentiles(latencies) }));
  } finally {
    await cluster.stop();
  }
}

/**
 * Cancelled mid-stream, half a second in ("stop generating"), while nine others stream. (At the
 * fifth delta, 70 ms in, runs ended as fast as they started: the pass measured a cancel on two
 * cores saturated by ~75 run starts a second, each still storing its start.)
 */
const CANCEL_AT_TEXT = 50;

/** `runs` runs, 10 at a time, each cancelled through `through` at its CANCEL_AT_TEXT-th text delta. */
async function cancelPass(owner: ServerProcess, through: ServerProcess, runs: number) {
  const latencies: number[] = [];
  let notTaken = 0;
  await pool(Array.from({ length: runs }), 10, async () => {
    const signal = AbortSignal.timeout(READ_LIMIT_MS);
    const response = await startRun(owner, 'bench-cancel', signal);
    const runId = response.headers.get('x-parley-run-id')!;
    let t0 = 0;
    let texts = 0;
    let ended = 0;
    let answer: Promise<void> | undefined;
    await readFrames(response, (f) => {
      if (f.type === 'text.delta' && ++texts === CANCEL_AT_TEXT) {
        t0 = performance.now();
        answer = fetch(`${through.url}/v1/runs/${runId}/cancel`, {
          method: 'POST',
          headers: { authorization: `Bearer ${through.token}` },
        })
          .then((r) => r.json() as Promise<{ cancelled: boolean }>)
          .then((a) => {
            if (!a.cancelled) notTaken++;
          });
      }
      if (isTerminal(f.type)) ended = f.at;
    });
    await answer;
    if (t0 && ended) latencies.push(ended - t0);
  });
  return { latencies, n: runs, notTaken };
}

/**
 * 3. SIGKILL of the owner → the continuation's first event (run.gap or step.reset) on the
 * clients of a surviving instance.
 */
async function failover(ctx: Context) {
  progress('failover');
  const cluster = await startCluster(3);
  try {
    const [owner, other] = cluster.servers as [ServerProcess, ServerProcess, ServerProcess];
    const shape = { ttftMs: 20, chunks: 600, gapMs: 50 };
    await deployBenchAgent(owner, 'bench-failover', standInBase(ctx.standIn, shape));
    const runs = 10;
    let killedAt = 0;
    const nextEvent: number[] = [];
    let continued = 0;
    const ready: Promise<void>[] = [];
    const clients = Array.from({ length: runs }, async () => {
      const response = await startRun(owner, 'bench-failover');
      const runId = response.headers.get('x-parley-run-id')!;
      const follower = await followOn(other, runId);
      void response.body?.cancel();
      let texts = 0;
      let seenAfterKill = false;
      let markReady!: () => void;
      ready.push(new Promise((resolve) => (markReady = resolve)));
      const deadline = setTimeout(() => void follower.body?.cancel(), READ_LIMIT_MS);
      await readFrames(follower, (f) => {
        if (f.type === 'text.delta' && ++texts === 3) markReady();
        // The continuation starts with a run.gap (then step.reset, reason failover): events
        // that merely arrive late from the dead owner do not count.
        const continuation = f.type === 'run.gap' || f.type === 'step.reset';
        if (killedAt && !seenAfterKill && continuation && f.at > killedAt) {
          seenAfterKill = true;
          nextEvent.push(f.at - killedAt);
        }
        if (f.type === 'run.finish') continued++;
        if (isTerminal(f.type)) clearTimeout(deadline);
      });
      clearTimeout(deadline);
    });
    const readyBy = performance.now() + READ_LIMIT_MS;
    while (ready.length < runs && performance.now() < readyBy) await sleep(20);
    await Promise.race([Promise.all(ready), sleep(Math.max(0, readyBy - performance.now()))]);
    killedAt = performance.now();
    owner.child.kill('SIGKILL');
    await Promise.all(clients);
    return { nextEvent: percentiles(nextEvent), runs, continued };
  } finally {
    await cluster.stop();
  }
}

/** 4. A token revoked on one instance (after use on both) → the other refuses it. */
async function revocation(ctx: Context) {
  progress('revocation');
  const cluster = await startCluster(2);
  try {
    const [first, second] = cluster.servers as [ServerProcess, ServerProcess];
    const rounds = ctx.quick ? 5 : 20;
    const delays: number[] = [];
    let never = 0;
    let refusedCreate: string | undefined;
    for (let i = 0; i < rounds; i++) {
      const created = await fetch(`${first.url}/v1/workspaces/${first.workspaceId}/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `bench-${i}`, scopes: ['agents:read'] }),
      });
      if (!created.ok) {
        // E.g. a limit on token creation: report what was measured so far.
        refusedCreate = `${created.status} ${await created.text()}`.slice(0, 200);
        break;
      }
      const { token, info } = (await created.json()) as { token: string; info: { id: string } };
      const use = (server: ServerProcess) =>
        fetch(`${server.url}/v1/workspaces/${server.workspaceId}/agents`, {
          headers: { authorization: `Bearer ${token}` },
        }).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        });
      await use(first);
      await use(second);
      const t0 = performance.now();
      await fetch(`${first.url}/v1/workspaces/${first.workspaceId}/tokens/${info.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${first.token}` },
      });
      let refused = false;
      while (performance.now() - t0 < 20_000) {
        // 401, or 429 once this address's failed checks reach the auth-failure limit (every
        // round's refusal counts): either way the revoked token no longer works there.
        const status = await use(second);
        if (status === 401 || status === 429) {
          refused = true;
          break;
        }
        await sleep(5);
      }
      if (refused) delays.push(performance.now() - t0);
      else never++;
    }
    return {
      delay: percentiles(delays),
      rounds,
      never,
      ...(refusedCreate ? { refusedCreate } : {}),
    };
  } finally {
    await cluster.stop();
  }
}

/** 5. One instance on PostgreSQL: this checkout (the bus on) vs `baselineRoot`'s server. */
async function singleInstance(ctx: Context, baselineRoot: string | undefined) {
  const rows: { label: string; runsPerSecond: number }[] = [];
  const variants: [string, string | undefined][] = [['this checkout (bus on)', undefined]];
  if (baselineRoot) variants.push([`before the cluster (${baselineRoot})`, baselineRoot]);
  for (const [label, root] of variants) {
    progress(`throughput, ${label}`);
    const cluster = await startCluster(1, {}, root);
    try {
      const result = await throughput(ctx, cluster.servers[0]!, 'PostgreSQL');
      rows.push({ label, runsPerSecond: result.data.runsPerSecond as number });
    } finally {
      await cluster.stop();
    }
  }
  return rows;
}

/** `--only=cluster` runs them all; `--only=cluster-<part>` one. */
export const CLUSTER_PARTS = ['follow', 'cancel', 'failover', 'revocation', 'single'];

export async function clusterScenarios(
  ctx: Context,
  baselineRoot?: string,
  want: (id: string) => boolean = () => true,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  // Each table as soon as it is measured (the run's report comes at the end).
  const push = (result: ScenarioResult) => {
    results.push(result);
    process.stderr.write(`${result.title}\n${result.markdown}\n`);
  };
  if (want('cluster-follow')) {
    const redis = await startRedis();
    try {
      const follow = [
        await followerDelay(ctx, 'baseline: a second client of the owner', {}, true),
        await followerDelay(ctx, 'PostgreSQL bus', {}),
        await followerDelay(ctx, 'Redis bus', { PARLEY_REDIS_URL: redis.url }),
      ];
      const share = (xs: number[]) => xs.map((x) => fmt(x * 100, 0)).join(' / ');
      push({
        id: 'cluster-follow',
        title:
          'Cluster: a client of another instance vs a client of the owner, 50 streams open (added delay per text event; live = from 500 ms after the second client attached, catch-up = before)',
        markdown: table(
          [
            'second client',
            'live events',
            'p50 ms',
            'p99 ms',
            'mean ms',
            'catch-up events',
            'catch-up p50 / p99 ms',
            'attach p50 / p99 ms (404s)',
            'runs failed over / not ended',
            'CPU % of a core (owner / other)',
            'loop delay p99 ms',
          ],
          follow.map((f) => [
            ...msRow(f.label, f.delay),
            f.catchUp.n,
            `${fmt(f.catchUp.p50)} / ${fmt(f.catchUp.p99)}`,
            `${fmt(f.attach.p50, 0)} / ${fmt(f.attach.p99, 0)} (${f.notFound})`,
            `${f.failedOver} / ${f.incomplete}`,
            share(f.cpu),
            f.lagP99Ms.map((x) => fmt(x, 0)).join(' / '),
          ]),
        ),
        data: { follow },
      });
    } finally {
      redis.stop();
    }
  }
  if (want('cluster-cancel')) {
    const cancel = await cancelElsewhere(ctx);
    push({
      id: 'cluster-cancel',
      title: `Cluster: cancel through another instance → the terminal on the owner's client (${cancel[1]!.n} runs, 10 at a time, on warm instances)`,
      markdown: table(
        ['cancel → terminal', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'answers "not taken"'],
        cancel.map((c) => [...msRow(c.label, c.latency), c.notTaken]),
      ),
      data: { cancel },
    });
  }
  if (want('cluster-failover')) {
    const fail = await failover(ctx);
    push({
      id: 'cluster-failover',
      title: `Cluster: SIGKILL of the owner → the next event on another instance's client (${fail.runs} runs, default lease)`,
      markdown: table(
        [
          '',
          'clients that saw the continuation',
          'p50 ms',
          'p99 ms',
          'runs continued to run.finish',
        ],
        [
          [
            'kill → run.gap / step.reset',
            fail.nextEvent.n,
            fmt(fail.nextEvent.p50),
            fmt(fail.nextEvent.p99),
            fail.continued,
          ],
        ],
      ),
      data: fail,
    });
  }
  if (want('cluster-revocation')) {
    const revoke = await revocation(ctx);
    push({
      id: 'cluster-revocation',
      title: `Cluster: a token revoked on one instance → refused by another (${revoke.rounds} rounds)`,
      markdown: table(
        ['', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'still accepted after 20 s'],
        [[...msRow('revoke → 401 elsewhere', revoke.delay), revoke.never]],
      ),
      data: revoke,
    });
  }
  if (want('cluster-single')) {
    const single = await singleInstance(ctx, baselineRoot);
    const ratio =
      single.length === 2 ? single[0]!.runsPerSecond / single[1]!.runsPerSecond : Number.NaN;
    push({
      id: 'cluster-single',
      title: `Cluster: one instance on PostgreSQL, throughput (runs with a tool call, 100 at a time)${baselineRoot ? '' : ' (no --server-root= given: no before)'}`,
      markdown: table(
        ['server', 'runs/s'],
        [
          ...single.map((s) => [s.label, fmt(s.runsPerSecond, 1)]),
          ['ratio (this / before)', fmt(ratio, 3)],
        ],
      ),
      data: { single, ratio },
    });
  }
  return results;
}
