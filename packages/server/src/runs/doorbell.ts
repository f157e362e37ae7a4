import type { Bus } from '@parley/cluster';
import { z } from 'zod';

/** `run.stored`: the run's log holds every event up to `seq` (published after the commit). */
const StoredMessage = z.object({
  type: z.literal('run.stored'),
  runId: z.uuid(),
  seq: z.int().nonnegative(),
});
/** `run.watch`: an instance has a follower of the run waiting for rings. */
const WatchMessage = z.object({ type: z.literal('run.watch'), runId: z.uuid() });

/** How long a watch lasts; followers renew it while they wait. */
const WATCH_MS = 10_000;
const RENEW_WATCH_MS = 3_000;
/** A follower that just asked for rings reads the log again this soon (the watch may be in flight). */
const FIRST_WAIT_MS = 100;

/**
 * Tells followers of a run on other instances that its log grew, and lets a follower wait for
 * that instead of polling. Rings go out only for runs someone watches (a follower elsewhere
 * says so, and says it again while it waits): a burst of runs nobody follows from another
 * instance costs the database no NOTIFY. The message is only a doorbell: the follower reads
 * the log, so a missed ring costs at most the fallback interval, never an event.
 */
export function createDoorbell(bus: Bus) {
  /** Followers waiting here, per run: their cursor and how to wake them. */
  const waiting = new Map<string, Set<{ afterSeq: number; wake: () => void }>>();
  /** Runs followed from some instance, until when (rings go out for these). */
  const watched = new Map<string, number>();
  /** When this instance last asked for rings of a run. */
  const asked = new Map<string, number>();
  const clustered = bus.kind !== 'local';

  const wakeAll = () => {
    for (const set of waiting.values()) for (const waiter of set) waiter.wake();
  };
  bus.subscribe((message) => {
    if (message.type === 'run.watch') {
      const parsed = WatchMessage.safeParse(message);
      if (!parsed.success) return;
      if (watched.size > 10_000) forgetOlderThan(watched, Date.now());
      watched.set(parsed.data.runId, Date.now() + WATCH_MS);
      return;
    }
    if (message.type !== 'run.stored') return;
    const parsed = StoredMessage.safeParse(message);
    if (!parsed.success) return;
    const set = waiting.get(parsed.data.runId);
    if (!set) return;
    for (const waiter of set) if (parsed.data.seq > waiter.afterSeq) waiter.wake();
  });
  // Rings may have been lost while the bus was down: every follower reads the log again.
  bus.onResync(wakeAll);

  /** Asks the run's instance for rings (again, before the last ask runs out); true if new. */
  const watch = (runId: string): boolean => {
    const last = asked.get(runId) ?? 0;
    if (Date.now() - last < RENEW_WATCH_MS) return false;
    if (asked.size > 10_000) forgetOlderThan(asked, Date.now() - WATCH_MS);
    asked.set(runId, Date.now());
    bus.publish({ type: 'run.watch', runId });
    return last === 0 || Date.now() - last > WATCH_MS;
  };

  return {
    /** Says the run's log is stored up to `seq` (after the write committed), if anyone watches. */
    ring(runId: string, seq: number) {
      if (!clustered) return;
      const until = watched.get(runId);
      if (until === undefined) return;
      if (until < Date.now()) {
        watched.delete(runId);
        return;
      }
      bus.publish({ type: 'run.stored', runId, seq });
    },

    /**
     * Resolves when the run's log may hold events after `afterSeq`, after `fallbackMs` (the
     * bus might have lost the ring; shorter while the bus is down, and right after this
     * instance asked for rings), or when `closed` settles.
     */
    wait(runId: string, afterSeq: number, closed: Promise<void>, fallbackMs = 2_000) {
      const up = clustered && bus.status().up;
      const fresh = up && watch(runId);
      return new Promise<void>((resolve) => {
        const set = waiting.get(runId) ?? new Set();
        waiting.set(runId, set);
        const waiter = {
          afterSeq,
          wake: () => {
            clearTimeout(timer);
            set.delete(waiter);
            if (set.size === 0 && waiting.get(runId) === set) waiting.delete(runId);
            resolve();
          },
        };
        set.add(waiter);
        const timer = setTimeout(waiter.wake, !up ? 250 : fresh ? FIRST_WAIT_MS : fallbackMs);
        timer.unref();
        void closed.then(waiter.wake);
      });
    },
  };
}

export type Doorbell = ReturnType<typeof createDoorbell>;

function forgetOlderThan(times: Map<string, number>, limit: number) {
  for (const [key, at] of times) if (at < limit) times.delete(key);
}
