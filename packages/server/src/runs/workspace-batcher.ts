import type { ScopeOptions, Store, WorkspaceScope } from '@parley/store';

type Job = {
  fn: (ws: WorkspaceScope) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

/**
 * Group commit for the run path's small writes and reads (event-log appends, messages,
 * history): work submitted for a workspace while its transaction is in flight goes into the
 * next transaction together. One transaction per workspace per round instead of one per call:
 * on PGlite (one connection) this is what lets many runs stream at once; on PostgreSQL it
 * saves round trips. Each job's store calls keep their own savepoints, so one job's error
 * never undoes another's work; each caller gets its own result or error.
 */
export function createWorkspaceBatcher(
  store: Store,
  options: ScopeOptions = { actor: { type: 'system' } },
) {
  const queues = new Map<string, Job[]>();
  const busy = new Set<string>();
  const inFlight = new Set<Promise<void>>();

  const drain = async (workspaceId: string) => {
    busy.add(workspaceId);
    try {
      for (;;) {
        const jobs = queues.get(workspaceId) ?? [];
        if (jobs.length === 0) break;
        queues.set(workspaceId, []);
        const outcomes: { ok: boolean; value: unknown }[] = [];
        try {
          await store.withWorkspace(
            workspaceId,
            async (ws) => {
              for (const job of jobs) {
                try {
                  outcomes.push({ ok: true, value: await job.fn(ws) });
                } catch (error) {
                  outcomes.push({ ok: false, value: error });
                }
              }
            },
            options,
          );
        } catch (error) {
          // The transaction itself failed (the database went away): every job of the round fails.
          for (const job of jobs) job.reject(error);
          continue;
        }
        jobs.forEach((job, i) => {
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

  return {
    run<T>(workspaceId: string, fn: (ws: WorkspaceScope) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const queue = queues.get(workspaceId) ?? [];
        queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        queues.set(workspaceId, queue);
        if (!busy.has(workspaceId)) {
          const round = drain(workspaceId).finally(() => inFlight.delete(round));
          inFlight.add(round);
        }
      });
    },
    /** Resolves when nothing is queued or being written. */
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export type WorkspaceBatcher = ReturnType<typeof createWorkspaceBatcher>;
