import type { FinishReason, ParleyError, Usage } from '@parley/protocol';
import type { ModelMessage } from '@parley/providers';

export type RunStatus = 'running' | 'finished' | 'failed' | 'cancelled';

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

export interface RunOutcome {
  status: RunStatus;
  finishReason?: FinishReason;
  usage: Usage;
  ttftMs?: number;
  error?: ParleyError;
}

/**
 * The persistence core needs for one workspace. `@parley/store` implements it (RLS-scoped);
 * `createInMemoryRunStore` keeps it in the process for offline runs and tests.
 */
export interface RunStore {
  /** The conversation so far, oldest first. */
  loadHistory(conversationId: string): Promise<ModelMessage[]>;
  saveMessage(message: StoredMessage): Promise<void>;
  startRun(run: RunRecord): Promise<void>;
  finishRun(runId: string, outcome: RunOutcome): Promise<void>;
}

export function createInMemoryRunStore() {
  const messages: StoredMessage[] = [];
  const runs = new Map<string, RunRecord & { outcome?: RunOutcome }>();
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
      runs.set(run.runId, { ...run });
    },
    async finishRun(runId, outcome) {
      const run = runs.get(runId);
      if (run) run.outcome = outcome;
    },
  };
  return store;
}
