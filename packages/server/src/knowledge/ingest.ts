import { createHash } from 'node:crypto';
import type { KnowledgeBase, KnowledgeDocument, ScopeOptions, Store } from '@parley/store';
import type { RunEmbedding } from '../runs/embedder.ts';
import { chunkText } from './chunk.ts';
import { extractText, type KnowledgeMediaType } from './extract.ts';

/** Texts per embeddings request (OpenAI takes up to 2048 inputs; smaller keeps memory flat). */
const EMBED_BATCH = 128;

export interface IngestResult {
  document: KnowledgeDocument;
  changed: boolean;
  /** The model its chunks were embedded with; undefined: full-text only (`note` says why). */
  embeddingModel?: string;
  note?: string;
}

/**
 * Adds one document to a base: its text extracted (HTML, PDF), cut into structure-aware
 * chunks by the base's sizes, embedded in batches, stored in one transaction (chunks in
 * batched INSERTs). The same bytes again change nothing and cost no embedding call.
 */
export async function ingestDocument(input: {
  store: Store;
  workspaceId: string;
  scope: ScopeOptions;
  base: KnowledgeBase;
  name: string;
  mediaType: KnowledgeMediaType;
  bytes: Uint8Array;
  embedding: RunEmbedding;
}): Promise<IngestResult> {
  const { store, workspaceId, scope, base, embedding } = input;
  const contentHash = createHash('sha256').update(input.bytes).digest('hex');
  const existing = await store.withWorkspace(
    workspaceId,
    async (ws) => (await ws.knowledge.listDocuments(base.id)).find((d) => d.name === input.name),
    scope,
  );
  if (existing?.contentHash === contentHash) return { document: existing, changed: false };

  const text = await extractText(input.bytes, input.mediaType);
  const chunks = chunkText(text, { size: base.chunkSize, overlap: base.chunkOverlap });
  let vectors: number[][] | undefined;
  if (embedding.embed && chunks.length > 0) {
    vectors = [];
    for (let start = 0; start < chunks.length; start += EMBED_BATCH)
      vectors.push(
        ...(await embedding.embed(chunks.slice(start, start + EMBED_BATCH).map(embeddable))),
      );
  }
  const { document, changed } = await store.withWorkspace(
    workspaceId,
    (ws) =>
      ws.knowledge.putDocument(base.id, {
        name: input.name,
        mediaType: input.mediaType,
        contentHash,
        bytes: input.bytes.byteLength,
        ...(vectors && embedding.modelId ? { embeddingModel: embedding.modelId } : {}),
        chunks: chunks.map((chunk, i) => ({
          ...chunk,
          ...(vectors ? { embedding: vectors[i]! } : {}),
        })),
      }),
    scope,
  );
  return {
    document,
    changed,
    ...(vectors && embedding.modelId ? { embeddingModel: embedding.modelId } : {}),
    ...(vectors ? {} : { note: `full-text only: ${embedding.note ?? 'no embedding model'}` }),
  };
}

/** What is embedded for a chunk: its heading path gives a short paragraph its subject. */
export function embeddable(chunk: { heading: string | null; content: string }): string {
  return chunk.heading ? `${chunk.heading}\n\n${chunk.content}` : chunk.content;
}
