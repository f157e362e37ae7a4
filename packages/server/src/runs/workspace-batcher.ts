import type { AppendBatch, AppendResult, ScopeOptions, Store, WorkspaceScope } from '@parley/store';

type Settle = { resolve: (value: unknown) => void; reject: (error: unknown) => void };
/**
 * Work for a round: a function, or an event-log append (appends are coalesced). `lanes` name
 * what the job must stay in order with (a run, a conversation); it waits for every earlier job
 * that shares one of them.
 */
type Job = Settle & { lanes: readonly string[] } & (
    | { fn: (ws: WorkspaceScope) => Promise<unknown> }
    | AppendWork
  );
/**
 * An append, and for a run's end (`refuseIf` set) whether it must not be stored: refused when
 * an earlier job of its lanes failed in the same round, or when `refuseIf()` says one failed
 * before (the run's end then says so instead: run-executor.ts).
 */
type AppendWork = { append: AppendBatch; refuseIf?: () => boolean };
type AppendJob = Settle & AppendWork & { lanes: readonly string[] };

/** A run's end not stored because a write of the run before it failed. */
export class EndRefused extends Error {
  override readonly name = 'EndRefused';
  constructor() {
    super('An earlier write of this run failed: its end is not stored as it stands.');
  }
}
type Outcome = { ok: boolean; value: unknown };

/** One workspace's queued jobs, and the lanes its rounds in flight hold. */
interface WorkspaceQueue {
  jobs: Job[];
  held: Set<string>;
  /** A round has been started and has not taken its jobs yet: it will take what is ready. */
  opening: boolean;
  /** Rounds of this workspace in flight, and when the last one started. */
  rounds: number;
  lastStart: number;
  /** Set while ready work waits for the rounds in flight to finish or to stall. */
  timer?: ReturnType<typeof setTimeout>;
}

/** The lane of work that names none: it keeps order with itself only. */
const WORKSPACE_LANE = '';

/** A conversation's lane: its messages are written one round at a time, in order. */
export const conversationLane = (conversationId: string) => `conversation:${conversationId}`;

/** A run's lanes: its rows, messages and events in order, and its conversation's writes. */
export const runLanes = (runId: string, conversationId: string) => [
  runId,
  conversationLane(conversationId),
];

/** A workspace id, or a workspace and the lanes the work keeps order with. */
export type Target = string | { workspaceId: string; lanes: readonly string[] };

export interface WorkspaceBatcherOptions {
  scope?: ScopeOptions;
  /**
   * Rounds (transactions) in flight at once, over all workspaces. Default: 1 on PGlite (one
   * connection: everything coalesces into one round), 8 on PostgreSQL (of the pool's 10, two
   * left for requests).
   */
  concurrency?: number;
  /**
   * While a workspace's rounds are quick, its next round waits for them and takes everything
   * that arrived meanwhile (group commit: the fewest transactions). Once the newest has been
   * in flight this long (a held lock, a slow disk), ready work starts a round of its own. Default 15 ms.
   */
  stallMs?: number;
}

/**
 * Group commit for the run path's small writes and reads (event-log appends, messages,
 * history). A job belongs to lanes (a run's id, its conversation's); jobs sharing a lane run in
 * submission order, each after the earlier one is committed. A round takes every job of the
 * workspace that is ready (none of its lanes held by a round in flight): while rounds are
 * quick, the next one waits for them and carries every live run's writes of the moment in one
 * transaction (on PGlite, one connection, always). When a round stalls (a held lock, a slow
 * disk) for `stallMs`, ready work of other lanes starts a round of its own on another
 * connection, up to `concurrency` rounds over all workspaces: one run's slow write never holds
 * back another run's end. Each job's store calls keep their own savepoints, so one job's error
 * never undoes another's work; each caller gets its own result or error. Consecutive
 * event-log appends of a round go to the store as one call: two statements for any number of
 * runs.
 */
