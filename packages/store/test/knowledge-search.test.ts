import { type SQL, sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { vectorQuery, wordsQuery } from '../src/repositories/knowledge.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Knowledge retrieval that stays fast as a base grows (docs/performance.md, "Knowledge"): the
 * plans may use the indexes (the vector query's cast and predicate match a partial HNSW index;
 * full-text matching may use the GIN index under row-level security), the planner has
 * statistics on PGlite, which runs no autovacuum, and a base searched by several embedding
 * models compares each base only with the vector of its own model.
 */

const D = 384;

/** A deterministic pseudo-random unit vector. */
function vec(seed: number, dimensions = D): number[] {
  let x = seed * 2_654_435_761 + 1;
  const v = Array.from({ length: dimensions }, () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648 - 0.5;
  });
  const norm = Math.hypot(...v);
  return v.map((c) => Math.round((c / norm) * 1e6) / 1e6);
}

const hash = (n: number) => n.toString(16).padStart(64, '0');

describeEachEngine('knowledge search', (h, engine) => {
  let ws = '';
  let baseId = '';
  const chunks = (count: number, from = 0, withVectors = true) =>
    Array.from({ length: count }, (_, i) => ({
      position: i,
      heading: `Part ${(from + i) % 7}`,
      content: `Note ${from + i} on topic${(from + i) % 13}, filed under item${from + i}.`,
      ...(withVectors ? { embedding: vec(from + i) } : {}),
    }));

  beforeAll(async () => {
    ws = (await seedWorkspace(h().store, 'kb-search')).workspaceId;
    baseId = await h().store.withWorkspace(ws, async (w) => {
      const base = await w.knowledge.createBase({ name: 'notes' });
      await w.knowledge.putDocument(base.id, {
        name: 'notes.md',
        mediaType: 'text/markdown',
        contentHash: hash(1),
        bytes: 1,
        embeddingModel: 'test/vectors',
        chunks: chunks(120),
      });
      return base.id;
    });
  });

  /** The plan of `query` as the runtime role in the workspace, after `settings`. */
  const planOf = (query: SQL, settings: string[]) =>
    h().internals.scoped(ws, async (tx) => {
      for (const setting of settings) await tx.execute(sql.raw(`set local ${setting}`));
      await tx.execute(sql`select set_config('hnsw.iterative_scan', 'strict_order', true)`);
      const rows = (await tx.execute(sql`explain ${query}`)) as unknown as {
        rows: { 'QUERY PLAN': string }[];
      };
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    });

  it('orders by distance through the partial HNSW index of the vectors’ size', async () => {
    const inBase = sql`c.workspace_id = ${ws} and c.base_id in ${[baseId]}`;
    // A plan without the index must sort every chunk by distance: forbidding sorts leaves
    // only a query whose cast and predicate match the partial index a plan without one.
    const plan = await planOf(vectorQuery(inBase, vec(7), 10), [
      'enable_seqscan = off',
      'enable_bitmapscan = off',
      'enable_sort = off',
    ]);
    expect(plan).toContain('knowledge_chunks_embedding_384_hnsw');
  });

  it('matches words through the GIN index despite row-level security', async () => {
    // Under RLS a condition whose function is not LEAKPROOF is evaluated after the policy, so
    // it can never be an index condition: migrate() declares tsvector @@ tsquery leakproof.
    const [fn] = await h().admin<{ leakproof: boolean }>(
      `select proleakproof as leakproof from pg_proc
        where oid = 'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure`,
    );
    expect(fn?.leakproof).toBe(true);
    const plan = await planOf(
      sql`select id from knowledge_chunks c where c.search_vector @@ to_tsquery('english', 'topic5')`,
      ['enable_seqscan = off'],
    );
    expect(plan).toContain('knowledge_chunks_search_vector_idx');
    const [gin] = await h().admin<{ options: string[] | null }>(
      `select reloptions as options from pg_class where relname = 'knowledge_chunks_search_vector_idx'`,
    );
    expect(gin?.options).toContain('fastupdate=off');
  });

  it('finds a chunk by its words with the query the runs make', async () => {
    const hits = await h().store.withWorkspace(ws, (w) =>
      w.knowledge.search({ baseIds: [baseId], query: 'item42', limit: 3 }),
    );
    expect(hits.method).toBe('fulltext');
    expect(hits.chunks[0]?.text).toContain('item42.');
    const plan = await planOf(
      wordsQuery(sql`c.workspace_id = ${ws} and c.base_id in ${[baseId]}`, 'item42', 10),
      [],
    );
    expect(plan).toMatch(/Limit/);
  });

  if (engine === 'pglite')
    it('analyzes chunks and memories as they grow (PGlite runs no autovacuum)', async () => {
      const [chunkStats] = await h().admin<{ rows: number }>(
        `select reltuples::float8 as rows from pg_class where relname = 'knowledge_chunks'`,
      );
      // The 120 chunks of beforeAll (and any other test's), not "never analyzed" (-1).
      expect(Number(chunkStats?.rows)).toBeGreaterThanOrEqual(120);

      const agentId = await h().store.withWorkspace(ws, async (w) => {
        const agent = await w.agents.create({ name: 'grower' });
        return agent.id;
      });
      for (let i = 0; i < 60; i++)
        await h().store.withWorkspace(ws, (w) =>
          w.memories.add({ agentId, scope: 'agent', kind: 'fact', content: `fact ${i}` }),
        );
      const [memoryStats] = await h().admin<{ rows: number }>(
        `select reltuples::float8 as rows from pg_class where relname = 'memories'`,
      );
      expect(Number(memoryStats?.rows)).toBeGreaterThan(50);
    });

  it('searches each base with the vector of its own model and fuses the lists', async () => {
    const { shared, own } = await h().store.withWorkspace(ws, async (w) => {
      const shared = await w.knowledge.createBase({
        name: 'shared',
        embeddingModelRef: { provider: 'openai', model: 'wide', dimensions: 8 },
      });
      await w.knowledge.putDocument(shared.id, {
        name: 'shared.md',
        mediaType: 'text/markdown',
        contentHash: hash(2),
        bytes: 1,
        embeddingModel: 'openai/wide@8',
        chunks: [
          { position: 0, content: 'The shared handbook on gardening.', embedding: vec(1, 8) },
          { position: 1, content: 'The shared handbook on sailing.', embedding: vec(2, 8) },
        ],
      });
      return { shared: shared.id, own: baseId };
    });
    const found = await h().store.withWorkspace(ws, (w) =>
      w.knowledge.search({
        baseIds: [own, shared],
        query: 'zzz',
        embeddings: [
          { model: 'test/vectors', vector: vec(5) },
          { model: 'openai/wide@8', vector: vec(2, 8) },
        ],
        limit: 2,
      }),
    );
    expect(found.method).toBe('hybrid');
    // The best of each list ties at the top: the own base's nearest and the shared one's.
    expect(found.chunks.map((c) => c.text).sort()).toEqual([
      'Note 5 on topic5, filed under item5.',
      'The shared handbook on sailing.',
    ]);

    // Another model for the shared base: its vectors go (found by words until re-embedded),
    // the others' stay; re-embedded chunks take the new model.
    const moved = await h().store.withWorkspace(ws, (w) =>
      w.knowledge.setEmbeddingModelRef(
        shared,
        { provider: 'openai', model: 'narrow' },
        'openai/narrow',
      ),
    );
    expect(moved.embeddingModel).toBeNull();
    expect(moved.embeddingModelRef).toEqual({ provider: 'openai', model: 'narrow' });
    const waiting = await h().store.withWorkspace(ws, (w) =>
      w.knowledge.listChunksWithoutEmbedding(shared),
    );
    expect(waiting).toHaveLength(2);
    await h().store.withWorkspace(ws, (w) =>
      w.knowledge.setChunkEmbeddings(
        shared,
        'openai/narrow',
        waiting.map((c, i) => ({ chunkId: c.id, embedding: vec(10 + i, 4) })),
      ),
    );
    const after = await h().store.withWorkspace(ws, async (w) => ({
      base: await w.knowledge.getBase(shared),
      waiting: await w.knowledge.listChunksWithoutEmbedding(shared),
      own: await w.knowledge.listChunksWithoutEmbedding(own),
    }));
    expect(after.base?.embeddingModel).toBe('openai/narrow');
    expect(after.base?.embeddingDimensions).toBe(4);
    expect(after.waiting).toEqual([]);
    expect(after.own).toEqual([]);
    // Vectors of yet another model are refused, not mixed in.
    const mixed = await h()
      .store.withWorkspace(ws, (w) =>
        w.knowledge.setChunkEmbeddings(shared, 'openai/other', [
          { chunkId: waiting[0]!.id, embedding: vec(1, 4) },
        ]),
      )
      .catch((e: unknown) => e);
    expect((mixed as { code?: string }).code).toBe('store.embedding_model_mismatch');
  });
});
