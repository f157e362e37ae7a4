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
  /**
   * False only when the agent certainly has no memories yet: the run then skips recall (and
   * its embedding call and search) before the first model call. Should answer without a round
   * trip in the common case (a cache that local writes update). Absent: always recall.
   */
  mayHaveMemories?(agentId: string): boolean | Promise<boolean>;
}