export function createWorkspaceBatcher(store: Store, options: WorkspaceBatcherOptions = {}) {
  const scope = options.scope ?? { actor: { type: 'system' } };
  const concurrency = options.concurrency ?? (store.kind === 'pglite' ? 1 : 8);
  const stallMs = options.stallMs ?? 15;
  const workspaces = new Map<string, WorkspaceQueue>();
  const inFlight = new Set<Promise<void>>();
  let rounds = 0;

  /**
   * The jobs a round may take now, in submission order: a job whose lane is held, or shared
   * with an earlier job still waiting, waits too (order per lane).
   */
  const ready = (queue: WorkspaceQueue, take: boolean): Job[] => {
    const blocked = new Set(queue.held);
    const taken: Job[] = [];
    const rest: Job[] = [];
    for (const job of queue.jobs) {
      if (job.lanes.some((lane) => blocked.has(lane))) {
        for (const lane of job.lanes) blocked.add(lane);
        rest.push(job);
      } else {
        taken.push(job);
        if (!take) return taken;
      }
    }
    if (take) {
      queue.jobs = rest;
      for (const job of taken) for (const lane of job.lanes) queue.held.add(lane);
    }
    return taken;
  };

  /**
   * Whether the workspace may start another round now: none in flight, or the newest has
   * stalled (else a timer asks again when it would have).
   */
  const mayStart = (queue: WorkspaceQueue) => {
    if (queue.rounds === 0) return true;
    const waited = performance.now() - queue.lastStart;
    if (waited >= stallMs) return true;
    queue.timer ??= setTimeout(() => {
      queue.timer = undefined;
      pump();
    }, stallMs - waited);
    return false;
  };

  /** Starts rounds while connections are free and some workspace has work that can go. */
  const pump = () => {
    for (const [workspaceId, queue] of workspaces) {
      if (rounds >= concurrency) return;
      if (queue.opening || ready(queue, false).length === 0 || !mayStart(queue)) continue;
      // Re-inserted last: the next free connection goes to another workspace first.
      workspaces.delete(workspaceId);
      workspaces.set(workspaceId, queue);
      startRound(workspaceId, queue);
    }
  };

  const startRound = (workspaceId: string, queue: WorkspaceQueue) => {
    rounds++;
    queue.rounds++;
    queue.lastStart = performance.now();
    queue.opening = true;
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = undefined;
    const round = runRound(workspaceId, queue).finally(() => inFlight.delete(round));
    inFlight.add(round);
  };

  const runRound = async (workspaceId: string, queue: WorkspaceQueue) => {
    let jobs: Job[] | undefined;
    const outcomes: Outcome[] = [];
    const takeJobs = () => {
      queue.opening = false;
      jobs = ready(queue, true);
      // What is still ready (another lane's work that arrived meanwhile) may start its own.
      pump();
      return jobs;
    };
    try {
      await store.withWorkspace(
        workspaceId,
        // Taken once the transaction is open: what arrived while it was being opened
        // (typically the other runs' events of the same instant) shares this round.
        async (ws) => outcomes.push(...(await execute(ws, takeJobs()))),
        scope,
      );
      jobs!.forEach((job, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) job.resolve(outcome.value);
        else job.reject(outcome.value);
      });
    } catch (error) {
      // The transaction itself failed (the database went away): every job of the round
      // fails, including those it had not taken yet.
      for (const job of jobs ?? takeJobs()) job.reject(error);
    } finally {
      for (const job of jobs ?? []) for (const lane of job.lanes) queue.held.delete(lane);
      rounds--;
      queue.rounds--;
      if (queue.jobs.length === 0 && queue.rounds === 0) workspaces.delete(workspaceId);
      pump();
    }
  };

  const enqueue = (workspaceId: string, job: Job) => {
    let queue = workspaces.get(workspaceId);
    if (!queue) {
      queue = { jobs: [], held: new Set(), opening: false, rounds: 0, lastStart: 0 };
      workspaces.set(workspaceId, queue);
    }
    queue.jobs.push(job);
    pump();
  };

  return {
    /**
     * Runs `fn` in a round of the workspace. With `lanes` (`runLanes(…)`, a conversation's
     * lane) it goes after earlier work of the same lanes only; without, after earlier
     * lane-less work.
     */
    run<T>(target: Target, fn: (ws: WorkspaceScope) => Promise<T>): Promise<T> {
      const { workspaceId, lanes } =
        typeof target === 'string' ? { workspaceId: target, lanes: [WORKSPACE_LANE] } : target;
      return new Promise<T>((resolve, reject) => {
        enqueue(workspaceId, {
          fn,
          lanes,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
      });
    },
    /**
     * Appends to a run's event log in a round of its own run's lane (after the run's earlier
     * work), together with the other ready runs' appends.
     */
    append(
      workspaceId: string,
      batch: AppendBatch,
      refuseIf?: () => boolean,
    ): Promise<AppendResult> {
      return new Promise<AppendResult>((resolve, reject) => {
        enqueue(workspaceId, {
          append: batch,
          ...(refuseIf ? { refuseIf } : {}),
          lanes: [batch.runId],
          resolve: resolve as (value: unknown) => void,
          reject,
        });
      });
    },
    /** Resolves when nothing is queued or being written. */
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export type WorkspaceBatcher = ReturnType<typeof createWorkspaceBatcher>;

/** A round's jobs in order, consecutive appends as one store call; one outcome per job. */
async function execute(ws: WorkspaceScope, jobs: readonly Job[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  // Lanes with a failed job in this round: a run's end after it is refused.
  const failedLanes = new Set<string>();
  for (let i = 0; i < jobs.length; ) {
    const job = jobs[i]!;
    if ('fn' in job) {
      try {
        outcomes.push({ ok: true, value: await job.fn(ws) });
      } catch (error) {
        outcomes.push({ ok: false, value: error });
        for (const lane of job.lanes) failedLanes.add(lane);
      }
      i++;
      continue;
    }
    let end = i;
    while (end < jobs.length && 'append' in jobs[end]!) end++;
    const appends = jobs.slice(i, end) as AppendJob[];
    const refused = appends.map(
      (a) => !!a.refuseIf && (a.refuseIf() || a.lanes.some((lane) => failedLanes.has(lane))),
    );
    const stored = await appendTogether(
      ws,
      appends.filter((_, k) => !refused[k]),
    );
    for (let k = 0; k < appends.length; k++)
      outcomes.push(refused[k] ? { ok: false, value: new EndRefused() } : stored.shift()!);
    i = end;
  }
  return outcomes;
}

/**
 * One store call for the appends; if that call itself fails (a database error rather than
 * one batch's typed refusal), each append is tried alone so that one bad batch fails only
 * its own run.
 */
async function appendTogether(ws: WorkspaceScope, jobs: readonly AppendJob[]): Promise<Outcome[]> {
  if (jobs.length === 0) return [];
  try {
    const outcomes = await ws.runs.appendRunEventsMany(jobs.map((job) => job.append));
    return outcomes.map((o) =>
      o.ok ? { ok: true, value: o.result } : { ok: false, value: o.error },
    );
  } catch {
    const alone: Outcome[] = [];
    for (const { append } of jobs) {
      try {
        alone.push({
          ok: true,
          value: await ws.runs.appendRunEvents(append.runId, append.events, append),
        });
      } catch (error) {
        alone.push({ ok: false, value: error });
      }
    }
    return alone;
  }
}
