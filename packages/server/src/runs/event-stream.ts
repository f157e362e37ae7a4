import type { Writable } from 'node:stream';
import {
  encodeEvent,
  HEARTBEAT_FRAME,
  HEARTBEAT_INTERVAL_MS,
  isTerminalEvent,
  type ParleyEvent,
} from '@parley/protocol';
import type { LiveRun } from './live-run.ts';

/**
 * Where a subscriber reads a run's events from: the live run while this process executes
 * it, the stored log otherwise (another instance executes it, and rings the cluster's bus as
 * its log grows). Both are read by seq, so a subscriber keeps only its cursor.
 */
export interface EventSource {
  live(): LiveRun | undefined;
  /** Stored events after `seq` (at most a page). */
  stored(afterSeq: number): Promise<ParleyEvent[]>;
  /**
   * Called when the log had nothing after the cursor and the run is not live here: once the
   * run has ended (nothing more will come), its last stored event (its terminal one; none for
   * a run that is gone); false to poll again.
   */
  ended(): Promise<{ last: ParleyEvent | undefined } | false>;
  /**
   * Events the cluster's bus carried right after `afterSeq`, if any (sent on without
   * reading the log); also says this instance follows the run.
   */
  carried?(afterSeq: number): ParleyEvent[] | undefined;
  /**
   * Waits until the log may hold events after `afterSeq` (the cluster bus rings when another
   * instance stored some), or `closed` settles; without it the stream polls every `pollMs`.
   * Resolves with the events right after `afterSeq` when the bus carried them (sent
   * on without reading the log), undefined when the log must be read.
   */
  wait?(afterSeq: number, closed: Promise<void>): Promise<ParleyEvent[] | undefined>;
}

export interface StreamOptions {
  /** Send events with seq > afterSeq (Last-Event-ID). */
  afterSeq: number;
  heartbeatMs?: number;
  /** How often to look at the stored log when the source cannot wait for a ring. */
  pollMs?: number;
  /** Resolves when the client goes away. */
  closed: Promise<void>;
  /**
   * Encodes one event as what the client reads (default: its Parley Stream v1 SSE frame).
   * Other protocols' encodings (routes/chat.ts, routes/a2a.ts) may answer '' to skip one.
   */
  encode?: (event: ParleyEvent) => string;
}

/**
 * Writes a run's events to `out` as SSE frames until the terminal event or the client leaves.
 * Backpressure: when `out.write` says its buffer is full the loop waits for `drain` before
 * reading more, so a slow client holds at most one buffer of frames; the run itself never
 * waits for a client. Heartbeat comments keep idle connections open through proxies.
 * Resolves with the last seq sent.
 */
export async function pipeRunEvents(
  out: Writable,
  source: EventSource,
  options: StreamOptions,
): Promise<number> {
  let cursor = options.afterSeq;
  const encode = options.encode ?? encodeEvent;
  let gone = false;
  const closed = options.closed.then(() => {
    gone = true;
  });
  let writing = false;
  const heartbeat = setInterval(() => {
    if (!writing && !gone && out.writableLength === 0) out.write(HEARTBEAT_FRAME);
  }, options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();

  /**
   * Writes a batch in as few writes as the buffer allows (events stored together leave in one
   * syscall), never more than the high-water mark plus one frame; true once the run ended.
   */
  const send = async (events: ParleyEvent[]): Promise<boolean> => {
    if (gone) return true;
    writing = true;
    try {
      let pending: string[] = [];
      let bytes = 0;
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        const frame = encode(event);
        pending.push(frame);
        bytes += Buffer.byteLength(frame);
        const end = isTerminalEvent(event);
        const full = out.writableLength + bytes >= out.writableHighWaterMark;
        if (!end && !full && i < events.length - 1) continue;
        const ok = out.write(pending.join(''));
        cursor = event.seq;
        pending = [];
        bytes = 0;
        if (end) return true;
        if (!ok) {
          await Promise.race([new Promise((r) => out.once('drain', r)), closed]);
          if (gone) return true;
        }
      }
      return false;
    } finally {
      writing = false;
    }
  };

  /** Events the last ring carried, right after the cursor. */
  let rung: ParleyEvent[] | undefined;
  try {
    while (!gone) {
      const live = source.live();
      // A run this process continued holds only what it produced: what came before (another
      // instance's part) is read from the log; a handed-over run's rest is too.
      const run = live && cursor >= live.offset && !live.handedOver ? live : undefined;
      if (run) {
        const batch = run.visibleAfter(cursor);
        if (batch.length > 0) {
          if (await send(batch)) break;
          continue;
        }
        if (run.closed && !run.handedOver) break;
        await Promise.race([run.changed(), closed]);
        continue;
      }
      // Events the bus carried (what the owner shows its clients): sent on, then the next ring
      // is awaited (no query).
      // Carried events are preferred to the log even while reading it is behind: a follower
      // that only read the log would stay as far behind as one read takes.
      const carried =
        (rung?.[0]?.seq === cursor + 1 ? rung : undefined) ?? source.carried?.(cursor);
      rung = undefined;
      const stored = carried ?? (await source.stored(cursor));
      if (stored.length > 0) {
        if (await send(stored)) break;
        if (!carried) continue;
      } else {
        const ended = await source.ended();
        if (ended) {
          // The run's last events may have been stored between the read above and this one
          // (another server ran it, or closed it): read them before ending the stream. Ending
          // here dropped a run's tail and its terminal (issue #21: 2 of 20 runs followed
          // through a second instance).
          if (ended.last && ended.last.seq > cursor) continue;
          break;
        }
      }
      if (source.wait) rung = await source.wait(cursor, options.closed);
      else await Promise.race([new Promise((r) => setTimeout(r, options.pollMs ?? 250)), closed]);
    }
  } finally {
    clearInterval(heartbeat);
  }
  return cursor;
}
