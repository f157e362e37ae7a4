import { hostname } from 'node:os';
import type { BreachRow, Store } from '@parley/store';
import { supportDesk } from './desk.ts';

/*
 * The SLA breach check. Its state is the database (each ticket's first-response deadline),
 * not a timer per ticket: a check finds every deadline that passed, in every workspace with
 * tickets, and records the breach at the deadline itself. Checking once at start-up catches up
 * on whatever passed while the server was down; after that it checks every `intervalMs`.
 *
 * In a cluster each tick's check runs once: the instance that claims the tick (a row of the
 * store's `cluster_jobs`, ticks numbered on the database's clock) looks for breaches, the
 * others only refresh their own trust gauges (metrics are per process). Should two checks
 * meet anyway (a start-up catch-up, a slow pass), each ticket still breaches once: the row is
 * locked and `sla_breached_at` set in the same transaction.
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
  /** Names this instance in `cluster_jobs` (default: host and process id). */
  instance?: string;
}

/** Which ticks this instance claimed or left to another (tests, diagnostics). */
export interface TickRecord {
  /** Tick numbers (on the database's clock) this instance ran the breach check for, newest last. */
  ran: number[];
  /** Ticks another instance had already claimed. */
  skipped: number;
}

export interface SlaScheduler {
  /** Checks every workspace now; resolves with the breaches it recorded. */
  check(): Promise<BreachRow[]>;
  readonly ticks: TickRecord;
  start(): void;
  stop(): Promise<void>;
}

export function createSlaScheduler(options: SlaSchedulerOptions): SlaScheduler {
  const { store } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<BreachRow[]> | undefined;
  let stopped = false;

  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const ticks: TickRecord = { ran: [], skipped: 0 };

  /** Whether this instance runs this tick's breach check (one instance per tick). */
  async function claimTick(): Promise<boolean> {
    const tick = await store.system.cluster.jobs.claimTick(
      `sla-breach-check@${options.intervalMs}ms`,
      options.intervalMs,
      instance,
    );
    if (tick === null) {
      ticks.skipped++;
      return false;
    }
    ticks.ran.push(tick);
    if (ticks.ran.length > 100) ticks.ran.shift();
    return true;
  }

  /** A pass over every workspace: breaches when `detect` (this instance's tick), gauges always. */
  async function checkAll(detect: boolean): Promise<BreachRow[]> {
    const now = options.now();
    const found: BreachRow[] = [];
    const workspaces = await store.system.trust.listSupportWorkspaces();
    for (const workspaceId of workspaces) {
      if (stopped) break;
      try {
        const breaches = detect
          ? await store.withWorkspace(workspaceId, (ws) => supportDesk(ws).detectBreaches(now), {
              actor: { type: 'system' },
            })
          : [];
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

  /** One pass at a time: a slow database never stacks them up. */
  const pass = (detect: () => Promise<boolean>) => {
    running ??= detect()
      .then(checkAll)
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const scheduler: SlaScheduler = {
    ticks,
    check: () => pass(async () => true),
    start() {
      stopped = false;
      // The first pass catches up on whatever passed while no server ran: every instance
      // makes it (each ticket breaches once). Later ticks go to one instance each.
      let first = true;
      const tick = () => {
        const detect = first ? async () => true : claimTick;
        first = false;
        pass(detect)
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
