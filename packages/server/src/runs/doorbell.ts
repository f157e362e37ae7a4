import type { Bus } from '@parley/cluster';
import { z } from 'zod';

/** `run.stored`: the run's log holds every event up to `seq` (published after the commit). */
const StoredMessage = z.object({
  type: z.literal('run.stored'),
  runId: z.uuid(),
  seq: z.int().nonnegative(),
});

/**
 * Tells followers of a run on other instances that its log grew, and lets a follower wait for
 * that instead of polling. The message is only a doorbell: the follower reads the log, so a
 * missed ring costs at most the fallback interval, never an event.
 */
export function createDoorbell(bus: Bus) {
  /** Followers waiting per run: their cursor and how to wake them. */
  const waiting = new Map<string, Set<{ afterSeq: number; wake: () => void }>>();

  const wakeAll = (runId?: string) => {
    for (const [id, set] of waiting)
      if (runId === undefined || id === runId) for (const waiter of set) waiter.wake();
  };
  bus.subscribe((message) => {
    if (message.type !== 'run.stored') return;
    const parsed = StoredMessage.safeParse(message);
    if (!parsed.success) return;
    const set = waiting.get(parsed.data.runId);
    if (!set) return;
    for (const waiter of set) if (parsed.data.seq > waiter.afterSeq) waiter.wake();
  });
  // Rings may have been lost while the bus was down: every follower reads the log again.
  bus.onResync(() => wakeAll());

  return {
    /** Says the run's log is stored up to `seq` (after the write committed). */
    ring(runId: string, seq: number) {
      if (bus.kind !== 'local') bus.publish({ type: 'run.stored', runId, seq });
    },

    /**
     * Resolves when the run's log may hold events after `afterSeq`, after `fallbackMs` (the
     * bus might have lost the ring; shorter while the bus is down), or when `closed` settles.
     */
    wait(runId: string, afterSeq: number, closed: Promise<void>, fallbackMs = 2_000) {
      const up = bus.status().up && bus.kind !== 'local';
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
        const timer = setTimeout(waiter.wake, up ? fallbackMs : 250);
        timer.unref();
        void closed.then(waiter.wake);
      });
    },
  };
}

export type Doorbell = ReturnType<typeof createDoorbell>;
