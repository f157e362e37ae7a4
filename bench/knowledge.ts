import { openStore, type Store } from '@parley/store';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { fmt, percentiles, table } from './lib.ts';
import type { Context, ScenarioResult } from './scenarios.ts';

/*
 * Knowledge bases (issue #24): how fast chunks go in (batched INSERTs of 500 rows with
 * 384-dimension vectors, the size of small embedding models, which has an HNSW index) and how
 * long a hybrid retrieval takes (a vector search and a full-text search fused by rank, the
 * query a run makes) at 10,000 chunks, and 100,000 in the full run, on PGlite and PostgreSQL.
 * In process, on the store: the embedding call is the provider's cost, not Parley's.
 */

const DIMENSIONS = 384;
const DOCUMENT_CHUNKS = 5_000;

/** A deterministic unit vector per index (a cheap PRNG), so runs compare. */
function vectorOf(seed: number): number[] {
  let x = seed * 2654435761 + 1;
  const v = Array.from({ length: DIMENSIONS }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648 - 0.5;
  });
  const norm = Math.hypot(...v);
  return v.map((n) => n / norm);
}

async function openEngine(engine: 'PGlite' | 'PostgreSQL') {
  const masterKey = Buffer.alloc(32, 3).toString('base64');
  let database: TestDatabase | undefined;
  let store: Store;
  if (engine === 'PostgreSQL') {
    database = await createTestDatabase('benchkb');
    store = await openStore({
      url: database.runtimeUrl,
      migrationUrl: database.adminUrl,
      masterKey,
      onBackgroundError: () => {},
    });
  } else store = await openStore({ memory: true, masterKey });
  await store.migrate();
  const { workspaceId } = (await store.system.workspaces.ensureLocalOwner()).workspace;
  return {
    store,
    workspaceId,
    close: async () => {
      await store.close();
      await database?.drop();
    },
  };
}

export async function knowledgeBench(
  ctx: Context,
  engine: 'PGlite' | 'PostgreSQL',
): Promise<ScenarioResult> {
  const sizes = ctx.quick ? [10_000] : [10_000, 100_000];
  const { store, workspaceId, close } = await openEngine(engine);
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  try {
    const base = await store.withWorkspace(workspaceId, (ws) =>
      ws.knowledge.createBase({ name: `bench-${engine}` }),
    );
    let stored = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      for (let doc = stored / DOCUMENT_CHUNKS; stored < size; doc++) {
        const chunks = Array.from({ length: DOCUMENT_CHUNKS }, (_, i) => {
          const n = stored + i;
          return {
            position: i,
            heading: `Section ${n % 50}`,
            content: `Chunk ${n} is about topic${n % 97} and item${n}, with words to rank.`,
            embedding: vectorOf(n),
          };
        });
        await store.withWorkspace(workspaceId, (ws) =>
          ws.knowledge.putDocument(base.id, {
            name: `doc-${doc}.md`,
            mediaType: 'text/markdown',
            contentHash: doc.toString(16).padStart(64, '0'),
            bytes: 0,
            embeddingModel: 'bench/vectors',
            chunks,
          }),
        );
        stored += DOCUMENT_CHUNKS;
      }
      const ingestS = (performance.now() - t0) / 1000;
      const perSecond = (size - (rows.length ? sizes[rows.length - 1]! : 0)) / ingestS;
      const latencies: number[] = [];
      for (let q = 0; q < (ctx.quick ? 50 : 200); q++) {
        const n = (q * 7919) % size;
        const t = performance.now();
        await store.withWorkspace(workspaceId, (ws) =>
          ws.knowledge.search({
            baseIds: [base.id],
            query: `item${n} topic${n % 97}`,
            embedding: vectorOf(n),
            embeddingModel: 'bench/vectors',
            limit: 5,
          }),
        );
        latencies.push(performance.now() - t);
      }
      const p = percentiles(latencies);
      data[`c${size}`] = { chunksPerSecond: perSecond, retrieval: p };
      rows.push([size.toLocaleString('en'), fmt(perSecond), `${fmt(p.p50)} / ${fmt(p.p99)}`]);
    }
  } finally {
    await close();
  }
  return {
    id: `knowledge-${engine.toLowerCase()}`,
    title: `Knowledge: ingestion and hybrid retrieval (${engine}, ${DIMENSIONS}-dimension vectors)`,
    markdown: table(
      ['chunks in the base', 'ingestion (chunks/s)', 'retrieval p50 / p99 (ms)'],
      rows,
    ),
    data,
  };
}
