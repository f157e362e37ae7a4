import type { MemoryHit, MemoryStore, RunStore } from '@parley/core';
import type { MemoryScope } from '@parley/protocol';
import type { Store } from '@parley/store';
import { toModelMessage, toStoredMessage } from './messages.ts';

type ScopeOptions = Parameters<Store['withWorkspace']>[2];

/**
 * Core's persistence ports on the store, confined to one workspace: each call is its own
 * short transaction under row-level security (a run lasts seconds to minutes; holding one
 * transaction open that long would pin a connection and block PGlite).
 */
export function storeRunPort(store: Store, workspaceId: string, options: ScopeOptions): RunStore {
  const inWs = <T>(fn: Parameters<Store['withWorkspace']>[1]) =>
    store.withWorkspace(workspaceId, fn, options) as Promise<T>;
  return {
    async loadHistory(conversationId) {
      const messages = await store.withWorkspace(
        workspaceId,
        (ws) => ws.messages.list(conversationId, { last: 500 }),
        options,
      );
      return messages.map(toModelMessage);
    },
    async saveMessage(message) {
      await inWs(async (ws) => {
        await ws.messages.append(message.conversationId, [
          { ...toStoredMessage(message.message, message.status), runId: message.runId },
        ]);
      });
    },
    // The run row exists before the loop starts, and its outcome is projected from the
    // terminal event when the event log stores it: nothing to do here.
    async startRun() {},
    async finishRun() {},
  };
}

function scopeKind(scope: MemoryScope): 'conversation' | 'user' | 'agent' {
  if (scope.conversationId) return 'conversation';
  if (scope.userId) return 'user';
  return 'agent';
}

export function storeMemoryPort(
  store: Store,
  workspaceId: string,
  options: ScopeOptions,
): MemoryStore {
  return {
    async write(entry) {
      const kind = scopeKind(entry.scope);
      const memory = await store.withWorkspace(
        workspaceId,
        (ws) =>
          ws.memories.add({
            agentId: entry.scope.agentId!,
            scope: kind,
            ...(kind === 'user' ? { userId: entry.scope.userId } : {}),
            ...(kind === 'conversation' ? { conversationId: entry.scope.conversationId } : {}),
            kind: entry.kind,
            content: entry.text,
            source: 'run',
          }),
        options,
      );
      return { id: memory.id, text: memory.content, kind: memory.kind, scope: entry.scope };
    },
    async search(query) {
      const result = await store.withWorkspace(
        workspaceId,
        (ws) =>
          ws.memories.search({
            agentId: query.agentId,
            query: query.text.slice(0, 1_000),
            ...(query.userId ? { userId: query.userId } : {}),
            ...(query.conversationId ? { conversationId: query.conversationId } : {}),
            limit: query.limit,
          }),
        options,
      );
      return result.hits.map(
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
      );
    },
  };
}
