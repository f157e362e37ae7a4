import { and, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { memories } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import {
  LIMITS,
  limitSchema,
  metadataSchema,
  parse,
  parseId,
  text,
  uuidSchema,
} from '../validation.ts';
import { defined, notFound } from './common.ts';
import {
  ensureAgentEmbedding,
  listMissingEmbeddings,
  resetEmbeddings,
} from './memory-embeddings.ts';
import { type MemorySearch, searchMemories } from './memory-search.ts';
import {
  EmbeddingSchema,
  KindSchema,
  type Memory,
  memoryColumns,
  NewMemorySchema,
  ScopeSchema,
} from './memory-shapes.ts';

export { fuseByRank, type MemorySearch, vectorSearchQuery } from './memory-search.ts';
export {
  INDEXED_EMBEDDING_DIMENSIONS,
  type Memory,
  type MemoryHit,
  type MemoryScopeKind,
  type MemorySearchResult,
} from './memory-shapes.ts';

/*
 * An agent's memories: adding, reading, changing and deleting them here; their embeddings in
 * memory-embeddings.ts, recall in memory-search.ts, their shapes in memory-shapes.ts.
 */

const ListOptionsSchema = z.object({
  agentId: uuidSchema.optional(),
  scope: ScopeSchema.optional(),
  userId: text(LIMITS.name).optional(),
  conversationId: uuidSchema.optional(),
  kind: KindSchema.optional(),
  limit: limitSchema.default(100),
});
type MemoryListOptions = z.input<typeof ListOptionsSchema>;

const MemoryPatchSchema = z.object({
  content: text(LIMITS.memoryContent, 1).optional(),
  kind: KindSchema.optional(),
  metadata: metadataSchema.optional(),
  embedding: EmbeddingSchema.optional(),
  embeddingModel: text(LIMITS.name, 1).optional(),
});
type MemoryPatch = z.input<typeof MemoryPatchSchema>;

export function memoriesRepository(ctx: ScopeContext) {
  const repo = {
    /** Stores a memory; with an embedding, its size (and model) must match the agent's. */
    async add(input: z.input<typeof NewMemorySchema>): Promise<Memory> {
      const value = parse(NewMemorySchema, input, 'memory');
      if (value.embedding) {
        await ensureAgentEmbedding(
          ctx.tx,
          value.agentId,
          value.embedding.length,
          value.embeddingModel,
        );
      }
      ctx.noteWrites('memories', 1);
      const [row] = await ctx.tx
        .insert(memories)
        .values({
          workspaceId: ctx.workspaceId,
          agentId: value.agentId,
          scope: value.scope,
          userId: value.userId ?? null,
          conversationId: value.conversationId ?? null,
          kind: value.kind,
          content: value.content,
          embedding: value.embedding ?? null,
          embeddingDimensions: value.embedding?.length ?? null,
          metadata: (value.metadata ?? {}) as Record<string, unknown>,
          source: value.source ?? null,
        })
        .returning(memoryColumns);
      return row!;
    },

    /** Whether the agent has any memory at all (one index probe: cheaper than a search). */
    async hasAny(agentId: string): Promise<boolean> {
      const id = parseId(agentId, 'agent id');
      const [row] = await ctx.tx
        .select({ id: memories.id })
        .from(memories)
        .where(and(eq(memories.workspaceId, ctx.workspaceId), eq(memories.agentId, id)))
        .limit(1);
      return row !== undefined;
    },

    async get(memoryId: string, options: { withEmbedding?: boolean } = {}): Promise<Memory | null> {
      const id = parseId(memoryId, 'memory id');
      const [row] = await ctx.tx
        .select({
          ...memoryColumns,
          ...(options.withEmbedding ? { embedding: memories.embedding } : {}),
        })
        .from(memories)
        .where(eq(memories.id, id));
      return row ?? null;
    },

    /** Newest first. */
    list: (options: MemoryListOptions = {}) => listMemories(ctx, options),

    /** Changes content, kind or metadata. New content without a new embedding clears the old one. */
    update: (memoryId: string, patch: MemoryPatch) => updateMemory(ctx, memoryId, patch),

    async delete(memoryId: string): Promise<void> {
      const id = parseId(memoryId, 'memory id');
      const rows = await ctx.tx
        .delete(memories)
        .where(eq(memories.id, id))
        .returning({ id: memories.id });
      if (rows.length === 0) throw notFound('memory', id);
      ctx.noteWrites('memories', 1);
    },

    /** Sets (or replaces) the embedding of one memory, e.g. while re-embedding after a model change. */
    async setEmbedding(
      memoryId: string,
      embedding: number[],
      options: { model?: string } = {},
    ): Promise<void> {
      await repo.update(memoryId, {
        embedding,
        ...(options.model ? { embeddingModel: options.model } : {}),
      });
    },

    /**
     * The migration path to another embedding model: clears every embedding of the agent and
     * fixes the new size (and model). Full-text search keeps working; re-embed the memories
     * listed by listMissingEmbeddings() with setEmbedding(). Returns how many were cleared.
     */
    resetEmbeddings: (agentId: string, next: { dimensions: number; model?: string }) =>
      resetEmbeddings(ctx, agentId, next),

    /** Memories of the agent without an embedding, oldest first. */
    listMissingEmbeddings: (agentId: string, options: { limit?: number } = {}) =>
      listMissingEmbeddings(ctx, agentId, options),

    /**
     * Recalls memories: by cosine similarity when an embedding is given and the agent has
     * embeddings, else (or when no vector matches) by full-text search on `query`. Only the
     * agent's memories the scope allows are seen, and row-level security keeps every other
     * workspace out.
     */
    search: (input: MemorySearch) => searchMemories(ctx, input),
  };
  return repo;
}

/** Newest first. */
async function listMemories(ctx: ScopeContext, options: MemoryListOptions): Promise<Memory[]> {
  const value = parse(ListOptionsSchema, options, 'list options');
  return ctx.tx
    .select(memoryColumns)
    .from(memories)
    .where(
      and(
        eq(memories.workspaceId, ctx.workspaceId),
        value.agentId ? eq(memories.agentId, value.agentId) : undefined,
        value.scope ? eq(memories.scope, value.scope) : undefined,
        value.userId ? eq(memories.userId, value.userId) : undefined,
        value.conversationId ? eq(memories.conversationId, value.conversationId) : undefined,
        value.kind ? eq(memories.kind, value.kind) : undefined,
      ),
    )
    .orderBy(desc(memories.createdAt), desc(memories.id))
    .limit(value.limit);
}

/** Changes content, kind or metadata. New content without a new embedding clears the old one. */
async function updateMemory(
  ctx: ScopeContext,
  memoryId: string,
  patch: MemoryPatch,
): Promise<Memory> {
  const id = parseId(memoryId, 'memory id');
  const value = parse(MemoryPatchSchema, patch, 'memory patch');
  const [existing] = await ctx.tx
    .select({ agentId: memories.agentId })
    .from(memories)
    .where(eq(memories.id, id));
  if (!existing) throw notFound('memory', id);
  if (value.embedding) {
    await ensureAgentEmbedding(
      ctx.tx,
      existing.agentId,
      value.embedding.length,
      value.embeddingModel,
    );
  }
  const embedding =
    value.embedding !== undefined
      ? { embedding: value.embedding, embeddingDimensions: value.embedding.length }
      : value.content !== undefined
        ? { embedding: null, embeddingDimensions: null }
        : {};
  const [row] = await ctx.tx
    .update(memories)
    .set({
      ...defined({
        content: value.content,
        kind: value.kind,
        metadata: value.metadata as Record<string, unknown> | undefined,
      }),
      ...embedding,
      updatedAt: sql`now()`,
    })
    .where(eq(memories.id, id))
    .returning(memoryColumns);
  return row!;
}
