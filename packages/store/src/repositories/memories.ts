import { and, asc, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Tx } from '../db.ts';
import { EmbeddingMismatchError } from '../errors.ts';
import { agents, memories } from '../schema/index.ts';
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

const EmbeddingSchema = z
  .array(z.number().refine(Number.isFinite, 'must be a finite number'))
  .min(1)
  .max(LIMITS.embeddingDimensions);
const KindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,39}$/, 'must be a short lower-case word (fact, preference, …)');
const ScopeSchema = z.enum(['agent', 'user', 'conversation']);

const NewMemorySchema = z
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

const SearchSchema = z
  .object({
    agentId: uuidSchema,
    /** Vector search when given. */
    embedding: EmbeddingSchema.optional(),
    embeddingModel: text(LIMITS.name, 1).optional(),
    /** Full-text search when there is no embedding (or the agent has none stored yet). */
    query: text(LIMITS.shortText).optional(),
    /** Include user-scoped memories of this user. */
    userId: text(LIMITS.name, 1).optional(),
    /** Include conversation-scoped memories of this conversation. */
    conversationId: uuidSchema.optional(),
    /** Restrict to these scopes (default: all visible ones). */
    scopes: z.array(ScopeSchema).min(1).optional(),
    kinds: z.array(KindSchema).min(1).max(50).optional(),
    limit: z.number().int().min(1).max(200).default(10),
    /**
     * With both an embedding and a query: run both searches and fuse their ranks (reciprocal
     * rank fusion), so an exact name the vectors miss still ranks. Scores are then RRF sums.
     */
    hybrid: z.boolean().default(false),
  })
  .refine((s) => s.embedding || s.query !== undefined, {
    path: ['query'],
    message: 'either embedding or query is required',
  });
export type MemorySearch = z.input<typeof SearchSchema>;

