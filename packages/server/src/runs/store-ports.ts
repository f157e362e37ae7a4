import type { MemoryHit, MemorySearch, MemoryStore, RecallResult, RunStore } from '@parley/core';
import type { MemoryScope } from '@parley/protocol';
import { EmbeddingMismatchError, type ScopeOptions, type Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import { notFound } from '../http/problem.ts';
import { toModelMessage, toStoredMessage } from './messages.ts';
import { startReembed } from './reembed.ts';
import { conversationLane, runLanes, type WorkspaceBatcher } from './workspace-batcher.ts';

/**
 * Core's run persistence on the store, confined to one workspace. Calls go through the
 * workspace batcher (group commit with other runs' writes), never one long transaction: a run
 * lasts seconds to minutes and must not pin a connection.
 */
export function storeRunPort(
  batcher: WorkspaceBatcher,
  workspaceId: string,
  options: {
    newConversation: boolean;
    agentId: string;
    /** Settles when the run's row (and a new conversation's) is stored. */
    created: Promise<unknown>;
  },
): RunStore {
  // Messages are written behind the run (the model call does not wait for them), in order:
  // the batcher keeps a run's (and a conversation's) writes in submission order, and the run's
  // outcome waits for every one of them (an error surfaces there).
  let pending: Promise<unknown> = Promise.resolve();
  return {
    async loadHistory(conversationId) {
      // A conversation created for this run has no history: skip the round trip.
      if (options.newConversation) return [];
      // Checked here too (the run's rows are being written in the round before): another
      // agent's conversation never reaches this agent's model, however the rounds fall.
      // After the conversation's writes already submitted (another run's messages).
      const lanes = [conversationLane(conversationId)];
      const messages = await batcher.run({ workspaceId, lanes }, async (ws) => {
        const conversation = await ws.conversations.get(conversationId);
        if (!conversation || conversation.agentId !== options.agentId)
          throw notFound('Conversation');
        return ws.messages.list(conversationId, { last: 500 });
      });
      return messages.map(toModelMessage);
    },
    async saveMessage(message) {
      // After the run's rows; one round at a time per conversation (its counter row).
      const lanes = runLanes(message.runId, message.conversationId);
      const write = batcher
        .run({ workspaceId, lanes }, (ws) =>
          ws.messages.append(message.conversationId, [
            { ...toStoredMessage(message.message, message.status), runId: message.runId },
          ]),
        )
        .catch(async (error: unknown) => {
          // A run whose own rows could not be stored says so, not what failed after it.
          await options.created.catch((cause: unknown) => {
            throw new Error('This run could not be stored, so nothing of it was kept.', { cause });
          });
          throw error;
        });
      const previous = pending;
      pending = Promise.all([previous, write]);
      // The user's message and a cancelled run's partial answer go behind (the run's lane
      // stores them before its terminal event); an assistant message waits for everything
      // before it.
      if (message.message.role !== 'user' && message.status !== 'partial') await pending;
      else write.catch(() => {}); // surfaced through `pending` at the next write or the end
    },
    // The run row exists before the loop starts, and its outcome is projected from the
    // terminal event when the event log stores it.
    async startRun() {},
    async finishRun(_runId, end) {
      // A cancel ends the run at once: its writes still in flight precede the abort in the
      // run's lane (one round for both, not two); a failure among them changes nothing for
      // a run that is ending anyway, and is not what its caller asked about.
      if (end.type === 'run.abort') {
        pending.catch(() => {});
        // Unless the run's own rows could not be stored (long done by the time of a cancel):
        // then the run ends saying so, as any run whose rows failed.
        await options.created.catch((cause: unknown) => {
          throw new Error('This run could not be stored, so nothing of it was kept.', { cause });
        });
        return;
      }
      await pending;
    },
  };
}

function scopeKind(scope: MemoryScope): 'conversation' | 'user' | 'agent' {
  if (scope.conversationId) return 'conversation';
  if (scope.userId) return 'user';
  return 'agent';
}

/** How long "this agent has no memories" is believed on PostgreSQL (other servers may write). */
const NO_MEMORIES_FRESH_MS = 5_000;

/** An agent with no memories: when that was last read, and the read under way. */
type NoMemories = { checkedAt: number; checking?: Promise<boolean> };

/**
 * Per store, per workspace and agent: `true` once the agent is known to have memories (kept:
 * a stale `true` only costs a search that finds nothing), else the last "none". On PGlite the
 * data directory is this process's alone and every memory is written through this port, so
 * "none" holds until a write here; on PostgreSQL another server may write one, so "none" is
 * read again after NO_MEMORIES_FRESH_MS (agent changes spread across servers the same way).
 */
const memoryPresence = new WeakMap<Store, Map<string, true | NoMemories>>();

function presenceOf(store: Store) {
  let known = memoryPresence.get(store);
  if (!known) {
    known = new Map();
    memoryPresence.set(store, known);
  }
  return known;
}

/** Core's memory port on the store (pgvector / full-text search), for one workspace. */
export function storeMemoryPort(
  store: Store,
  workspaceId: string,
  options: ScopeOptions,
  /** Settles when the run's conversation exists: a memory may point at it. */
  conversationStored: Promise<unknown> = Promise.resolve(),
  /** The run's embedding model: vectors are stored under its name, re-embedded on a change. */
  embedding: { modelId?: string; embed?: (texts: string[]) => Promise<number[][]> } = {},
  log?: FastifyBaseLogger,
): MemoryStore {
  const known = presenceOf(store);
  const keyOf = (agentId: string) => `${workspaceId}\u0000${agentId}`;
  /** The agent's stored vectors are another model's: rebuild them in the background. */
  const modelChanged = (agentId: string) => {
    const { modelId, embed } = embedding;
    if (modelId && embed) startReembed(store, { workspaceId, agentId, modelId, embed, log });
  };
  const recall = async (query: MemorySearch): Promise<RecallResult> => {
    const base = {
      agentId: query.agentId,
      query: query.text.slice(0, 1_000),
      ...(query.userId ? { userId: query.userId } : {}),
      ...(query.conversationId ? { conversationId: query.conversationId } : {}),
      limit: query.limit,
    };
    const search = (vector: boolean) =>
      store.withWorkspace(
        workspaceId,
        (ws) =>
          ws.memories.search({
            ...base,
            ...(vector && query.embedding
              ? { embedding: query.embedding, embeddingModel: embedding.modelId, hybrid: true }
              : {}),
          }),
        options,
      );
    let result: Awaited<ReturnType<typeof search>>;
    try {
      result = await search(true);
    } catch (error) {
      if (!(error instanceof EmbeddingMismatchError)) throw error;
      modelChanged(query.agentId);
      result = {
        ...(await search(false)),
        reason: 'the embedding model changed: the memories are being re-embedded',
      };
    }
    return {
      method: result.method,
      ...(result.reason ? { reason: result.reason } : {}),
      hits: result.hits.map(
        (hit): MemoryHit => ({
          id: hit.memory.id,
          text: hit.memory.content,
          kind: hit.memory.kind,
          score: hit.score,
          scope: {
            workspaceId,
            agentId: hit.memory.agentId,
            ...(hit.memory.userId ? { userId: hit.memory.userId } : {}),
            ...(hit.memory.conversationId ? { conversationId: hit.memory.conversationId } : {}),
          },
        }),
      ),
    };
  };
  return {
    async mayHaveMemories(agentId) {
      const key = keyOf(agentId);
      const entry = known.get(key);
      if (entry === true) return true;
      if (entry?.checking) return entry.checking;
      const now = performance.now();
      if (entry && (store.kind === 'pglite' || now - entry.checkedAt < NO_MEMORIES_FRESH_MS))
        return false;
      // One read answers every run that asks meanwhile (a burst of a new agent's runs).
      const checking = store
        .withWorkspace(workspaceId, (ws) => ws.memories.hasAny(agentId), options)
        .then(
          (has) => {
            if (known.get(key) === pending) known.set(key, has ? true : { checkedAt: now });
            return has;
          },
          () => {
            if (known.get(key) === pending) known.delete(key);
            return true; // unknown: recall as before, which reports its own error
          },
        );
      const pending: NoMemories = { checkedAt: now, checking };
      known.set(key, pending);
      return checking;
    },
    async write(entry) {
      await conversationStored;
      const kind = scopeKind(entry.scope);
      const add = (vector: number[] | undefined) =>
        store.withWorkspace(
          workspaceId,
          (ws) =>
            ws.memories.add({
              agentId: entry.scope.agentId!,
              scope: kind,
              ...(kind === 'user' ? { userId: entry.scope.userId } : {}),
              ...(kind === 'conversation' ? { conversationId: entry.scope.conversationId } : {}),
              kind: entry.kind,
              content: entry.text,
              ...(vector ? { embedding: vector, embeddingModel: embedding.modelId } : {}),
              source: 'run',
            }),
          options,
        );
      const memory = await add(entry.embedding).catch((error: unknown) => {
        if (!(error instanceof EmbeddingMismatchError)) throw error;
        // Stored without its vector: the re-embedding started here gives it the new one.
        modelChanged(entry.scope.agentId!);
        return add(undefined);
      });
      known.set(keyOf(memory.agentId), true);
      return { id: memory.id, text: memory.content, kind: memory.kind, scope: entry.scope };
    },
    recall,
    async search(query) {
      return (await recall(query)).hits;
    },
  };
}
