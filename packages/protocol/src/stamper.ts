import { isStepEventType, type ParleyEvent, type ParleyEventPayload } from './events.ts';
import { STREAM_VERSION } from './version.ts';

export interface StamperOptions {
  runId: string;
  /** Monotonic clock in ms; defaults to `performance.now()`. */
  now?: () => number;
  /** Makes a step id when a `step.start` payload arrives; defaults to `<runId>.s<n>`. */
  newStepId?: (ordinal: number) => string;
  /** Continue an existing log: the next event gets `lastSeq + 1`. */
  lastSeq?: number;
  /**
   * Continue a run another process began (failover): `t` goes on from `lastT`, step ids from
   * `stepOrdinal`, and `openStepId` is the step still open (its `step.reset` carries it).
   */
  resume?: { lastT: number; stepOrdinal: number; openStepId?: string };
}

/** Events made by a stamper of this process. */
const stamped = new WeakSet<ParleyEvent>();

/**
 * Whether this very object was made by `createEventStamper` in this process, from a typed
 * payload: the store trusts such events (no schema check again) and validates every other,
 * such as events read from a file or sent by another program. A copy is not stamped.
 */
export function wasStamped(event: unknown): boolean {
  return typeof event === 'object' && event !== null && stamped.has(event as ParleyEvent);
}

/**
 * Turns payloads into wire events: assigns `v`, a gap-free `seq`, `runId`, `t` since the
 * stamper was made, and the current `stepId` to every step-level event (a step opens at
 * `step.start` and closes after `step.finish` or `step.reset`).
 */
export function createEventStamper(options: StamperOptions) {
  const now = options.now ?? (() => performance.now());
  const origin = now();
  let seq = options.lastSeq ?? 0;
  let stepOrdinal = options.resume?.stepOrdinal ?? 0;
  let stepId: string | undefined = options.resume?.openStepId;
  const base = options.resume?.lastT ?? 0;
  let lastT = base;
  const newStepId = options.newStepId ?? ((n: number) => `${options.runId}.s${n}`);

  return {
    stamp(payload: ParleyEventPayload): ParleyEvent {
      if (payload.type === 'step.start') stepId = newStepId(++stepOrdinal);
      // Never let t go backwards, even if a caller's clock does.
      lastT = Math.max(lastT, Math.round((base + now() - origin) * 1000) / 1000);
      const envelope = { v: STREAM_VERSION, seq: ++seq, runId: options.runId, t: lastT };
      const event = (
        isStepEventType(payload.type) && stepId !== undefined
          ? { ...envelope, stepId, ...payload }
          : { ...envelope, ...payload }
      ) as ParleyEvent;
      if (payload.type === 'step.finish' || payload.type === 'step.reset') stepId = undefined;
      stamped.add(event);
      return event;
    },
    get lastSeq() {
      return seq;
    },
  };
}
export type EventStamper = ReturnType<typeof createEventStamper>;