const memoryColumns = {
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

function vectorLiteral(values: number[]): string {
  return `[${values.join(',')}]`;
}

/**
 * Checks an embedding against the agent's fixed size and model, fixing them on first use.
 * The agent row is share-locked so a concurrent resetEmbeddings() waits for this write.
 */
async function ensureAgentEmbedding(
  tx: Tx,
  agentId: string,
  dimensions: number,
  model: string | undefined,
) {
  const [agent] = await tx
    .select({ dimensions: agents.embeddingDimensions, model: agents.embeddingModel })
    .from(agents)
    .where(eq(agents.id, agentId))
    .for('share');
  if (!agent) throw notFound('agent', agentId);
  let current = agent;
  if (current.dimensions === null) {
    const [updated] = await tx
      .update(agents)
      .set({
        embeddingDimensions: dimensions,
        embeddingModel: model ?? null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(agents.id, agentId), isNull(agents.embeddingDimensions)))
      .returning({ dimensions: agents.embeddingDimensions, model: agents.embeddingModel });
    current = updated ?? current;
  }
  checkEmbedding(agentId, current, dimensions, model);
}

function checkEmbedding(
  agentId: string,
  agent: { dimensions: number | null; model: string | null },
  dimensions: number,
  model: string | undefined,
) {
  if (agent.dimensions === null) return;
  const modelDiffers = model !== undefined && agent.model !== null && model !== agent.model;
  if (agent.dimensions !== dimensions || modelDiffers) {
    throw new EmbeddingMismatchError(
      agentId,
      { dimensions: agent.dimensions, model: agent.model },
      { dimensions, model: model ?? null },
    );
  }
}

/** Which memories a search may see: the agent's own, plus the user's and the conversation's. */
function visibility(search: {
  agentId: string;
  userId?: string;
  conversationId?: string;
  scopes?: MemoryScopeKind[];
}) {
  const allowed = new Set(search.scopes ?? ['agent', 'user', 'conversation']);
  const branches: SQL[] = [];
  if (allowed.has('agent')) branches.push(sql`m.scope = 'agent'`);
  if (allowed.has('user') && search.userId)
    branches.push(sql`(m.scope = 'user' and m.user_id = ${search.userId})`);
  if (allowed.has('conversation') && search.conversationId) {
    branches.push(sql`(m.scope = 'conversation' and m.conversation_id = ${search.conversationId})`);
  }
  if (branches.length === 0) return sql`false`;
  return sql`m.agent_id = ${search.agentId} and (${sql.join(branches, sql` or `)})`;
}

const selectMemory = sql`m.id, m.workspace_id, m.agent_id, m.scope, m.user_id, m.conversation_id, m.kind, m.content,
  m.embedding_dimensions, m.metadata, m.source, m.created_at, m.updated_at`;

interface MemoryRow {
  id: string;
  workspace_id: string;
  agent_id: string;
  scope: string;
  user_id: string | null;
  conversation_id: string | null;
  kind: string;
  content: string;
  embedding_dimensions: number | null;
  metadata: Record<string, unknown> | string;
  source: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  score: number | string;
}

function toHit(row: MemoryRow): MemoryHit {
  return {
    memory: {
      id: row.id,
      workspaceId: row.workspace_id,
      agentId: row.agent_id,
      scope: row.scope,
      userId: row.user_id,
      conversationId: row.conversation_id,
      kind: row.kind,
      content: row.content,
      embeddingDimensions: row.embedding_dimensions,
      metadata: typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata,
      source: row.source,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
    },
    score: Number(row.score),
  };
}

/**
 * Nearest memories by cosine distance. The cast and the size predicate repeat the partial
 * index definitions (drizzle/0001_security.sql) so the planner can use the HNSW index for
 * that size; other sizes are scanned exactly.
 */
export function vectorSearchQuery(
  filters: SQL | undefined,
  embedding: number[],
  limit: number,
): SQL {
  const d = embedding.length;
  const type = INDEXED_EMBEDDING_DIMENSIONS[d];
  const column = type ? sql.raw(`(m.embedding::${type}(${d}))`) : sql.raw('m.embedding');
  const probe = sql`${vectorLiteral(embedding)}::${sql.raw(type ? `${type}(${d})` : 'vector')}`;
  return sql`select ${selectMemory}, 1 - (${column} <=> ${probe}) as score
             from memories m
             where ${filters} and m.embedding_dimensions = ${sql.raw(String(d))}
             order by ${column} <=> ${probe}
             limit ${limit}`;
}

/** Memories matching any word of the query, best ts_rank_cd first. */
function fullTextQuery(filters: SQL | undefined, query: string, limit: number): SQL {
  // plainto_tsquery ANDs the words; recall wants any of them, ranked.
  return sql`select ${selectMemory}, ts_rank_cd(m.search_vector, q.q) as score
             from memories m,
                  (select nullif(replace(plainto_tsquery('english', ${query})::text, '&', '|'), '')::tsquery as q) q
             where ${filters} and q.q is not null and m.search_vector @@ q.q
             order by score desc, m.created_at desc, m.id
             limit ${limit}`;
}

/** The constant of reciprocal rank fusion (Cormack et al. 2009): damps the top ranks' weight. */
const RRF_K = 60;

/**
 * Reciprocal rank fusion: each row scores Σ 1/(RRF_K + rank) over the lists it is in, so
 * ranks, not the incomparable cosine and ts_rank scales, decide. Best first.
 */
export function fuseByRank<T extends { id: string; score: number | string }>(
  lists: T[][],
  limit: number,
): T[] {
  const fused = new Map<string, T>();
  for (const list of lists)
    list.forEach((row, rank) => {
      const add = 1 / (RRF_K + rank + 1);
      const seen = fused.get(row.id);
      fused.set(row.id, { ...(seen ?? row), score: Number(seen?.score ?? 0) + add });
    });
  return [...fused.values()].sort((a, b) => Number(b.score) - Number(a.score)).slice(0, limit);
}

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
    async list(
      options: {
        agentId?: string;
        scope?: MemoryScopeKind;
        userId?: string;
        conversationId?: string;
        kind?: string;
        limit?: number;
      } = {},
    ): Promise<Memory[]> {
      const value = parse(
        z.object({
          agentId: uuidSchema.optional(),
          scope: ScopeSchema.optional(),
          userId: text(LIMITS.name).optional(),
          conversationId: uuidSchema.optional(),
          kind: KindSchema.optional(),
          limit: limitSchema.default(100),
        }),
        options,
        'list options',
      );
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
    },

    /** Changes content, kind or metadata. New content without a new embedding clears the old one. */
    async update(
      memoryId: string,
      patch: {
        content?: string;
        kind?: string;
        metadata?: Record<string, unknown>;
        embedding?: number[];
        embeddingModel?: string;
      },
    ): Promise<Memory> {
      const id = parseId(memoryId, 'memory id');
      const value = parse(
        z.object({
          content: text(LIMITS.memoryContent, 1).optional(),
          kind: KindSchema.optional(),
          metadata: metadataSchema.optional(),
          embedding: EmbeddingSchema.optional(),
          embeddingModel: text(LIMITS.name, 1).optional(),
        }),
        patch,
        'memory patch',
      );
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
    },

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
    async resetEmbeddings(
      agentId: string,
      next: { dimensions: number; model?: string },
    ): Promise<number> {
      const id = parseId(agentId, 'agent id');
      const value = parse(
        z.object({
          dimensions: z.number().int().min(1).max(LIMITS.embeddingDimensions),
          model: text(LIMITS.name, 1).optional(),
        }),
        next,
        'embedding settings',
      );
      const [agent] = await ctx.tx
        .update(agents)
        .set({
          embeddingDimensions: value.dimensions,
          embeddingModel: value.model ?? null,
          updatedAt: sql`now()`,
        })
        .where(eq(agents.id, id))
        .returning({ id: agents.id });
      if (!agent) throw notFound('agent', id);
      const cleared = await ctx.tx
        .update(memories)
        .set({ embedding: null, embeddingDimensions: null, updatedAt: sql`now()` })
        .where(
          and(
            eq(memories.workspaceId, ctx.workspaceId),
            eq(memories.agentId, id),
            sql`${memories.embedding} is not null`,
          ),
        )
        .returning({ id: memories.id });
      return cleared.length;
    },

    /** Memories of the agent without an embedding, oldest first. */
    async listMissingEmbeddings(
      agentId: string,
      options: { limit?: number } = {},
    ): Promise<Memory[]> {
      const id = parseId(agentId, 'agent id');
      const limit = parse(limitSchema.default(100), options.limit, 'limit');
      return ctx.tx
        .select(memoryColumns)
        .from(memories)
        .where(
          and(
            eq(memories.workspaceId, ctx.workspaceId),
            eq(memories.agentId, id),
            isNull(memories.embedding),
          ),
        )
        .orderBy(asc(memories.createdAt), asc(memories.id))
        .limit(limit);
    },

    /**
     * Recalls memories: by cosine similarity when an embedding is given and the agent has
     * embeddings, else (or when no vector matches) by full-text search on `query`. Only the agent's memories the scope
     * allows are seen, and row-level security keeps every other workspace out.
     */
    async search(input: MemorySearch): Promise<MemorySearchResult> {
      const search = parse(SearchSchema, input, 'memory search');
      const [agent] = await ctx.tx
        .select({ dimensions: agents.embeddingDimensions, model: agents.embeddingModel })
        .from(agents)
        .where(eq(agents.id, search.agentId));
      if (!agent) throw notFound('agent', search.agentId);
      const filters = and(
        sql`m.workspace_id = ${ctx.workspaceId}`,
        visibility(search),
        search.kinds ? sql`m.kind in ${search.kinds}` : undefined,
      );

      const words = (limit: number) =>
        search.query === undefined
          ? Promise.resolve([])
          : queryRows<MemoryRow>(ctx.tx, fullTextQuery(filters, search.query, limit));
      if (search.embedding && agent.dimensions === null && search.query !== undefined)
        return {
          method: 'fulltext',
          hits: (await words(search.limit)).map(toHit),
          reason: 'no memory of this agent has an embedding yet',
        };
      if (search.embedding) {
        checkEmbedding(search.agentId, agent, search.embedding.length, search.embeddingModel);
        // With RLS and scope filters, HNSW would otherwise stop after ef_search candidates,
        // most of them filtered out (pgvector ≥ 0.8 "iterative index scans").
        await ctx.tx.execute(sql`select set_config('hnsw.iterative_scan', 'strict_order', true)`);
        const pool = search.hybrid ? search.limit * 2 : search.limit;
        const rows = await queryRows<MemoryRow>(
          ctx.tx,
          vectorSearchQuery(filters, search.embedding, pool),
        );
        if (search.hybrid && search.query !== undefined) {
          // One after the other: a transaction runs one statement at a time anyway.
          const text = await words(pool);
          return { method: 'hybrid', hits: fuseByRank([rows, text], search.limit).map(toHit) };
        }
        // No vector matched (e.g. embeddings are being re-computed after a model change):
        // fall through to the words, when there are any.
        if (rows.length > 0 || search.query === undefined)
          return { method: 'vector', hits: rows.map(toHit) };
      }

      if (search.query === undefined) return { method: 'vector', hits: [] };
      return { method: 'fulltext', hits: (await words(search.limit)).map(toHit) };
    },
  };
  return repo;
}
