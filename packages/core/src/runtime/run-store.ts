import {
  type PayloadOf,
  type RunStatus,
  runStatusOf,
  type TerminalEventType,
} from '@parley/protocol';
import type { ModelMessage } from '@parley/providers';

/** A message as persisted: the provider-neutral shape plus which run wrote it and how it ended. */
export interface StoredMessage {
  conversationId: string;
  runId: string;
  message: ModelMessage;
  /** `partial` when the run failed or was cancelled after some output. */
  status: 'complete' | 'partial';
}

export interface RunRecord {
  runId: string;
  agentId: string;
  conversationId: string;
  provider: string;
  model: string;
}

/** How a run ends: its terminal event as it will be emitted (before its seq and time). */
export type RunEnd = PayloadOf<TerminalEventType>;

/**
 * The persistence core needs for one workspace. `@parley/store` implements it (RLS-scoped);
 * `createInMemoryRunStore` keeps it in the process for offline runs and tests.
 */
export interface RunStore {
  /** The conversation so far, oldest first. */
  loadHistory(conversationId: string): Promise<ModelMessage[]>;
  saveMessage(message: StoredMessage): Promise<void>;
  startRun(run: RunRecord): Promise<void>;
  /**
   * Called right before the run's terminal event is emitted, with that event: its messages
   * must be stored by the time this settles (a failure here ends the run with `run.error`
   * instead). The terminal event is the one source of the run's outcome: a store that keeps a
   * status derives it with `runStatusOf` (@parley/protocol).
   */
  finishRun(runId: string, end: RunEnd): Promise<void>;
}

export function createInMemoryRunStore() {
  const messages: StoredMessage[] = [];
  const runs = new Map<string, RunRecord & { status: RunStatus; end?: RunEnd }>();
  const store: RunStore & { messages: StoredMessage[]; runs: typeof runs } = {
    messages,
    runs,
    async loadHistory(conversationId) {
      return messages.filter((m) => m.conversationId === conversationId).map((m) => m.message);
    },
    async saveMessage(message) {
      messages.push(structuredClone(message));
    },
    async startRun(run) {
      runs.set(run.runId, { ...run, status: 'running' });
    },
    async finishRun(runId, end) {
      const run = runs.get(runId);
      if (run) Object.assign(run, { status: runStatusOf(end), end });
    },
  };
  return store;
}
