import type { ParleyError, ParleyEventPayload } from '@parley/protocol';

/**
 * Events produced beside the run loop while its tools run, which the loop stamps into the
 * run's stream in order: a child run's events (`run.child`) while the agent tool that started
 * it waits. A tool may also end the run with a typed error (a limit of the run tree).
 */
export interface NestedEvents {
  /** Takes the payloads that arrived since the last call, in order. */
  take(): ParleyEventPayload[];
  /** Resolves once there is something to take, or a failure. */
  ready(): Promise<void>;
  /** The error the run ends with, once a tool set one. */
  failure(): ParleyError | undefined;
}

export interface NestedEventsSource extends NestedEvents {
  push(payload: ParleyEventPayload): void;
  fail(error: ParleyError): void;
}

export function createNestedEvents(): NestedEventsSource {
  let queue: ParleyEventPayload[] = [];
  let failed: ParleyError | undefined;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  };
  return {
    take() {
      const taken = queue;
      queue = [];
      return taken;
    },
    ready() {
      if (queue.length > 0 || failed) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    failure: () => failed,
    push(payload) {
      queue.push(payload);
      wake();
    },
    fail(error) {
      failed ??= error;
      wake();
    },
  };
}
