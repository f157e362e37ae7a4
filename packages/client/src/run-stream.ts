import {
  initialStreamState,
  isTerminalEvent,
  type ParleyEvent,
  readParleyEvents,
  reduceEvent,
  reduceEvents,
  type StreamState,
  textOf,
} from '@parley/protocol';
import { ParleyApiError, ParleyConnectionError } from './errors.ts';

export interface RunStreamOptions {
  /** Reconnections in a row before giving up (default 8). */
  maxReconnects?: number;
  /** First wait before reconnecting; doubles each time, capped at 5 s (default 250 ms). */
  reconnectDelayMs?: number;
  /** Stops reading (the run goes on on the server; use cancel() to stop it). */
  signal?: AbortSignal;
  /** Told before each reconnection (for a "reconnecting…" indicator). */
  onReconnect?: (info: { attempt: number; afterSeq: number; error?: unknown }) => void;
}

type Open = (afterSeq: number, signal?: AbortSignal) => Promise<Response>;

export interface RunActions {
  cancel(): Promise<unknown>;
  decide(toolCallId: string, decision: 'approved' | 'denied'): Promise<unknown>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * A run's Parley Stream v1 events as an async iterable. When the connection drops before the
 * terminal event, it reconnects to `GET /v1/runs/{id}/events` with `Last-Event-ID` and goes
 * on where it stopped: events arrive once each, in order. Every event is folded into `state`
 * with the protocol's reducer (text so far, tool calls, usage, outcome). After a `run.gap`
 * (the run's server died before storing events it had shown) `state` is what the run kept.
 */
export class RunStream implements AsyncIterable<ParleyEvent> {
  readonly runId: string;
  /** The reduced stream so far. */
  state: StreamState = initialStreamState();
  /** Every event received, in order. */
  readonly events: ParleyEvent[] = [];
  #first: Response | undefined;
  readonly #open: Open;
  readonly #options: RunStreamOptions;
  readonly #actions: RunActions;
  #consumed = false;
  #done: Promise<StreamState> | undefined;

  constructor(
    runId: string,
    first: Response | undefined,
    open: Open,
    actions: RunActions,
    options: RunStreamOptions = {},
  ) {
    this.runId = runId;
    this.#first = first;
    this.#open = open;
    this.#actions = actions;
    this.#options = options;
  }

  get lastSeq(): number {
    return this.state.lastSeq;
  }

  /** The reply's text so far. */
  get text(): string {
    return textOf(this.state);
  }

  /** Cancels the run on the server (it ends with run.abort; the stream then ends too). */
  cancel(): Promise<unknown> {
    return this.#actions.cancel();
  }

  /** Answers a `tool.approval_requested` for this run. */
  decide(toolCallId: string, decision: 'approved' | 'denied'): Promise<unknown> {
    return this.#actions.decide(toolCallId, decision);
  }

  /** Reads the whole stream (if nobody iterates it) and resolves with the final state. */
  finished(): Promise<StreamState> {
    this.#done ??= (async () => {
      for await (const _ of this) {
        // drain
      }
      return this.state;
    })();
    return this.#done;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ParleyEvent> {
    if (this.#consumed)
      throw new Error('A RunStream can be iterated once; use .events or .state afterwards.');
    this.#consumed = true;
    const { signal } = this.#options;
    const maxReconnects = this.#options.maxReconnects ?? 8;
    const baseDelay = this.#options.reconnectDelayMs ?? 250;
    let response = this.#first;
    this.#first = undefined;
    let failures = 0;
    for (;;) {
      let lastError: unknown;
      try {
        response ??= await this.#open(this.lastSeq, signal);
        for await (const event of readParleyEvents(response.body!)) {
          if (event.seq <= this.lastSeq) continue; // already seen (a replay after reconnecting)
          if (event.type === 'run.gap' && this.lastSeq > event.afterSeq) {
            // The server that ran this died before storing what it had shown: show what the
            // run kept (`events` still lists everything that arrived).
            this.state = reduceEvents(this.events.filter((e) => e.seq <= event.afterSeq));
          }
          this.state = reduceEvent(this.state, event);
          this.events.push(event);
          failures = 0;
          yield event;
          if (isTerminalEvent(event)) return;
        }
      } catch (error) {
        if (signal?.aborted) return;
        // A refusal is an answer (the run is gone, access was revoked): do not retry it.
        if (error instanceof ParleyApiError && error.status < 500) throw error;
        lastError = error;
      }
      if (signal?.aborted) return;
      failures += 1;
      if (failures > maxReconnects) {
        throw new ParleyConnectionError(
          `The stream of run ${this.runId} broke and could not be resumed after ${maxReconnects} attempts (last event ${this.lastSeq}).`,
          { cause: lastError },
        );
      }
      this.#options.onReconnect?.({ attempt: failures, afterSeq: this.lastSeq, error: lastError });
      await sleep(Math.min(5_000, baseDelay * 2 ** (failures - 1)), signal);
      response = undefined;
    }
  }
}
