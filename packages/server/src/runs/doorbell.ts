import { randomUUID } from 'node:crypto';
import type { Bus, BusMessage } from '@parley/cluster';
import { eventJson, type ParleyEvent } from '@parley/protocol';
import { z } from 'zod';

/**
 * `run.stored`: the run's log holds every event up to `seq` (published after the commit).
 * `run.shown`: the run's owner shows its clients `events` (ending at `seq`), so followers
 * elsewhere show them at the same moment — not stored yet, as the owner's own clients see
 * them; a run.gap covers them if the owner dies before storing them.
 */
interface Ring {
  seq: number;
  events?: ParleyEvent[];
}

/** A carried event as far as the doorbell relies on it: a seq and a type. */
const isEventLike = (value: unknown): boolean => {
  if (typeof value !== 'object' || value === null) return false;
  const { seq, type } = value as { seq?: unknown; type?: unknown };
  return Number.isInteger(seq) && (seq as number) >= 0 && typeof type === 'string';
};

/**
 * A ring as the bus delivered it (its run is one this instance asked for), or undefined when
 * malformed. Events the owning instance stamped and stored: checked for shape and order, not
 * re-parsed or copied (a follower of fifty streams hears thousands a second).
 */
function ringOf(message: BusMessage): Ring | undefined {
  const { seq, events } = message;
  if (!Number.isInteger(seq) || (seq as number) < 0) return undefined;
  if (events === undefined) return { seq: seq as number };
  if (!Array.isArray(events) || events.length > 1_000 || !events.every(isEventLike))
    return undefined;
  return { seq: seq as number, events: events as ParleyEvent[] };
}

/**
 * `run.watch`: instance `by` has a follower of the run waiting for rings; `run.unwatch`: its
 * last follower of the run left. (`by` is absent from an instance of an earlier version: its
 * watch lasts until it runs out.)
 */
const WatchMessage = z.object({
  type: z.enum(['run.watch', 'run.unwatch']),
  runId: z.uuid(),
  by: z.string().max(64).default(''),
});

/** How long a watch lasts; followers renew it while they wait. */
const WATCH_MS = 10_000;
const RENEW_WATCH_MS = 3_000;
/** A follower that just asked for rings reads the log again this soon (the watch may be in flight). */
const FIRST_WAIT_MS = 100;
/**
 * Shown events ride in messages of at most this many bytes of JSON: PostgreSQL's NOTIFY takes
 * under 8,000 bytes per payload (Redis takes more, but the cluster may fall back to
 * PostgreSQL at any time). Larger events are read from the log.
 */
const CARRY_BYTES = 6_000;
/** Stored events kept per followed run for followers here (a follower further behind reads the log). */
const KEEP_EVENTS = 500;

/** What this instance heard of a run it follows: how far its log is stored, and recent events. */
interface Heard {
  /** The highest seq a `run.stored` named: the log holds everything up to it. */
  stored: number;
  /** Contiguous events its owner showed (a lost or too large one breaks the run: read the log). */
  events: ParleyEvent[];
  at: number;
}

/**
 * Tells followers of a run on other instances what its owner shows and stores, and lets a
 * follower wait for that instead of polling. Messages go out only for runs someone watches (a
 * follower elsewhere says so, and says it again while it waits): a burst of runs nobody
 * follows from another instance costs the bus nothing. The events the owner shows its clients
 * travel as they are shown (`run.shown`), so a follower elsewhere is as live as one on the
 * owner; a stored batch rings (`run.stored`, the seq only). What a follower has not been
 * carried — an event too large, a lost message — it reads from the log (a lost message costs
 * at most the fallback interval, never an event).
 */
