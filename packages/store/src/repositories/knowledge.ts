import { and, asc, eq, inArray, isNotNull, isNull, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
import { StoreError } from '../errors.ts';
import { knowledgeBases, knowledgeChunks, knowledgeDocuments } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { LIMITS, metadataSchema, parse, parseId, text, uuidSchema } from '../validation.ts';
import { notFound } from './common.ts';
import { fuseByRank, INDEXED_EMBEDDING_DIMENSIONS } from './memories.ts';

export type KnowledgeBase = typeof knowledgeBases.$inferSelect;
export type KnowledgeDocument = typeof knowledgeDocuments.$inferSelect;

export interface KnowledgeChunkHit {
  chunkId: string;
  baseId: string;
  documentId: string;
  /** The document's name (its path or title): the source a citation names. */
  document: string;
  position: number;
  heading: string | null;
  text: string;
  /** Cosine similarity, ts_rank_cd, or the fused reciprocal-rank score (hybrid). */
  score: number;
}

/** Rows per INSERT: a 10,000-chunk document is 20 statements, not 10,000. */
const INSERT_BATCH = 500;

const EmbeddingModelRefSchema = z.strictObject({
  provider: text(LIMITS.name, 1),
  model: text(LIMITS.name, 1),
  baseURL: z.url().max(2_000).optional(),
  apiKeySecret: text(LIMITS.name, 1).optional(),
  dimensions: z.number().int().min(1).max(LIMITS.embeddingDimensions).optional(),
});

const NewBaseSchema = z.object({
  name: text(LIMITS.name, 1),
  agentId: uuidSchema.optional(),
  embeddingModelRef: EmbeddingModelRefSchema.optional(),
  description: text(LIMITS.shortText).optional(),
  chunkSize: z.number().int().min(100).max(20_000).optional(),
  chunkOverlap: z.number().int().min(0).max(19_999).optional(),
});

const ChunkSchema = z.object({
  position: z.number().int().min(0),
  heading: text(LIMITS.shortText).nullable().optional(),
  content: text(LIMITS.memoryContent, 1),
  embedding: z.array(z.number().refine(Number.isFinite)).min(1).optional(),
});

const NewDocumentSchema = z.object({
  name: text(LIMITS.name * 5, 1),
  mediaType: z.enum(['text/plain', 'text/markdown', 'text/html', 'application/pdf']),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
  metadata: metadataSchema.optional(),
  /** The vector space of the chunks' embeddings (`provider/model[@size]`). */
  embeddingModel: text(LIMITS.name, 1).optional(),
  chunks: z
    .array(ChunkSchema)
    .max(200_000)
    .refine((chunks) => new Set(chunks.map((c) => c.embedding?.length ?? -1)).size <= 1, {
      message: 'every chunk needs an embedding of the same size, or none has one',
    }),
});

const VectorSchema = z.array(z.number().refine(Number.isFinite)).min(1);

const SearchSchema = z.object({
  baseIds: z.array(uuidSchema).max(50),
  query: text(LIMITS.shortText),
  embedding: VectorSchema.optional(),
  embeddingModel: text(LIMITS.name, 1).optional(),
  /**
   * The query embedded by several models, for bases of different models (a shared base with
   * its own): each base is searched with the vector of its model, and every list fused.
   */
  embeddings: z
    .array(z.object({ model: text(LIMITS.name, 1), vector: VectorSchema }))
    .max(10)
    .optional(),
  limit: z.number().int().min(1).max(50).default(5),
});

interface ChunkRow {
  id: string;
  base_id: string;
  document_id: string;
  document: string;
  position: number;
  heading: string | null;
  content: string;
  score: number | string;
}

const selectChunk = sql`c.id, c.base_id, c.document_id, d.name as document, c.position, c.heading, c.content`;

function toHit(row: ChunkRow): KnowledgeChunkHit {
  return {
    chunkId: row.id,
    baseId: row.base_id,
    documentId: row.document_id,
    document: row.document,
    position: Number(row.position),
    heading: row.heading,
    text: row.content,
    score: Number(row.score),
  };
}

/** Nearest chunks by cosine distance, using the partial HNSW index of that size if any. */
export function vectorQuery(filters: SQL, embedding: number[], limit: number): SQL {
  const d = embedding.length;
  const type = INDEXED_EMBEDDING_DIMENSIONS[d];
  const column = type ? sql.raw(`(c.embedding::${type}(${d}))`) : sql.raw('c.embedding');
  const probe = sql`${`[${embedding.join(',')}]`}::${sql.raw(type ? `${type}(${d})` : 'vector')}`;
  return sql`select ${selectChunk}, 1 - (${column} <=> ${probe}) as score
             from knowledge_chunks c join knowledge_documents d on d.id = c.document_id
             where ${filters} and c.embedding_dimensions = ${sql.raw(String(d))}
             order by ${column} <=> ${probe}
             limit ${limit}`;
}

export function wordsQuery(filters: SQL, query: string, limit: number): SQL {
  // Any word of the query, ranked (plainto_tsquery would AND them).
  return sql`select ${selectChunk}, ts_rank_cd(c.search_vector, q.q) as score
             from knowledge_chunks c join knowledge_documents d on d.id = c.document_id,
                  (select nullif(replace(plainto_tsquery('english', ${query})::text, '&', '|'), '')::tsquery as q) q
             where ${filters} and q.q is not null and c.search_vector @@ q.q
             order by score desc, c.position
             limit ${limit}`;
}

export function knowledgeRepository(ctx: ScopeContext) {
  const { tx, workspaceId } = ctx;
  const clearVectors = async (baseId: string) => {
    const rows = await tx
      .update(knowledgeChunks)
      .set({ embedding: null, embeddingDimensions: null })
      .where(
        and(
          eq(knowledgeChunks.workspaceId, workspaceId),
          eq(knowledgeChunks.baseId, baseId),
          isNotNull(knowledgeChunks.embedding),
        ),
      )
      .returning({ id: knowledgeChunks.id });
    ctx.noteWrites('knowledge_chunks', rows.length);
  };
  const baseOr404 = async (baseId: string) => {
    const [base] = await tx.select().from(knowledgeBases).where(eq(knowledgeBases.id, baseId));
    if (!base) throw notFound('knowledge base', baseId);
    return base;
  };

  return {
    async createBase(input: z.input<typeof NewBaseSchema>): Promise<KnowledgeBase> {
      const value = parse(NewBaseSchema, input, 'knowledge base');
      const [row] = await tx
        .insert(knowledgeBases)
        .values({ workspaceId, ...value })
        .returning();
      return row!;
    },

    async getBase(baseId: string): Promise<KnowledgeBase | null> {
      const id = parseId(baseId, 'knowledge base id');
      const [row] = await tx.select().from(knowledgeBases).where(eq(knowledgeBases.id, id));
      return row ?? null;
    },

    async getBaseByName(name: string): Promise<KnowledgeBase | null> {
      const [row] = await tx
        .select()
        .from(knowledgeBases)
        .where(and(eq(knowledgeBases.workspaceId, workspaceId), eq(knowledgeBases.name, name)));
      return row ?? null;
    },

    async listBases(): Promise<KnowledgeBase[]> {
      return tx
        .select()
        .from(knowledgeBases)
        .where(eq(knowledgeBases.workspaceId, workspaceId))
        .orderBy(asc(knowledgeBases.name));
    },

    /** The bases an agent's runs retrieve from: its own, and the ones its definition names. */
    async listBasesForAgent(agentId: string, names: string[] = []): Promise<KnowledgeBase[]> {
      const id = parseId(agentId, 'agent id');
      return tx
        .select()
        .from(knowledgeBases)
        .where(
          and(
            eq(knowledgeBases.workspaceId, workspaceId),
            or(
              eq(knowledgeBases.agentId, id),
              names.length ? inArray(knowledgeBases.name, names) : undefined,
            ),
          ),
        )
        .orderBy(asc(knowledgeBases.name));
    },

    /**
     * Sets the model a base embeds with. Another vector space than its chunks' clears their
     * vectors (found by their words until re-embedded, `setChunkEmbeddings`), so no search
     * compares two models.
     */
    async setEmbeddingModelRef(
      baseId: string,
      input: z.input<typeof EmbeddingModelRefSchema> | null,
      modelId: string | null,
    ): Promise<KnowledgeBase> {
      const id = parseId(baseId, 'knowledge base id');
      const ref = input === null ? null : parse(EmbeddingModelRefSchema, input, 'embedding model');
      const base = await baseOr404(id);
      const cleared = base.embeddingModel !== null && base.embeddingModel !== modelId;
      if (cleared) await clearVectors(id);
      const [row] = await tx
        .update(knowledgeBases)
        .set({
          embeddingModelRef: ref,
          ...(cleared ? { embeddingModel: null, embeddingDimensions: null } : {}),
          updatedAt: sql`now()`,
        })
        .where(eq(knowledgeBases.id, id))
        .returning();
      return row!;
    },

    /**
     * Stores re-embedded chunks' vectors, all of one model; the base takes that model when it
     * has none yet (its vectors were cleared). Chunks of another base are left alone.
     */
    async setChunkEmbeddings(
      baseId: string,
      modelId: string,
      vectors: { chunkId: string; embedding: number[] }[],
    ): Promise<number> {
      const id = parseId(baseId, 'knowledge base id');
      const base = await baseOr404(id);
      const dimensions = vectors[0]?.embedding.length;
      if (dimensions === undefined) return 0;
      if (vectors.some((v) => v.embedding.length !== dimensions))
        throw new StoreError('store.invalid_input', 'Every vector must have the same size.');
      if (base.embeddingModel === null)
        await tx
          .update(knowledgeBases)
          .set({ embeddingModel: modelId, embeddingDimensions: dimensions, updatedAt: sql`now()` })
          .where(eq(knowledgeBases.id, id));
      else if (base.embeddingModel !== modelId || base.embeddingDimensions !== dimensions)
        throw new StoreError(
          'store.embedding_model_mismatch',
          `The base holds vectors of ${base.embeddingModel}, not ${modelId}.`,
        );
      let updated = 0;
      for (const { chunkId, embedding } of vectors) {
        const rows = await tx
          .update(knowledgeChunks)
          .set({ embedding, embeddingDimensions: dimensions })
          .where(
            and(
              eq(knowledgeChunks.id, parseId(chunkId, 'chunk id')),
              eq(knowledgeChunks.baseId, id),
            ),
          )
          .returning({ id: knowledgeChunks.id });
        updated += rows.length;
      }
      ctx.noteWrites('knowledge_chunks', updated);
      return updated;
    },

    async deleteBase(baseId: string): Promise<void> {
      const id = parseId(baseId, 'knowledge base id');
      const rows = await tx
        .delete(knowledgeBases)
        .where(eq(knowledgeBases.id, id))
        .returning({ id: knowledgeBases.id });
      if (rows.length === 0) throw notFound('knowledge base', id);
    },

    async listDocuments(baseId: string): Promise<KnowledgeDocument[]> {
      const id = parseId(baseId, 'knowledge base id');
      return tx
        .select()
        .from(knowledgeDocuments)
        .where(
          and(eq(knowledgeDocuments.workspaceId, workspaceId), eq(knowledgeDocuments.baseId, id)),
        )
        .orderBy(asc(knowledgeDocuments.name));
    },

    async getDocument(documentId: string): Promise<KnowledgeDocument | null> {
      const id = parseId(documentId, 'document id');
      const [row] = await tx.select().from(knowledgeDocuments).where(eq(knowledgeDocuments.id, id));
      return row ?? null;
    },

    /**
     * Adds a document, or replaces the one of that name: same bytes change nothing (`changed:
     * false`); new bytes replace every chunk and bump the version. Chunks embedded by another
     * model than the base's move the base to that model: the other documents' vectors are
     * cleared (they are found by their words until re-added), so no search mixes two models.
     */
    async putDocument(
      baseId: string,
      input: z.input<typeof NewDocumentSchema>,
    ): Promise<{ document: KnowledgeDocument; changed: boolean }> {
      const id = parseId(baseId, 'knowledge base id');
      const value = parse(NewDocumentSchema, input, 'document');
      const base = await baseOr404(id);
      const [existing] = await tx
        .select()
        .from(knowledgeDocuments)
        .where(
          and(
            eq(knowledgeDocuments.workspaceId, workspaceId),
            eq(knowledgeDocuments.baseId, id),
            eq(knowledgeDocuments.name, value.name),
          ),
        )
        .for('update');
      if (existing && existing.contentHash === value.contentHash)
        return { document: existing, changed: false };

      const dimensions = value.chunks.find((c) => c.embedding)?.embedding?.length;
      if (dimensions !== undefined) {
        const model = value.embeddingModel ?? null;
        if (base.embeddingDimensions !== dimensions || base.embeddingModel !== model) {
          await clearVectors(id);
          await tx
            .update(knowledgeBases)
            .set({ embeddingDimensions: dimensions, embeddingModel: model, updatedAt: sql`now()` })
            .where(eq(knowledgeBases.id, id));
        }
      }

      const fields = {
        mediaType: value.mediaType,
        contentHash: value.contentHash,
        bytes: value.bytes,
        chunkCount: value.chunks.length,
        metadata: (value.metadata ?? {}) as Record<string, unknown>,
      };
      let document: KnowledgeDocument;
      ctx.noteWrites('knowledge_chunks', value.chunks.length + (existing?.chunkCount ?? 0));
      if (existing) {
        await tx.delete(knowledgeChunks).where(eq(knowledgeChunks.documentId, existing.id));
        [document] = (await tx
          .update(knowledgeDocuments)
          .set({ ...fields, version: existing.version + 1, updatedAt: sql`now()` })
          .where(eq(knowledgeDocuments.id, existing.id))
          .returning()) as [KnowledgeDocument];
      } else {
        [document] = (await tx
          .insert(knowledgeDocuments)
          .values({ workspaceId, baseId: id, name: value.name, ...fields })
          .returning()) as [KnowledgeDocument];
      }
      for (let start = 0; start < value.chunks.length; start += INSERT_BATCH) {
        await tx.insert(knowledgeChunks).values(
          value.chunks.slice(start, start + INSERT_BATCH).map((chunk) => ({
            workspaceId,
            baseId: id,
            documentId: document.id,
            position: chunk.position,
            heading: chunk.heading ?? null,
            content: chunk.content,
            embedding: chunk.embedding ?? null,
            embeddingDimensions: chunk.embedding?.length ?? null,
          })),
        );
      }
      return { document, changed: true };
    },

    async deleteDocument(documentId: string): Promise<void> {
      const id = parseId(documentId, 'document id');
      const rows = await tx
        .delete(knowledgeDocuments)
        .where(eq(knowledgeDocuments.id, id))
        .returning({ id: knowledgeDocuments.id, chunks: knowledgeDocuments.chunkCount });
      if (rows.length === 0) throw notFound('document', id);
      ctx.noteWrites('knowledge_chunks', rows[0]!.chunks);
    },

    /** Chunks still without a vector, for re-embedding a base after a model change. */
    async listChunksWithoutEmbedding(baseId: string, limit = 100) {
      const id = parseId(baseId, 'knowledge base id');
      return tx
        .select({
          id: knowledgeChunks.id,
          heading: knowledgeChunks.heading,
          content: knowledgeChunks.content,
        })
        .from(knowledgeChunks)
        .where(
          and(
            eq(knowledgeChunks.workspaceId, workspaceId),
            eq(knowledgeChunks.baseId, id),
            isNull(knowledgeChunks.embedding),
          ),
        )
        .limit(limit);
    },

    /**
     * The best chunks of the given bases for a query: vector and full-text ranks fused
     * (hybrid) when an embedding of the bases' model is given, else by words. Row-level
     * security keeps every other workspace's chunks out whatever ids are passed.
     */
    async search(input: z.input<typeof SearchSchema>): Promise<{
      method: 'vector' | 'hybrid' | 'fulltext';
      reason?: string;
      chunks: KnowledgeChunkHit[];
    }> {
      const search = parse(SearchSchema, input, 'knowledge search');
      if (search.baseIds.length === 0) return { method: 'fulltext', chunks: [] };
      const inBases = sql`c.workspace_id = ${workspaceId} and c.base_id in ${search.baseIds}`;
      const pool = search.limit * 2;
      const probes = [
        ...(search.embedding ? [{ model: search.embeddingModel, vector: search.embedding }] : []),
        ...(search.embeddings ?? []),
      ];
      if (probes.length === 0) {
        const words = await queryRows<ChunkRow>(tx, wordsQuery(inBases, search.query, pool));
        return { method: 'fulltext', chunks: words.slice(0, search.limit).map(toHit) };
      }
      // Each base is searched by the vector of its own model only. The same statement turns on
      // pgvector's iterative scan for this transaction: with RLS and the base filter, HNSW
      // would otherwise stop after ef_search candidates, most of them filtered out. Every
      // round trip counts on PGlite (a message to its worker thread), so there are two.
      const bases = await queryRows<{
        id: string;
        model: string | null;
        dimensions: number | null;
      }>(
        tx,
        sql`select b.id, b.embedding_model as model, b.embedding_dimensions as dimensions,
                   set_config('hnsw.iterative_scan', 'strict_order', true) as iterative
              from knowledge_bases b where b.id in ${search.baseIds}`,
      );
      const parts: SQL[] = [
        sql`(select 0 as list, w.* from (${wordsQuery(inBases, search.query, pool)}) w)`,
      ];
      for (const probe of probes) {
        const ids = bases
          .filter((b) => Number(b.dimensions) === probe.vector.length)
          .filter((b) => probe.model === undefined || b.model === probe.model)
          .map((b) => b.id);
        if (ids.length === 0) continue;
        const inTheseBases = sql`c.workspace_id = ${workspaceId} and c.base_id in ${ids}`;
        const list = sql.raw(String(parts.length));
        parts.push(
          sql`(select ${list} as list, v.* from (${vectorQuery(inTheseBases, probe.vector, pool)}) v)`,
        );
      }
      // One statement for every list: words first (list 0), then one per model.
      const rows = await queryRows<ChunkRow & { list: number }>(
        tx,
        sql.join(parts, sql` union all `),
      );
      // Each list best first (a UNION promises no order; sort is stable for the ties).
      const [words = [], ...vectors] = parts.map((_, n) =>
        rows
          .filter((row) => Number(row.list) === n)
          .sort((a, b) => Number(b.score) - Number(a.score)),
      );
      if (parts.length === 1)
        return {
          method: 'fulltext',
          reason: 'no knowledge base holds vectors of this embedding model',
          chunks: words.slice(0, search.limit).map(toHit),
        };
      return {
        method: 'hybrid',
        chunks: fuseByRank([...vectors, words], search.limit).map(toHit),
      };
    },
  };
}
