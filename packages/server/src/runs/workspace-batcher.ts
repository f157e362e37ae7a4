import type { AppendBatch, AppendResult, ScopeOptions, Store, WorkspaceScope } from '@parley/store';

type Settle = { resolve: (value: unknown) => void; reject: (error: unknown) => void };
/** What became of one job: its value, or its error. */
export type Outcome = { ok: boolean; value: unknown };

/**
 * Writes of one kind that a round stores together, in a few statements whatever their number
 * (a burst's run rows, messages, event-log appends): `together` answers one outcome per
 * payload, in order, and isolates a bad payload itself (mergeOrAlone).
 */
export interface MergeKind<P> {
  readonly name: string;
  /**
   * The store call keeps payloads of one lane in their order (a run's two appends, two
   * messages of a conversation): they may share a call. Otherwise a payload waits for the
   * next call after one of its lanes.
   */
  readonly keepsLaneOrder?: boolean;
  /**
   * Its rows are what later writes of its lanes refer to (a run's row, its conversation's):
   * in a round sent at once, a later group sharing one of its lanes waits until it is stored.
   * Its call may take more than one statement, so the order it was started in is not enough.
   */
  readonly creates?: boolean;
  together(ws: WorkspaceScope, payloads: readonly P[]): Promise<Outcome[]>;
}

/**
 * Work for a round: a function, or a payload of a kind the round stores together with the
 * others of its kind. `lanes` name what the job must stay in order with (a run, a
 * conversation); it waits for every earlier job that shares one of them. A merged job with
 * `refuseIf` (a run's end) is refused when an earlier job of its lanes failed in the same
 * round, or when `refuseIf()` says one failed before (the run's end then says so instead:
 * run-executor.ts).
 */
type Job = Settle & { lanes: readonly string[] } & (
    | { fn: (ws: WorkspaceScope) => Promise<unknown> }
    | MergeWork
  );
type MergeWork = { kind: MergeKind<unknown>; payload: unknown; refuseIf?: () => boolean };
type MergeJob = Settle & MergeWork & { lanes: readonly string[] };

/** A run's end (it carries `refuseIf`: see Job). */
const isEnd = (job: Job) => 'refuseIf' in job && job.refuseIf !== undefined;

/** A run's end not stored because a write of the run before it failed. */
export class EndRefused extends Error {
  override readonly name = 'EndRefused';
  constructor() {
    super('An earlier write of this run failed: its end is not stored as it stands.');
  }
}

/** One workspace's queued jobs, and the lanes its rounds in flight hold. */
interface WorkspaceQueue {
  jobs: Job[];
  held: Set<string>;
  /** Runs' ends among `jobs`. */
  ends: number;
  /** A round has been started and has not taken its jobs yet: it will take what is ready. */
  opening: boolean;
  /** Rounds of this workspace in flight, and when the last one started. */
  rounds: number;
  lastStart: number;
  /** Set while ready work waits for the rounds in flight to finish or to stall. */
  timer?: ReturnType<typeof setTimeout>;
}