export function createDoorbell(
  bus: Bus,
  /** The events this instance has shown of a run it executes, latest last (at most a few hundred). */
  recent: (runId: string) => readonly ParleyEvent[] = () => [],
) {
  /** Followers waiting here, per run: their cursor and how to wake them. */
  const waiting = new Map<string, Set<{ afterSeq: number; wake: () => void }>>();
  /** Runs followed from some instance: per watching instance, until when (rings go out for these). */
  const watched = new Map<string, Map<string, number>>();
  /** Streams of this instance following each run (the last to leave says so). */
  const following = new Map<string, number>();
  /** This instance, as its watches name it. */
  const me = randomUUID();
  /** When this instance last asked for rings of a run. */
  const asked = new Map<string, number>();
  /** Rings heard for runs followed here: what a follower picks up between two waits. */
  const heard = new Map<string, Heard>();
  const clustered = bus.kind !== 'local';

  const wakeAll = () => {
    for (const set of waiting.values()) for (const waiter of set) waiter.wake();
  };
  bus.subscribe((message) => {
    if (message.type === 'run.watch' || message.type === 'run.unwatch') {
      const parsed = WatchMessage.safeParse(message);
      if (parsed.success) onWatch(parsed.data);
      return;
    }
    if (message.type !== 'run.stored' && message.type !== 'run.shown') return;
    // Every instance hears every ring (the owner its own): only runs followed here are checked.
    if (typeof message.runId !== 'string' || !asked.has(message.runId)) return;
    const ring = ringOf(message);
    if (!ring) return;
    const runId = message.runId;
    remember(runId, ring.seq, ring.events);
    const set = waiting.get(runId);
    if (set) for (const waiter of set) if (newsAfter(runId, waiter.afterSeq)) waiter.wake();
  });
  const onWatch = ({ type, runId, by }: z.infer<typeof WatchMessage>) => {
    if (type === 'run.unwatch') {
      const watchers = watched.get(runId);
      watchers?.delete(by);
      if (watchers?.size === 0) watched.delete(runId);
      return;
    }
    if (watched.size > 10_000) forgetExpiredWatches();
    const fresh = !isWatched(runId);
    const watchers = watched.get(runId) ?? new Map<string, number>();
    watched.set(runId, watchers);
    watchers.set(by, Date.now() + WATCH_MS);
    // A new follower gets what was shown lately at once, so it goes live without waiting
    // for the log to catch up (the run's later events follow as they are shown).
    if (fresh) publishShown(runId, recent(runId));
  };
  const forgetExpiredWatches = () => {
    for (const runId of watched.keys()) isWatched(runId);
  };

  // Rings may have been lost while the bus was down: every follower reads the log again.
  bus.onResync(() => {
    heard.clear();
    wakeAll();
  });

  const remember = (runId: string, seq: number, events: ParleyEvent[] | undefined) => {
    const now = Date.now();
    if (heard.size > 1_000) forgetHeard(now - WATCH_MS);
    const known = heard.get(runId) ?? { stored: 0, events: [], at: now };
    heard.set(runId, known);
    known.at = now;
    if (!events) {
      known.stored = Math.max(known.stored, seq);
      return;
    }
    if (events.length === 0 || !isRun(events, seq)) return;
    known.events = merge(known.events, events);
    if (known.events.length > KEEP_EVENTS)
      known.events.splice(0, known.events.length - KEEP_EVENTS);
  };
  /** Whether a follower at `afterSeq` has something to send: carried events, or a stored log. */
  const newsAfter = (runId: string, afterSeq: number): boolean => {
    const known = heard.get(runId);
    return !!known && (known.stored > afterSeq || carriedAfter(runId, afterSeq) !== undefined);
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
    bus.publish({ type: 'run.watch', runId, by: me });
    return last === 0 || Date.now() - last > WATCH_MS;
  };

  /** Whether some instance's watch of the run holds (expired ones are forgotten). */
  const isWatched = (runId: string): boolean => {
    const watchers = watched.get(runId);
    if (!watchers) return false;
    const now = Date.now();
    for (const [by, until] of watchers) if (until < now) watchers.delete(by);
    if (watchers.size > 0) return true;
    watched.delete(runId);
    return false;
  };

  /**
   * Hands the bus the events a run just showed, in messages that fit it, at once: the bus
   * packs every message of this turn into as few sends as fit after the turn. (Held here for
   * a turn of their own as well, they left a turn later: under load a turn is the poll phase
   * of fifty streams, and a follower elsewhere waited for two.) A run shows once per turn.
   */
  const publishShown = (runId: string, events: readonly ParleyEvent[]) => {
    let chunk: ParleyEvent[] = [];
    let bytes = 0;
    const send = () => {
      if (chunk.length > 0)
        bus.publish({ type: 'run.shown', runId, seq: chunk.at(-1)!.seq, events: chunk });
      chunk = [];
      bytes = 0;
    };
    for (const event of events) {
      // The frame's JSON, already made for this instance's own clients.
      const size = eventJson(event).length + 1;
      // Too large to ride along: followers read this one and the rest from the log.
      if (size > CARRY_BYTES) break;
      if (bytes + size > CARRY_BYTES) send();
      chunk.push(event);
      bytes += size;
    }
    send();
  };

  return {
    /**
     * A stream of this instance starts following the run; the returned function says it left.
     * When the last one leaves, the run's instance hears it and stops sending this instance
     * the run's events (a watch would otherwise hold for WATCH_MS after the last follower,
     * every shown event of the run crossing the bus for nobody).
     */
    follow(runId: string): () => void {
      following.set(runId, (following.get(runId) ?? 0) + 1);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const rest = (following.get(runId) ?? 1) - 1;
        if (rest > 0) {
          following.set(runId, rest);
          return;
        }
        following.delete(runId);
        if (!asked.delete(runId)) return;
        heard.delete(runId);
        if (clustered) bus.publish({ type: 'run.unwatch', runId, by: me });
      };
    },

    /** Says the run's log is stored up to `seq` (after the write committed), if anyone watches. */
    ring(runId: string, seq: number) {
      if (clustered && isWatched(runId)) bus.publish({ type: 'run.stored', runId, seq });
    },

    /**
     * Shows followers elsewhere the events the run's owner just showed its own clients (in
     * order, contiguous), if anyone watches: handed to the bus in the same turn.
     */
    show(runId: string, events: () => readonly ParleyEvent[]) {
      if (clustered && isWatched(runId)) publishShown(runId, events());
    },

    /**
     * Stored events a ring carried right after `afterSeq`, if this instance has them (a
     * follower sends them on instead of reading the log); asks the run's instance for rings
     * (again, before the last ask runs out) as a follower of it.
     */
    peek(runId: string, afterSeq: number): ParleyEvent[] | undefined {
      if (clustered && bus.status().up) watch(runId);
      return carriedAfter(runId, afterSeq);
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
      if (newsAfter(runId, afterSeq)) return Promise.resolve(carriedAfter(runId, afterSeq));
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

/**
 * Two contiguous runs of events as one: `next` extends or overlaps `known` (a backlog may
 * start before it); a run after a hole replaces it (the hole is read from the log). `known`
 * is extended in place (it is the doorbell's own: carriedAfter hands out slices).
 */
function merge(known: ParleyEvent[], next: readonly ParleyEvent[]): ParleyEvent[] {
  const first = known[0];
  const last = known.at(-1);
  if (!first || !last || next[0]!.seq > last.seq + 1 || next.at(-1)!.seq < first.seq - 1)
    return [...next];
  // Contiguous: the part of `next` past `known` starts at this index.
  const past = last.seq + 1 - next[0]!.seq;
  for (let i = Math.max(past, 0); i < next.length; i++) known.push(next[i]!);
  if (next[0]!.seq >= first.seq) return known;
  return [...next.slice(0, first.seq - next[0]!.seq), ...known];
}

/** Whether `events` run contiguously up to `seq`. */
function isRun(events: readonly ParleyEvent[], seq: number): boolean {
  for (let i = 1; i < events.length; i++)
    if (events[i]!.seq !== events[i - 1]!.seq + 1) return false;
  return events.at(-1)!.seq === seq;
}

function forgetOlderThan(times: Map<string, number>, limit: number) {
  for (const [key, at] of times) if (at < limit) times.delete(key);
}
