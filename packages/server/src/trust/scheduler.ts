import type { BreachRow, Store } from '@parley/store';

/*
 * The SLA breach check. Its state is the database (each ticket's first-response deadline),
 * not a timer per ticket: a check finds every deadline that passed, in every workspace with
 * tickets, and records the breach at the deadline itself. Checking once at start-up catches up
 * on whatever passed while the server was down; after that it checks every `intervalMs`.
 * Several servers on one database may check at once: each ticket breaches once (the row is
 * locked and `sla_breached_at` set in the same transaction).
 */

export interface SlaSchedulerOptions {
  store: Store;
  /** The clock (tests inject one). */
  now: () => Date;
  intervalMs: number;
  onBreach?: (workspaceId: string, breach: BreachRow) => void;
  /** After each workspace was checked (the trust gauges refresh here). */
  onChecked?: (workspaceId: string, now: Date) => Promise<void>;
  onError?: (error: unknown) => void;
  /** Workspaces without tickets whose scam-guard gauge a pass refreshes too (`onGuarded`). */
  guardedWorkspaces?: () => Promise<Iterable<string>>;
  onGuarded?: (workspaceId: string, now: Date) => Promise<void>;
}

export interface SlaScheduler {
  /** Checks every workspace now; resolves with the breaches it recorded. */
  check(): Promise<BreachRow[]>;
  start(): void;
  stop(): Promise<void>;
}

export function createSlaScheduler(options: SlaSchedulerOptions): SlaScheduler {
  const { store } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<BreachRow[]> | undefined;
  let stopped = false;

  async function checkAll(): Promise<BreachRow[]> {
    const now = options.now();
    const found: BreachRow[] = [];
    const workspaces = await store.system.trust.listSupportWorkspaces();
    for (const workspaceId of workspaces) {
      if (stopped) break;
      try {
        const breaches = await store.withWorkspace(
          workspaceId,
          (ws) => ws.support.detectBreaches(now),
          { actor: { type: 'system' } },
        );
        for (const breach of breaches) options.onBreach?.(workspaceId, breach);
        found.push(...breaches);
        await options.onChecked?.(workspaceId, now);
      } catch (error) {
        options.onError?.(error);
      }
    }
    // The rest have no deadline to check: only their scam-guard gauge (onChecked covers it
    // for the workspaces above).
    const support = new Set(workspaces);
    const guarded = await options.guardedWorkspaces?.().catch((error) => {
      options.onError?.(error);
      return [];
    });
    for (const workspaceId of guarded ?? []) {
      if (stopped) break;
      if (support.has(workspaceId)) continue;
      await options.onGuarded?.(workspaceId, now).catch((error) => options.onError?.(error));
    }
    return found;
  }

  const scheduler: SlaScheduler = {
    check() {
      // One check at a time: a slow database never stacks them up.
      running ??= checkAll().finally(() => {
        running = undefined;
      });
      return running;
    },
    start() {
      stopped = false;
      const tick = () => {
        scheduler
          .check()
          .catch((error) => options.onError?.(error))
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, options.intervalMs).unref();
          });
      };
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
  return scheduler;
}