/** Thrown to roll back a round without savepoints that had a failure (runRound). */
const AGAIN_WITH_SAVEPOINTS = Symbol('again with savepoints');

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
 * never undoes another's work; each caller gets its own result or error. Jobs of a merged
 * kind (runs starting, messages, event-log appends) go to the store together, as one call of
 * a few statements for any number of runs: a round's statements, each a wait for the
 * database and for a turn of a busy event loop, do not grow with the burst.
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
   * with an earlier job still waiting, waits too (order per lane). Without `take`, only
   * looks: a ready run's end if there is one, else the first ready job.
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
        // Looking: a run's end settles it (it goes now); with none queued, any job does.
        if (!take && (queue.ends === 0 || isEnd(job))) return [job];
      }
    }
    if (!take) return taken.slice(0, 1);
    queue.jobs = rest;
    for (const job of taken) {
      for (const lane of job.lanes) queue.held.add(lane);
      if (isEnd(job)) queue.ends--;
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

  /**
   * Starts rounds while connections are free and some workspace has work that can go. A run's
   * end goes at once, without waiting for the workspace's rounds in flight: its clients wait
   * for it to be stored, and a run has one end (group commit is for the events before it).
   */
  const pump = () => {
    for (const [workspaceId, queue] of workspaces) {
      if (rounds >= concurrency) return;
      if (queue.opening) continue;
      const waiting = ready(queue, false);
      if (waiting.length === 0 || (!isEnd(waiting[0]!) && !mayStart(queue))) continue;
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
    let outcomes: Outcome[] = [];
    const takeJobs = () => {
      queue.opening = false;
      jobs = ready(queue, true);
      // What is still ready (another lane's work that arrived meanwhile) may start its own.
      pump();
      return jobs;
    };
    /**
     * A round of merged writes goes without savepoints (each is two round trips, and a
     * round is a few statements): if any of its jobs fails — a database error aborts the
     * transaction, and a typed refusal may come after a statement that wrote — the round is
     * rolled back and done again with them, so that each job's failure is its own and undoes
     * only its own work. Functions always get savepoints: they run once.
     */
    const attempt = (careful: boolean) =>
      store.withWorkspace(
        workspaceId,
        // Taken once the transaction is open: what arrived while it was being opened
        // (typically the other runs' events of the same instant) shares this round.
        async (ws) => {
          const taken = jobs ?? takeJobs();
          const bold = !careful && taken.every((job) => 'kind' in job);
          if (bold) ws.withoutSavepoints();
          outcomes = await execute(ws, taken, bold);
          if (bold && outcomes.some((outcome) => !outcome.ok)) throw AGAIN_WITH_SAVEPOINTS;
        },
        scope,
      );
    try {
      await attempt(false).catch((error: unknown) => {
        if (error !== AGAIN_WITH_SAVEPOINTS) throw error;
        return attempt(true);
      });
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
      queue = { jobs: [], ends: 0, held: new Set(), opening: false, rounds: 0, lastStart: 0 };
      workspaces.set(workspaceId, queue);
    }
    queue.jobs.push(job);
    if (isEnd(job)) queue.ends++;
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
     * Hands `payload` to a round of its lanes, stored together with the other ready jobs of
     * its kind in that round. `refuseIf`: see Job.
     */
    merge<P, R>(
      target: { workspaceId: string; lanes: readonly string[] },
      kind: MergeKind<P>,
      payload: P,
      refuseIf?: () => boolean,
    ): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        enqueue(target.workspaceId, {
          kind: kind as MergeKind<unknown>,
          payload,
          ...(refuseIf ? { refuseIf } : {}),
          lanes: target.lanes,
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
      return this.merge({ workspaceId, lanes: [batch.runId] }, EVENT_APPENDS, batch, refuseIf);
    },
    /** Resolves when nothing is queued or being written. */
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export type WorkspaceBatcher = ReturnType<typeof createWorkspaceBatcher>;

/**
 * A round's jobs as groups to execute in order: each function alone, merged jobs of a kind
 * together. A job joins the latest group of its kind unless a later group holds one of its
 * lanes (it never overtakes work of its own lanes), nor that group itself unless the kind
 * keeps lane order.
 */
export function planRound<J extends { lanes: readonly string[] }>(
  jobs: readonly J[],
  kindOf: (job: J) => MergeKind<unknown> | undefined,
): J[][] {
  const groups: { kind: MergeKind<unknown> | undefined; jobs: J[]; lanes: Set<string> }[] = [];
  for (const job of jobs) {
    const kind = kindOf(job);
    let home: (typeof groups)[number] | undefined;
    for (let g = groups.length - 1; g >= 0 && kind; g--) {
      const group = groups[g]!;
      const clash = job.lanes.some((lane) => group.lanes.has(lane));
      if (group.kind === kind && (!clash || kind.keepsLaneOrder)) home = group;
      if (clash || home) break;
    }
    if (!home) {
      home = { kind, jobs: [], lanes: new Set() };
      groups.push(home);
    }
    home.jobs.push(job);
    for (const lane of job.lanes) home.lanes.add(lane);
  }
  return groups.map((group) => group.jobs);
}

/**
 * A round's jobs: functions alone, merged kinds together; one outcome per job, in its order.
 * `bold` (merged jobs only, no savepoints): every group's statements go at once, pipelined
 * behind each other on the connection — one wait for the database instead of one per group
 * (a run's end and its final message are two). Order between groups does not matter inside
 * the one transaction, and a failure anywhere sends the whole round back to be done again
 * with savepoints, one group at a time, where an end refused for an earlier failure of its
 * run is told apart.
 */
async function execute(ws: WorkspaceScope, jobs: readonly Job[], bold = false): Promise<Outcome[]> {
  if (bold) return executeAtOnce(ws, jobs as readonly MergeJob[]);
  const outcomes = new Map<Job, Outcome>();
  // Lanes with a failed job in this round: a run's end after it is refused.
  const failedLanes = new Set<string>();
  const settle = (job: Job, outcome: Outcome) => {
    outcomes.set(job, outcome);
    if (!outcome.ok) for (const lane of job.lanes) failedLanes.add(lane);
  };
  for (const group of planRound(jobs, (job) => ('kind' in job ? job.kind : undefined))) {
    const first = group[0]!;
    if ('fn' in first) {
      try {
        settle(first, { ok: true, value: await first.fn(ws) });
      } catch (error) {
        settle(first, { ok: false, value: error });
      }
      continue;
    }
    const merged = group as MergeJob[];
    const stored = await storeGroup(ws, merged, failedLanes);
    for (const [k, job] of merged.entries()) settle(job, stored[k]!);
  }
  return jobs.map((job) => outcomes.get(job)!);
}

/**
 * The groups of a round of merged jobs, sent at once (see execute), except that a group
 * waits for an earlier one that creates rows of its lanes (`creates`: a run's first message
 * refers to its row). No lane can have failed before a group here: any failure redoes the
 * round one group at a time.
 */
async function executeAtOnce(ws: WorkspaceScope, jobs: readonly MergeJob[]): Promise<Outcome[]> {
  const groups = planRound(jobs, (job) => job.kind);
  const sent: Promise<Outcome[]>[] = [];
  for (const [g, group] of groups.entries()) {
    const lanes = new Set(group.flatMap((job) => job.lanes));
    const creators = sent.filter(
      (_, e) =>
        groups[e]![0]!.kind.creates &&
        groups[e]!.some((job) => job.lanes.some((l) => lanes.has(l))),
    );
    const store = () => storeGroup(ws, group, new Set());
    sent[g] = creators.length > 0 ? Promise.all(creators).then(store) : store();
  }
  const stored = await Promise.all(sent);
  const outcomes = new Map(
    groups.flatMap((group, g) => group.map((job, k) => [job, stored[g]![k]!])),
  );
  return jobs.map((job) => outcomes.get(job)!);
}

/**
 * One group of merged jobs in one call of its kind: one outcome per job, in order. A run's end
 * (`refuseIf`) is refused instead when its run's earlier write failed, before or in this round.
 */
async function storeGroup(
  ws: WorkspaceScope,
  group: readonly MergeJob[],
  failedLanes: ReadonlySet<string>,
): Promise<Outcome[]> {
  const refused = group.map(
    (job) => !!job.refuseIf && (job.refuseIf() || job.lanes.some((lane) => failedLanes.has(lane))),
  );
  const kept = group.filter((_, k) => !refused[k]);
  const stored = kept.length
    ? await group[0]!.kind.together(
        ws,
        kept.map((job) => job.payload),
      )
    : [];
  return group.map((_, k) =>
    refused[k] ? { ok: false, value: new EndRefused() } : stored.shift()!,
  );
}

/**
 * Stores payloads with one call of `many` (one outcome per payload, in order: a payload's
 * typed refusal is its own); if that call itself fails (a database error), each payload is
 * tried alone with `one`, so that one bad payload fails only its own job.
 */
export async function mergeOrAlone<P>(
  ws: WorkspaceScope,
  payloads: readonly P[],
  many: (payloads: readonly P[]) => Promise<Outcome[]>,
  one: (payload: P) => Promise<unknown>,
): Promise<Outcome[]> {
  try {
    return await many(payloads);
  } catch (error) {
    // Without savepoints the failure aborted the transaction: nothing more can run in it
    // (the round is done again with them).
    if (payloads.length === 1 || !ws.savepoints)
      return payloads.map(() => ({ ok: false, value: error }));
    const alone: Outcome[] = [];
    for (const payload of payloads) {
      try {
        alone.push({ ok: true, value: await one(payload) });
      } catch (failure) {
        alone.push({ ok: false, value: failure });
      }
    }
    return alone;
  }
}

/** Each value a success, in order (for `many` calls without typed refusals). */
export const allStored = (values: readonly unknown[]): Outcome[] =>
  values.map((value) => ({ ok: true, value }));

/** Event-log appends: every run's batch of the round in one store call (two statements). */
const EVENT_APPENDS: MergeKind<AppendBatch> = {
  name: 'event appends',
  keepsLaneOrder: true,
  together: (ws, batches) =>
    mergeOrAlone(
      ws,
      batches,
      async (all) =>
        (await ws.runs.appendRunEventsMany(all)).map((o) =>
          o.ok ? { ok: true, value: o.result } : { ok: false, value: o.error },
        ),
      (batch) => ws.runs.appendRunEvents(batch.runId, batch.events, batch),
    ),
};
