import { loadavg } from 'node:os';
import { openStore, type Store } from '@parley/store';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { fmt, percentiles, type ServerProcess, startServer, table, timeStream } from './lib.ts';
import { type Context, postgresServer, type ScenarioResult } from './scenarios.ts';
import { isParleyText, parleyRun, standInBase } from './setup.ts';

/*
 * Knowledge bases (issue #24): how fast chunks go in (batched INSERTs of 500 rows with
 * 384-dimension vectors, the size of small embedding models, which has an HNSW index) and how
 * long a retrieval takes (hybrid: a vector search and a full-text search fused by rank, the
 * query a run makes; and by words alone) at 10,000 chunks, and 100,000 in the full run, on
 * PGlite and PostgreSQL. In process, on the store: the embedding call is the provider's cost,
 * not Parley's. Then what retrieval adds to a run's time to first token, through the server.
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
    /**
     * PostgreSQL: what autovacuum does within a minute of a large write (ANALYZE; the store
     * does it itself on PGlite). A server with autovacuum off, as some test machines run,
     * would otherwise plan a 100,000-chunk base without statistics.
     */
    settle: async () => {
      if (!database) return;
      const pg = (await import('pg')).default;
      const admin = new pg.Client({ connectionString: database.adminUrl });
      await admin.connect();
      try {
        await admin.query('analyze knowledge_chunks');
      } finally {
        await admin.end();
      }
    },
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
  const { store, workspaceId, settle, close } = await openEngine(engine);
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
      await settle();
      const perSecond = (size - (rows.length ? sizes[rows.length - 1]! : 0)) / ingestS;
      const search = async (q: number, withVector: boolean) => {
        const n = (q * 7919) % size;
        const t = performance.now();
        await store.withWorkspace(workspaceId, (ws) =>
          ws.knowledge.search({
            baseIds: [base.id],
            query: `item${n} topic${n % 97}`,
            ...(withVector ? { embedding: vectorOf(n), embeddingModel: 'bench/vectors' } : {}),
            limit: 5,
          }),
        );
        return performance.now() - t;
      };
      const queries = ctx.quick ? 50 : 200;
      for (let q = 0; q < 5; q++) await search(q + 1_000, true); // warm-up, not counted
      const hybrid: number[] = [];
      const words: number[] = [];
      // CPU time of this process (PGlite: the database's worker thread included) per hybrid
      // retrieval: what the wall times mean on a machine shared with other work.
      let cpuMicros = 0;
      for (let q = 0; q < queries; q++) {
        const cpu = process.cpuUsage();
        hybrid.push(await search(q, true));
        const used = process.cpuUsage(cpu);
        cpuMicros += used.user + used.system;
        words.push(await search(q, false));
      }
      const p = percentiles(hybrid);
      const w = percentiles(words);
      const cpuMs = cpuMicros / 1000 / queries;
      data[`c${size}`] = { chunksPerSecond: perSecond, retrieval: p, fulltext: w, cpuMs };
      rows.push([
        size.toLocaleString('en'),
        fmt(perSecond),
        `${fmt(p.p50)} / ${fmt(p.p99)}`,
        `${fmt(w.p50)} / ${fmt(w.p99)}`,
        fmt(cpuMs),
      ]);
    }
  } finally {
    await close();
  }
  return {
    id: `knowledge-${engine.toLowerCase()}`,
    title: `Knowledge: ingestion and retrieval (${engine}, ${DIMENSIONS}-dimension vectors, top 5; load average ${load()})`,
    markdown: table(
      [
        'chunks in the base',
        'ingestion (chunks/s)',
        'hybrid retrieval p50 / p99 (ms)',
        'full-text only p50 / p99 (ms)',
        'CPU per hybrid retrieval, this process (ms)',
      ],
      rows,
    ),
    data,
  };
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

/** The stand-in's answer: a short stream after 20 ms, as in the TTFT scenario. */
const TTFT_SHAPE = { ttftMs: 20, chunks: 20, gapMs: 0 };
/** Paragraphs per document and documents of the retrieving agent's own base. */
const PARAGRAPHS = 500;
const DOCUMENTS = 2;

