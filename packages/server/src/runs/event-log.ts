import { isTerminalEvent, type ParleyEvent } from '@parley/protocol';
import type { LiveRun } from './live-run.ts';

/**
 * Writes a live run's events to the store with group commit. Clients see events as they are
 * produced (live), never waiting for a write, so a write may linger: it starts `lingerMs` after
 * its first event at most, at a beat shared by every run (a model's chunks arrive a few ms
 * apart: one transaction carries several runs' events of several chunks instead of one each,
 * and a transaction costs the server more CPU than the events in it);
 * whatever arrives while it is in flight goes in the next one. The terminal event is written at
 * once, with everything before it, and revealed here once stored: resume and the run's outcome
 * are complete the moment a client sees the end. A crash can lose what was not stored yet (at
 * most `lingerMs` plus one write of the run, never more than MAX_UNSTORED_EVENTS: clients are
 * shown no further ahead of the log); the next server closes or continues the run after a
 * `run.gap` past every seq a client may have seen.
 */
export interface EventLogOptions {
  /** Stores one batch (contiguous seqs); throws if it could not. */
  persist: (events: ParleyEvent[]) => Promise<void>;
  /** Largest batch in one write. */
  maxBatch?: number;
  /** How long a write of events before the run's end waits for more (ms). Default 30. */
  lingerMs?: number;
  /** Waits before retrying a failed write (ms); the run is failed after the last one. */
  retryDelaysMs?: number[];
  /** A batch could not be stored after every retry: the run should stop. */
  onFailure: (error: unknown) => void;
}

/**
 * The beat every run's lingering write waits for: writes of all runs that linger at one moment
 * leave in the same turn, so their workspace stores them in one round. (With a timer per run,
 * ten streaming runs' writes left at ten moments of each 30 ms: ~200 transactions a second,
 * each a few round trips and socket writes on both sides, for a thousand events.) A beat starts
 * with the first write that waits and sounds `ms` later for every write waiting by then: a
 * write waits at most `ms`, and less when it joins a beat under way.
 */
const beats = new Map<number, { waiters: Set<() => void>; timer: NodeJS.Timeout }>();

/** Calls `done` at the next beat of period `ms`; the returned function withdraws it. */
function atNextBeat(ms: number, done: () => void): () => void {
  let beat = beats.get(ms);
  if (!beat) {
    const waiters = new Set<() => void>();
    const timer = setTimeout(() => {
      beats.delete(ms);
      for (const waiter of waiters) waiter();
    }, ms);
    beat = { waiters, timer };
    beats.set(ms, beat);
  }
  const current = beat;
  current.waiters.add(done);
  return () => {
    current.waiters.delete(done);
    if (current.waiters.size > 0 || beats.get(ms) !== current) return;
    clearTimeout(current.timer);
    beats.delete(ms);
  };
}

export function createEventLog(run: LiveRun, options: EventLogOptions) {
  const maxBatch = options.maxBatch ?? 1_000;
  const lingerMs = options.lingerMs ?? 30;
  const retryDelays = options.retryDelaysMs ?? [50, 250, 1_000];
  let queued: ParleyEvent[] = [];
  let writing: Promise<void> | undefined;
  let failed = false;
  /** Ends the current linger early: the run ended, the batch is full, or a flush wants it. */
  let hurry: (() => void) | undefined;

  const writeWithRetry = async (batch: ParleyEvent[]) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await options.persist(batch);
        return;
      } catch (error) {
        const delay = retryDelays[attempt];
        if (delay === undefined) throw error;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  /** Flushes waiting: nothing lingers meanwhile. */
  let flushing = 0;
  /** Nothing to wait for: the run has ended (or failed), a batch is full, or a flush is asked. */
  const mustWrite = () =>
    failed ||
    flushing > 0 ||
    queued.length >= maxBatch ||
    (queued.length > 0 && isTerminalEvent(queued.at(-1)!));

  /**
   * Waits for the next beat (at most `lingerMs`) for more events, unless one of them means the
   * write must go now.
   */
  const linger = () =>
    new Promise<void>((resolve) => {
      const withdraw = atNextBeat(lingerMs, done);
      hurry = done;
      function done() {
        withdraw();
        hurry = undefined;
        resolve();
      }
    });

  const drainQueue = async () => {
    // Starts after the current turn of the event loop at least: the events produced from one
    // chunk of the model's response (text start and first delta, a finished step and the
    // run's end) are stored, and shown, together.
    await new Promise((resolve) => setImmediate(resolve));
    while (queued.length > 0) {
      if (lingerMs > 0 && !mustWrite()) await linger();
      const batch = queued.slice(0, maxBatch);
      queued = queued.slice(batch.length);
      const last = batch.at(-1)!;
      if (!failed) {
        try {
          await writeWithRetry(batch);
          run.stored(last.seq, isTerminalEvent(last));
          continue;
        } catch (error) {
          // The log is unusable: stop the run; what it still produces is shown from memory
          // (and cannot be resumed after a restart).
          failed = true;
          options.onFailure(error);
        }
      }
      run.reveal(last.seq, isTerminalEvent(last));
    }
    writing = undefined;
  };

  return {
    append(event: ParleyEvent) {
      queued.push(event);
      if (mustWrite()) hurry?.();
      writing ??= drainQueue();
    },
    /** Resolves when everything appended so far is stored (or given up on), without lingering. */
    async flush() {
      flushing++;
      hurry?.();
      try {
        while (writing) await writing;
      } finally {
        flushing--;
      }
    },
    get failed() {
      return failed;
    },
  };
}
