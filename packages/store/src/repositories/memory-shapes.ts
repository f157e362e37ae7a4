import { z } from 'zod';
import { memories } from '../schema/index.ts';
import { LIMITS, metadataSchema, text, uuidSchema } from '../validation.ts';

/* The shapes of a memory: its row as callers see it, and what adding one must satisfy. */

/** Embedding sizes with an HNSW index (drizzle/0001_security.sql); others use an exact scan. */
export const INDEXED_EMBEDDING_DIMENSIONS: Readonly<Record<number, 'vector' | 'halfvec'>> = {
  384: 'vector',
  768: 'vector',
  1024: 'vector',
  1536: 'vector',
  3072: 'halfvec',
};

export type MemoryScopeKind = 'agent' | 'user' | 'conversation';
export type Memory = Omit<typeof memories.$inferSelect, 'searchVector' | 'embedding'> & {
  /** Present only when asked for (`withEmbedding`), to keep results small. */
  embedding?: number[] | null;
};
export interface MemoryHit {
  memory: Memory;
  /** Cosine similarity (vector search, −1…1) or ts_rank_cd (full-text search); higher is closer. */
  score: number;
}
export interface MemorySearchResult {
  method: 'vector' | 'hybrid' | 'fulltext';
  hits: MemoryHit[];
  /** Why a search given an embedding did not use it. */
  reason?: string;
}

export const EmbeddingSchema = z
  .array(z.number().refine(Number.isFinite, 'must be a finite number'))
  .min(1)
  .max(LIMITS.embeddingDimensions);
export const KindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,39}$/, 'must be a short lower-case word (fact, preference, …)');
export const ScopeSchema = z.enum(['agent', 'user', 'conversation']);

export const NewMemorySchema = z
  .object({
    agentId: uuidSchema,
    scope: ScopeSchema,
    userId: text(LIMITS.name, 1).optional(),
    conversationId: uuidSchema.optional(),
    kind: KindSchema,
    content: text(LIMITS.memoryContent, 1),
    embedding: EmbeddingSchema.optional(),
    embeddingModel: text(LIMITS.name, 1).optional(),
    metadata: metadataSchema.optional(),
    source: text(LIMITS.name).optional(),
  })
  .refine((m) => m.scope !== 'user' || m.userId, {
    path: ['userId'],
    message: 'is required for scope user',
  })
  .refine((m) => m.scope !== 'conversation' || m.conversationId, {
    path: ['conversationId'],
    message: 'is required for scope conversation',
  });

/** A memory's columns without the search vector and the embedding (asked for separately). */
export const memoryColumns = {
  id: memories.id,
  workspaceId: memories.workspaceId,
  agentId: memories.agentId,
  scope: memories.scope,
  userId: memories.userId,
  conversationId: memories.conversationId,
  kind: memories.kind,
  content: memories.content,
  embeddingDimensions: memories.embeddingDimensions,
  metadata: memories.metadata,
  source: memories.source,
  createdAt: memories.createdAt,
  updatedAt: memories.updatedAt,
};