async function call(server: ServerProcess, method: string, path: string, body: unknown) {
  const response = await fetch(`${server.url}/v1/workspaces/${server.workspaceId}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * What retrieval adds to a run's TTFT: two agents on the same stand-in model, one retrieving
 * from a base of 1,000 chunks (384-dimension vectors from the scripted provider's
 * deterministic embedding model, in process: the embedding call's network time is not
 * counted), one without knowledge. Runs alternate, one at a time, through the server.
 */
export async function knowledgeTtft(
  ctx: Context,
  engine: 'PGlite' | 'PostgreSQL',
): Promise<ScenarioResult> {
  const pg = engine === 'PostgreSQL' ? await postgresServer() : undefined;
  const server = pg?.server ?? (await startServer());
  try {
    const baseURL = standInBase(ctx.standIn, TTFT_SHAPE);
    await call(server, 'PUT', '/secrets/BENCH_KEY', { value: 'sk-bench-0000000000000000' });
    const agent = (name: string, knowledge: boolean) => ({
      definition: {
        name,
        instructions: 'Answer.',
        model: { provider: 'openai', model: 'bench-model', baseURL, apiKeySecret: 'BENCH_KEY' },
        memory: {
          enabled: false,
          autoExtract: false,
          embeddingModel: { provider: 'scripted', model: 'scripted-embedding', dimensions: 384 },
        },
        knowledge: { bases: [], limit: knowledge ? 5 : 0 },
      },
      deploy: true,
    });
    await call(server, 'POST', '/agents', agent('bench-plain', false));
    await call(server, 'POST', '/agents', agent('bench-rag', true));
    await call(server, 'PUT', '/knowledge-bases/bench-rag', {
      agent: 'bench-rag',
      chunkSize: 200,
      chunkOverlap: 0,
    });
    const t0 = performance.now();
    for (let doc = 0; doc < DOCUMENTS; doc++) {
      const text = Array.from({ length: PARAGRAPHS }, (_, i) => {
        const n = doc * PARAGRAPHS + i;
        return `Paragraph ${n} tells about topic${n % 97} and item${n}, something worth saying.`;
      }).join('\n\n');
      await call(server, 'PUT', '/knowledge-bases/bench-rag/documents', {
        name: `doc-${doc}.md`,
        text,
      });
    }
    const ingestS = (performance.now() - t0) / 1000;
    const ttftOf = async (name: string) => {
      const t = performance.now();
      return (await timeStream(await parleyRun(server, name), t, isParleyText)).firstMs;
    };
    for (let i = 0; i < 3; i++) {
      await ttftOf('bench-plain');
      await ttftOf('bench-rag');
    }
    const plain: number[] = [];
    const rag: number[] = [];
    for (let i = 0; i < (ctx.quick ? 20 : 60); i++) {
      plain.push(await ttftOf('bench-plain'));
      rag.push(await ttftOf('bench-rag'));
    }
    const a = percentiles(plain);
    const b = percentiles(rag);
    const chunks = DOCUMENTS * PARAGRAPHS;
    return {
      id: `knowledge-ttft-${engine.toLowerCase()}`,
      title: `Knowledge: added TTFT of a run that retrieves (${engine}, server + stand-in TTFT ${TTFT_SHAPE.ttftMs} ms, a base of ${chunks.toLocaleString('en')} chunks ingested through the API at ${fmt(chunks / ingestS)} chunks/s; load average ${load()})`,
      markdown: table(
        [
          'runs each',
          'without retrieval p50 / p99 ms',
          'with retrieval p50 / p99 ms',
          'added p50 / p99 ms',
        ],
        [
          [
            plain.length,
            `${fmt(a.p50)} / ${fmt(a.p99)}`,
            `${fmt(b.p50)} / ${fmt(b.p99)}`,
            `${fmt(b.p50 - a.p50)} / ${fmt(b.p99 - a.p99)}`,
          ],
        ],
      ),
      data: { plain: a, retrieving: b, chunks, ingestChunksPerSecond: chunks / ingestS },
    };
  } finally {
    if (pg) await pg.stop();
    else {
      await server.stop();
      const { rm } = await import('node:fs/promises');
      await rm(server.dataDir, { recursive: true, force: true });
    }
  }
}
