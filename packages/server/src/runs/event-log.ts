import type { ParleyEvent } from '@parley/protocol';
import type { LiveRun } from './live-run.ts';

/**
 * Writes a live run's events to the store with group commit: the first event goes out at
 * once; whatever arrives while a write is in flight goes in the next one. Under load batches
 * grow by themselves, idle runs pay one short transaction per event. Events become visible to
 * clients only once stored, so a client never sees an event the log could lose: resume after
 * a crash replays exactly what every client was shown, and the run is closed after it.
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
    while (queued.length > 0) {
      const batch = queued.slice(0, maxBatch);
      queued = queued.slice(batch.length);
      const last = batch.at(-1)!;
      if (!failed) {
        try {
          await writeWithRetry(batch);
        } catch (error) {
          // The log is unusable: stop the run; what it still produces is shown from memory
          // (and cannot be resumed after a restart).
          failed = true;
          options.onFailure(error);
        }
      }
      run.reveal(last.seq, isTerminal(last));
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

function isTerminal(event: ParleyEvent): boolean {
  return event.type === 'run.finish' || event.type === 'run.error' || event.type === 'run.abort';
}
