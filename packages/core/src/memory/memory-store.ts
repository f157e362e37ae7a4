import type { MemoryScope } from '@parley/protocol';

/** Which memories a write belongs to or a search may see (always within one workspace). */
export type MemoryScopeKind = 'conversation' | 'user' | 'agent';

export interface MemoryRecord {
  id: string;
  text: string;
  kind: string;
  scope: MemoryScope;
}

export interface MemoryHit extends MemoryRecord {
  score: number;
}

export interface MemorySearch {
  text: string;
  embedding?: number[];
  /** Only memories of this agent, and of this user / conversation when given. */
  agentId: string;
  userId?: string;
  conversationId?: string;
  limit: number;
}

/** How a recall ran: by vector, by words, or both fused by reciprocal rank. */
export type RecallMethod = 'vector' | 'hybrid' | 'fulltext';

export interface RecallResult {
  hits: MemoryHit[];
  method: RecallMethod;
  /** Why that method (no embedding model, vectors being rebuilt, …): for the recall event. */
  reason?: string;
}

/**
 * Where memories live. Core depends on this port; `@parley/store` implements it on
 * PostgreSQL/PGlite (pgvector + full-text), `createInMemoryMemoryStore` for offline use.
 */
export interface MemoryStore {
  write(entry: {
    text: string;
    kind: string;
    scope: MemoryScope;
    embedding?: number[];
  }): Promise<MemoryRecord>;
  search(query: MemorySearch): Promise<MemoryHit[]>;
  /** The search saying which method ran and why; run recall prefers it when present. */
  recall?(query: MemorySearch): Promise<RecallResult>;
  /**
   * False only when the agent certainly has no memories yet: the run then skips recall (and
   * its embedding call and search) before the first model call. Should answer without a round
   * trip in the common case (a cache that local writes update). Absent: always recall.
   */
  mayHaveMemories?(agentId: string): boolean | Promise<boolean>;
}
