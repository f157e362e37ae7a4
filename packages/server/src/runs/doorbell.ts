import type { Bus } from '@parley/cluster';
import type { ParleyEvent } from '@parley/protocol';
import { z } from 'zod';

/**
 * `run.stored`: the run's log holds every event up to `seq` (published after the commit). It
 * carries those stored events when they fit the bus (`events`, ending at `seq`), so a follower
 * elsewhere sends them on without reading the log.
 */
const StoredMessage = z.object({
  type: z.literal('run.stored'),
  runId: z.uuid(),
  seq: z.int().nonnegative(),
  // Events the owning instance stamped and stored: checked for shape and order, not re-parsed.
  events: z
    .array(z.looseObject({ seq: z.int().nonnegative(), type: z.string() }))
    .max(1_000)
    .optional(),
});
/** `run.watch`: an instance has a follower of the run waiting for rings. */
const WatchMessage = z.object({ type: z.literal('run.watch'), runId: z.uuid() });

/** How long a watch lasts; followers renew it while they wait. */
const WATCH_MS = 10_000;
const RENEW_WATCH_MS = 3_000;
/** A follower that just asked for rings reads the log again this soon (the watch may be in flight). */
const FIRST_WAIT_MS = 100;
/**
 * Events ride along in a ring up to this many bytes of JSON per message: PostgreSQL's NOTIFY
 * takes under 8,000 bytes per payload (Redis takes more, but the cluster may fall back to
 * PostgreSQL at any time). Larger events are read from the log.
 */
const CARRY_BYTES = 6_000;
/** Stored events kept per followed run for followers here (a follower further behind reads the log). */
const KEEP_EVENTS = 500;

/** What this instance heard of a run it follows: the highest stored seq, and recent events. */
interface Heard {
  seq: number;
  /** Contiguous stored events (may end before `seq` when a ring came without them). */
  events: ParleyEvent[];
  at: number;
}

/**
 * Tells followers of a run on other instances that its log grew, and lets a follower wait for
 * that instead of polling. Rings go out only for runs someone watches (a follower elsewhere
 * says so, and says it again while it waits): a burst of runs nobody follows from another
 * instance costs the database no NOTIFY. A ring carries the stored events when they fit, so a
 * follower gets them without a query; a ring without them, or a missed one, means reading the
 * log (a missed ring costs at most the fallback interval, never an event).
 */
