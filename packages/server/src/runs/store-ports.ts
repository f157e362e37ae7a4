import type { MemoryHit, MemorySearch, MemoryStore, RecallResult, RunStore } from '@parley/core';
import type { MemoryScope } from '@parley/protocol';
import { EmbeddingMismatchError, type ScopeOptions, type Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import { createFreshCache, type FreshCache } from '../caches/fresh-cache.ts';
import { notFound } from '../http/problem.ts';
import { MESSAGE_APPENDS } from './merged-writes.ts';
import { toModelMessage, toStoredMessage } from './messages.ts';
import { startReembed } from './reembed.ts';
import { conversationLane, runLanes, type WorkspaceBatcher } from './workspace-batcher.ts';

/**
 * What became of a run's message writes, for its end: its terminal event is not stored as it
 * stands after one failed (run-executor.ts stores a run.error saying why instead).
 */
export function createRunWrites() {
  let all: Promise<unknown> = Promise.resolve();
  const writes = {
    /** Set as soon as a write of the run is known to have failed. */
    failed: false,
    track(write: Promise<unknown>) {
      write.catch(() => {
        writes.failed = true;
      });
      all = Promise.all([all, write]);
      all.catch(() => {}); // read through settled()
    },
    /** Once every write so far has settled: the first failure's error, else undefined. */
    settled: (): Promise<unknown> =>
      all.then(
        () => undefined,
        (error: unknown) => error,
      ),
  };
  return writes;
}

export type RunWrites = ReturnType<typeof createRunWrites>;

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
    /** Where the run's writes are followed (its end reads them). */
    writes: RunWrites;
  },
): RunStore {
  const { writes } = options;
  // A run whose own rows could not be stored says so, not what failed after it.
  const unlessUnstored = async (error: unknown) => {
    await options.created.catch((cause: unknown) => {
      throw new Error('This run could not be stored, so nothing of it was kept.', { cause });
    });
    throw error;
  };
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
      // Written behind the run: the batcher keeps a run's (and a conversation's) writes in
      // submission order, so its end follows them in the run's lane, often in the same round,
      // and a failed one turns that end into a run.error (run-executor.ts). Awaited are the
      // messages of a step with tool calls: a tool runs only once the step that asked for it is
      // stored, and the next model call only once the tools' results are (after a crash, the
      // instance that continues the run must know which calls were made and what they gave).
      const lanes = runLanes(message.runId, message.conversationId);
      const write = batcher
        .merge({ workspaceId, lanes }, MESSAGE_APPENDS, {
          conversationId: message.conversationId,
          messages: [{ ...toStoredMessage(message.message, message.status), runId: message.runId }],
        })
        .catch(unlessUnstored);
      writes.track(write);
      const { message: m } = message;
      if (m.role === 'tool' || (m.role === 'assistant' && m.toolCalls?.length)) await write;
    },
    // The run row exists before the loop starts, and its outcome is projected from the
    // terminal event when the event log stores it.
    async startRun() {},
    async finishRun(_runId, end) {
      // The end is stored after the run's writes, in its lane, and only if none failed
      // (run-executor.ts); a cancel ends the run at once all the same. A run whose own rows
      // could not be stored (long known by the time of a cancel) ends saying so.
      if (end.type === 'run.abort') await options.created.catch(unlessUnstored);
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

/**
 * Per store, by workspace and agent: whether the agent has memories. `true` is kept (a stale
 * `true` only costs a search that finds nothing). On PGlite the data directory is this
 * process's alone and every memory is written through this port, so "none" holds until a write
 * here; on PostgreSQL another server may write one, so "none" is read again after
 * NO_MEMORIES_FRESH_MS, in the background while it is less than twice that old
 * (caches/fresh-cache.ts; agent changes spread across servers the same way).
 */
const memoryPresence = new WeakMap<Store, FreshCache<boolean>>();

function presenceOf(store: Store) {
  let known = memoryPresence.get(store);
  if (!known) {
    known = createFreshCache({
      freshMs: (has) =>
        has || store.kind === 'pglite' ? Number.POSITIVE_INFINITY : NO_MEMORIES_FRESH_MS,
    });
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
      const read = () =>
        store.withWorkspace(workspaceId, (ws) => ws.memories.hasAny(agentId), options);
      // Unknown (the read failed): recall as before, which reports its own error.
      return await Promise.resolve(known.get(keyOf(agentId), read)).catch(() => true);
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
