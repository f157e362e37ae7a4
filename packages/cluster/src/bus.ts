/**
 * The cluster's bus: how one Parley instance tells the others something happened. Messages
 * are small JSON objects with a `type`; every message reaches every instance, the sender
 * included. A bus is a doorbell, never the source of truth: what a message announces (a
 * run's stored events, a revoked token) is read from the database, so a message lost while
 * the bus was down costs only latency, and `onResync` says when that may have happened.
 */

export interface BusMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

export type BusKind = 'local' | 'postgres' | 'redis';

export interface BusStatus {
  /** What the bus was configured as. */
  kind: BusKind;
  /** Whether messages are flowing now. */
  up: boolean;
  /** What carries them now: with Redis down, PostgreSQL does (`via: 'postgres'`). */
  via: BusKind | 'none';
  /** Why it is degraded or down, for /readyz and the log. */
  detail?: string;
}

export interface Bus {
  readonly kind: BusKind;
  /** Sends to every instance (this one included). Never throws: a down bus drops it. */
  publish(message: BusMessage): void;
  subscribe(listener: (message: BusMessage) => void): () => void;
  /**
   * Called when the bus is back after being down: messages may have been lost meanwhile, so
   * whatever they would have invalidated should be read again.
   */
  onResync(listener: () => void): () => void;
  onStatus(listener: (status: BusStatus) => void): () => void;
  status(): BusStatus;
  close(): Promise<void>;
}

export type BusLog = (level: 'info' | 'warn' | 'error', message: string, error?: unknown) => void;

/** Listener bookkeeping shared by every bus. */
export class BusListeners {
  private readonly messages = new Set<(message: BusMessage) => void>();
  private readonly resyncs = new Set<() => void>();
  private readonly statuses = new Set<(status: BusStatus) => void>();

  subscribe(listener: (message: BusMessage) => void) {
    this.messages.add(listener);
    return () => void this.messages.delete(listener);
  }
  onResync(listener: () => void) {
    this.resyncs.add(listener);
    return () => void this.resyncs.delete(listener);
  }
  onStatus(listener: (status: BusStatus) => void) {
    this.statuses.add(listener);
    return () => void this.statuses.delete(listener);
  }

  /** Delivers each message to every listener; one listener's throw never stops the others. */
  deliver(messages: readonly BusMessage[], log?: BusLog) {
    for (const message of messages)
      for (const listener of this.messages) {
        try {
          listener(message);
        } catch (error) {
          log?.('error', 'a bus listener failed', error);
        }
      }
  }
  resync() {
    for (const listener of this.resyncs) listener();
  }
  status(status: BusStatus) {
    for (const listener of this.statuses) listener(status);
  }
}

/** Parses a payload of JSON messages (one object or an array), skipping what is not one. */
export function parseMessages(payload: string): BusMessage[] {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return [];
  }
  const list = Array.isArray(value) ? value : [value];
  return list.filter(
    (m): m is BusMessage =>
      typeof m === 'object' && m !== null && typeof (m as BusMessage).type === 'string',
  );
}

/**
 * Queues serialised messages and hands them to `send` once per turn of the event loop, packed
 * into JSON arrays of at most `maxBytes` (PostgreSQL's NOTIFY takes under 8,000): a burst of
 * doorbells from fifty runs is one round trip, not fifty.
 *
 * The turn ends at whichever comes first: the check phase of this turn (`setImmediate`, for a
 * message published from I/O) or the timers phase of the next (`setTimeout`, for one
 * published from a check-phase callback — where runs show their events — whose immediate
 * would wait behind the next poll phase: every socket of fifty streams).
 *
 * One send at a time, in order; what is published while one is in flight leaves, all of it,
 * in the next send as soon as that one is done. (Chained one send per turn, a busy owner
 * published every turn while each send took a few turns: the sends queued up, and an event
 * shown on the owner reached the bus 230 ms late at p99, 1.1 s on Redis — the follower's tail.)
 */
export function createBatcher(send: (payloads: string[]) => Promise<void>, maxBytes: number) {
  let queued: string[] = [];
  let scheduled = false;
  let immediate: NodeJS.Immediate | undefined;
  let timeout: NodeJS.Timeout | undefined;
  /** The send in flight, if any (it sends what was queued meanwhile when done). */
  let sending: Promise<void> | undefined;

  const pack = (items: string[]): string[] => {
    const payloads: string[] = [];
    let current: string[] = [];
    let bytes = 2;
    for (const item of items) {
      const size = Buffer.byteLength(item) + 1;
      if (size + 2 > maxBytes) continue; // one message too large for the channel: dropped
      if (bytes + size > maxBytes && current.length > 0) {
        payloads.push(`[${current.join(',')}]`);
        current = [];
        bytes = 2;
      }
      current.push(item);
      bytes += size;
    }
    if (current.length > 0) payloads.push(`[${current.join(',')}]`);
    return payloads;
  };

  const flush = () => {
    scheduled = false;
    clearImmediate(immediate);
    clearTimeout(timeout);
    if (sending || queued.length === 0) return;
    sending = sendQueued();
  };
  /** Sends what is queued, then what was queued meanwhile, until nothing is. */
  const sendQueued = async () => {
    while (queued.length > 0) {
      const items = queued;
      queued = [];
      await send(pack(items)).catch(() => {});
    }
    sending = undefined;
  };

  return {
    push(message: BusMessage) {
      queued.push(JSON.stringify(message));
      if (!scheduled) {
        scheduled = true;
        immediate = setImmediate(flush);
        timeout = setTimeout(flush, 0);
      }
    },
    /** Resolves when everything pushed so far has been handed to `send`. */
    async drain() {
      flush();
      await sending;
    },
  };
}
