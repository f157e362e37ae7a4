import { isTerminalEvent, type ParleyEvent } from '@parley/protocol';
import type { LiveRun } from './live-run.ts';

/**
 * Writes a live run's events to the store with group commit: a write starts after the turn
 * of the event loop that produced its first event; whatever arrives while it is in flight
 * goes in the next one. Under load batches grow by themselves; idle runs pay one short
 * transaction per burst. Clients see events as they are produced (live), never waiting for a
 * write, except the terminal event, revealed here once stored: everything before it is stored
 * by then, so resume and the run's outcome are complete the moment a client sees the end.
 * A crash can lose what the last write had not stored yet (a few milliseconds of the run, and
 * never more than MAX_UNSTORED_EVENTS: clients are shown no further ahead of the log); the next
 * server closes the run after a `run.gap` past every seq a client may have seen.
 */
export interface EventLogOptions {
  /** Stores one batch (contiguous seqs); throws if it could not. */
  persist: (events: ParleyEvent[]) => Promise<void>;
  /** Largest batch in one write. */
  maxBatch?: number;
  /** Waits before retrying a failed write (ms); the run is failed after the last one. */
  retryDelaysMs?: number[];
  /** A batch could not be stored after every retry: the run should stop. */
  onFailure: (error: unknown) => void;
}

export function createEventLog(run: LiveRun, options: EventLogOptions) {
  const maxBatch = options.maxBatch ?? 1_000;
  const retryDelays = options.retryDelaysMs ?? [50, 250, 1_000];
  let queued: ParleyEvent[] = [];
  let writing: Promise<void> | undefined;
  let failed = false;

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

  const drainQueue = async () => {
    // Starts after the current turn of the event loop: the events produced from one chunk of
    // the model's response (text start and first delta, a finished step and the run's end)
    // are stored, and shown, together instead of one round each.
    await new Promise((resolve) => setImmediate(resolve));
    while (queued.length > 0) {
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
      writing ??= drainQueue();
    },
    /** Resolves when everything appended so far is stored (or given up on). */
    async flush() {
      while (writing) await writing;
    },
    get failed() {
      return failed;
    },
  };
}
