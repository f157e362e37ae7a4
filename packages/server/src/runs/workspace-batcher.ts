import type { AppendBatch, AppendResult, ScopeOptions, Store, WorkspaceScope } from '@parley/store';

type Settle = { resolve: (value: unknown) => void; reject: (error: unknown) => void };
/** Work for the next round: a function, or an event-log append (appends are coalesced). */
type Job = Settle & ({ fn: (ws: WorkspaceScope) => Promise<unknown> } | { append: AppendBatch });
type AppendJob = Settle & { append: AppendBatch };

/**
 * Group commit for the run path's small writes and reads (event-log appends, messages,
 * history): work submitted for a workspace while its transaction is in flight goes into the
 * next transaction together. One transaction per workspace per round instead of one per call:
 * on PGlite (one connection) this is what lets many runs stream at once; on PostgreSQL it
 * saves round trips. Each job's store calls keep their own savepoints, so one job's error
 * never undoes another's work; each caller gets its own result or error. Consecutive
 * event-log appends of a round (one per live run, typically) go to the store as one call:
 * two statements for any number of runs instead of a few per run.
 */
export function createWorkspaceBatcher(
  store: Store,
  options: ScopeOptions = { actor: { type: 'system' } },
) {
  const queues = new Map<string, Job[]>();
  const busy = new Set<string>();
  const inFlight = new Set<Promise<void>>();

  /** Everything queued for the workspace so far; later work waits for the next round. */
  const take = (workspaceId: string): Job[] => {
    const jobs = queues.get(workspaceId) ?? [];
    queues.set(workspaceId, []);
    return jobs;
  };

  const drain = async (workspaceId: string) => {
    busy.add(workspaceId);
    try {
      while ((queues.get(workspaceId)?.length ?? 0) > 0) {
        let jobs: Job[] | undefined;
        const outcomes: { ok: boolean; value: unknown }[] = [];
        try {
          await store.withWorkspace(
            workspaceId,
            async (ws) => {
              // Taken once the transaction is open: what arrived while it was being opened
              // (typically the other runs' events of the same instant) shares this round.
              jobs = take(workspaceId);
              for (let i = 0; i < jobs.length; ) {
                const job = jobs[i]!;
                if ('fn' in job) {
                  try {
                    outcomes.push({ ok: true, value: await job.fn(ws) });
                  } catch (error) {
                    outcomes.push({ ok: false, value: error });
                  }
                  i++;
                  continue;
                }
                let end = i;
                while (end < jobs.length && 'append' in jobs[end]!) end++;
                const appends = jobs.slice(i, end) as AppendJob[];
                outcomes.push(...(await appendTogether(ws, appends)));
                i = end;
              }
            },
            options,
          );
        } catch (error) {
          // The transaction itself failed (the database went away): every job of the round
          // fails, including those it had not taken yet.
          for (const job of jobs ?? take(workspaceId)) job.reject(error);
          continue;
        }
        jobs!.forEach((job, i) => {
          const outcome = outcomes[i]!;
          if (outcome.ok) job.resolve(outcome.value);
          else job.reject(outcome.value);
        });
      }
    } finally {
      busy.delete(workspaceId);
      queues.delete(workspaceId);
    }
  };

  const enqueue = (workspaceId: string, job: Job) => {
    const queue = queues.get(workspaceId) ?? [];
    queue.push(job);
    queues.set(workspaceId, queue);
    if (!busy.has(workspaceId)) {
      const round = drain(workspaceId).finally(() => inFlight.delete(round));
      inFlight.add(round);
    }
  };

  return {
    run<T>(workspaceId: string, fn: (ws: WorkspaceScope) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        enqueue(workspaceId, { fn, resolve: resolve as (value: unknown) => void, reject });
      });
    },
    /** Appends to a run's event log in the next round, together with the other runs' appends. */
    append(workspaceId: string, batch: AppendBatch): Promise<AppendResult> {
      return new Promise<AppendResult>((resolve, reject) => {
        enqueue(workspaceId, {
          append: batch,
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

/**
 * One store call for the appends; if that call itself fails (a database error rather than
 * one batch's typed refusal), each append is tried alone so that one bad batch fails only
 * its own run.
 */
async function appendTogether(
  ws: WorkspaceScope,
  jobs: readonly AppendJob[],
): Promise<{ ok: boolean; value: unknown }[]> {
  try {
    const outcomes = await ws.runs.appendRunEventsMany(jobs.map((job) => job.append));
    return outcomes.map((o) =>
      o.ok ? { ok: true, value: o.result } : { ok: false, value: o.error },
    );
  } catch {
    const alone: { ok: boolean; value: unknown }[] = [];
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
