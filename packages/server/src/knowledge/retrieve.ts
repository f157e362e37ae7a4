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
 * The best chunks of some bases for a query, best first: the query embedded with each model
 * the bases' chunks were embedded with (the agent's, a shared base's own) and every vector
 * list fused with the full-text ranks; by words when it cannot be.
 */
export async function retrieveKnowledge(input: {
  store: Store;
  workspaceId: string;
  scope: ScopeOptions;
  baseIds: string[];
  query: string;
  limit: number;
  embeddings: RunEmbedding[];
}): Promise<RetrievedKnowledge> {
  const probes: { model: string; vector: number[] }[] = [];
  let reason = input.embeddings.find((e) => !e.embed)?.note;
  const models = new Map(
    input.embeddings.filter((e) => e.embed && e.modelId).map((e) => [e.modelId!, e.embed!]),
  );
  await Promise.all(
    [...models].map(async ([model, embed]) => {
      try {
        const [vector] = await embed([input.query]);
        if (vector) probes.push({ model, vector });
      } catch (error) {
        reason = `the query could not be embedded (${error instanceof Error ? error.message : String(error)})`;
      }
    }),
  );
  const found = await input.store.withWorkspace(
    input.workspaceId,
    (ws) =>
      ws.knowledge.search({
        baseIds: input.baseIds,
        query: input.query.slice(0, 2_000),
        limit: input.limit,
        ...(probes.length ? { embeddings: probes } : {}),
      }),
    input.scope,
  );
  const why = found.reason ?? (probes.length ? undefined : reason);
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