export function createDoorbell(bus: Bus) {
  /** Followers waiting here, per run: their cursor and how to wake them. */
  const waiting = new Map<string, Set<{ afterSeq: number; wake: () => void }>>();
  /** Runs followed from some instance, until when (rings go out for these). */
  const watched = new Map<string, number>();
  /** When this instance last asked for rings of a run. */
  const asked = new Map<string, number>();
  /** Rings heard for runs followed here: what a follower picks up between two waits. */
  const heard = new Map<string, Heard>();
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
    if (!parsed.success || !asked.has(parsed.data.runId)) return;
    const { runId, seq } = parsed.data;
    remember(runId, seq, parsed.data.events as ParleyEvent[] | undefined);
    const set = waiting.get(runId);
    if (set) for (const waiter of set) if (seq > waiter.afterSeq) waiter.wake();
  });
  // Rings may have been lost while the bus was down: every follower reads the log again.
  bus.onResync(() => {
    heard.clear();
    wakeAll();
  });

  const remember = (runId: string, seq: number, events: ParleyEvent[] | undefined) => {
    const now = Date.now();
    if (heard.size > 1_000) forgetHeard(now - WATCH_MS);
    const known = heard.get(runId) ?? { seq: 0, events: [], at: now };
    heard.set(runId, known);
    known.at = now;
    if (events && events.length > 0 && isRun(events, seq)) {
      const last = known.events.at(-1);
      if (last && last.seq + 1 === events[0]!.seq) known.events.push(...events);
      else known.events = events;
      if (known.events.length > KEEP_EVENTS) known.events = known.events.slice(-KEEP_EVENTS);
    }
    known.seq = Math.max(known.seq, seq);
  };
  const forgetHeard = (before: number) => {
    for (const [runId, known] of heard)
      if (known.at < before && !waiting.has(runId)) heard.delete(runId);
  };

  /**
   * The heard events right after `afterSeq`; undefined when the log must be read instead
   * (a ring came without them, or the cursor is older than what is kept).
   */
  const carriedAfter = (runId: string, afterSeq: number): ParleyEvent[] | undefined => {
    const known = heard.get(runId);
    if (!known) return undefined;
    const first = known.events[0];
    if (!first || first.seq > afterSeq + 1) return undefined;
    const after = known.events.slice(afterSeq + 1 - first.seq);
    return after.length > 0 ? after : undefined;
  };

  /** Asks the run's instance for rings (again, before the last ask runs out); true if new. */
  const watch = (runId: string): boolean => {
    const last = asked.get(runId) ?? 0;
    if (Date.now() - last < RENEW_WATCH_MS) return false;
    if (asked.size > 10_000) forgetOlderThan(asked, Date.now() - WATCH_MS);
    asked.set(runId, Date.now());
    bus.publish({ type: 'run.watch', runId });
    return last === 0 || Date.now() - last > WATCH_MS;
  };

  const publish = (runId: string, seq: number, events?: ParleyEvent[]) =>
    bus.publish({ type: 'run.stored', runId, seq, ...(events ? { events } : {}) });

  return {
    /**
     * Says the run's log is stored up to `seq` (after the write committed), if anyone
     * watches, with the events just stored (`events`, ending at `seq`) where they fit.
     */
    ring(runId: string, seq: number, events?: readonly ParleyEvent[]) {
      if (!clustered) return;
      const until = watched.get(runId);
      if (until === undefined) return;
      if (until < Date.now()) {
        watched.delete(runId);
        return;
      }
      if (!events || events.length === 0 || events.at(-1)!.seq !== seq) {
        publish(runId, seq);
        return;
      }
      let chunk: ParleyEvent[] = [];
      let bytes = 0;
      for (const event of events) {
        const size = JSON.stringify(event).length + 1;
        if (size > CARRY_BYTES) {
          // Too large to ride along: this one and the rest are read from the log.
          if (chunk.length > 0) publish(runId, chunk.at(-1)!.seq, chunk);
          publish(runId, seq);
          return;
        }
        if (bytes + size > CARRY_BYTES) {
          publish(runId, chunk.at(-1)!.seq, chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(event);
        bytes += size;
      }
      publish(runId, seq, chunk);
    },

    /**
     * Resolves when the run's log may hold events after `afterSeq`: with those events when a
     * ring carried them (the caller sends them on without reading the log), undefined when
     * the log must be read — a ring without them, `fallbackMs` without a ring (the bus might
     * have lost one; shorter while the bus is down, and right after this instance asked for
     * rings), or `closed` settling.
     */
    wait(
      runId: string,
      afterSeq: number,
      closed: Promise<void>,
      fallbackMs = 2_000,
    ): Promise<ParleyEvent[] | undefined> {
      const up = clustered && bus.status().up;
      const fresh = up && watch(runId);
      // A ring may have come while the follower was busy sending or reading the log.
      if ((heard.get(runId)?.seq ?? 0) > afterSeq)
        return Promise.resolve(carriedAfter(runId, afterSeq));
      return new Promise((resolve) => {
        const set = waiting.get(runId) ?? new Set();
        waiting.set(runId, set);
        const waiter = {
          afterSeq,
          wake: () => {
            clearTimeout(timer);
            set.delete(waiter);
            if (set.size === 0 && waiting.get(runId) === set) waiting.delete(runId);
            // Woken by a ring: what it carried; by the timer or `closed`: nothing heard.
            resolve(carriedAfter(runId, afterSeq));
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

/** Whether `events` run contiguously up to `seq`. */
function isRun(events: readonly ParleyEvent[], seq: number): boolean {
  for (let i = 1; i < events.length; i++)
    if (events[i]!.seq !== events[i - 1]!.seq + 1) return false;
  return events.at(-1)!.seq === seq;
}

function forgetOlderThan(times: Map<string, number>, limit: number) {
  for (const [key, at] of times) if (at < limit) times.delete(key);
}
