import type { ScopeOptions, Store } from '@parley/store';
import type { RunEmbedding } from '../runs/embedder.ts';

export interface RetrievedKnowledge {
  method: 'vector' | 'hybrid' | 'fulltext';
  reason?: string;
  chunks: {
    document: string;
    documentId: string;
    text: string;
    position: number;
    heading: string | null;
    score: number;
  }[];
}

/**
 * The best chunks of some bases for a query, best first: the query embedded with the same
 * model as the chunks and fused with the full-text ranks; by words when it cannot be.
 */
export async function retrieveKnowledge(input: {
  store: Store;
  workspaceId: string;
  scope: ScopeOptions;
  baseIds: string[];
  query: string;
  limit: number;
  embedding: RunEmbedding;
}): Promise<RetrievedKnowledge> {
  const { embedding } = input;
  let vector: number[] | undefined;
  let reason = embedding.note;
  try {
    vector = embedding.embed ? (await embedding.embed([input.query]))[0] : undefined;
  } catch (error) {
    reason = `the query could not be embedded (${error instanceof Error ? error.message : String(error)})`;
  }
  const found = await input.store.withWorkspace(
    input.workspaceId,
    (ws) =>
      ws.knowledge.search({
        baseIds: input.baseIds,
        query: input.query.slice(0, 2_000),
        limit: input.limit,
        ...(vector ? { embedding: vector } : {}),
        ...(vector && embedding.modelId ? { embeddingModel: embedding.modelId } : {}),
      }),
    input.scope,
  );
  const why = found.reason ?? (vector ? undefined : reason);
  return {
    method: found.method,
    ...(why ? { reason: why } : {}),
    chunks: found.chunks.map((chunk) => ({
      document: chunk.document,
      documentId: chunk.documentId,
      text: chunk.text,
      position: chunk.position,
      heading: chunk.heading,
      score: Math.round(chunk.score * 10_000) / 10_000,
    })),
  };
}
