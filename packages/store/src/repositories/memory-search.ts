import { and, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
import { agents } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { LIMITS, parse, text, uuidSchema } from '../validation.ts';
import { notFound } from './common.ts';
import { checkEmbedding, vectorLiteral } from './memory-embeddings.ts';
import {
  EmbeddingSchema,
  INDEXED_EMBEDDING_DIMENSIONS,
  KindSchema,
  type MemoryHit,
  type MemoryScopeKind,
  type MemorySearchResult,
  ScopeSchema,
} from './memory-shapes.ts';

/*
 * Recall: an agent's memories by vector (cosine), by words (full text) or both fused by rank,
 * only those its scope may see.
 */

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

/**
 * Recalls memories: by cosine similarity when an embedding is given and the agent has
 * embeddings, else (or when no vector matches) by full-text search on `query`. Only the agent's memories the scope
 * allows are seen, and row-level security keeps every other workspace out.
 */
export async function searchMemories(
  ctx: ScopeContext,
  input: MemorySearch,
): Promise<MemorySearchResult> {
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
}
