import type { ScopeOptions, Store } from '@parley/store';
import type { RunEmbedding } from '../runs/embedder.ts';
import { embeddable } from './ingest.ts';

/** Chunks per embeddings request and per transaction. */
const BATCH = 64;

/** Bases being re-embedded here: a second request for one joins the first. */
const running = new Map<string, Promise<number>>();

/**
 * Embeds a base's chunks that have no vector (its model changed) with its new model, a batch
 * at a time, in the background; they are found by their words until then. Resolves with the
 * number of chunks embedded; a failed embeddings call stops it (the next change, or document,
 * starts it again) and is reported to `onError`.
 */
export function reembedBase(input: {
  store: Store;
  workspaceId: string;
  scope: ScopeOptions;
  baseId: string;
  embedding: RunEmbedding;
  onError: (error: unknown) => void;
}): Promise<number> {
  const { store, workspaceId, scope, baseId, embedding } = input;
  const { embed, modelId } = embedding;
  if (!embed || !modelId) return Promise.resolve(0);
  const key = `${workspaceId}/${baseId}`;
  const current = running.get(key);
  if (current) return current;
  const work = (async () => {
    let done = 0;
    for (;;) {
      const chunks = await store.withWorkspace(
        workspaceId,
        (ws) => ws.knowledge.listChunksWithoutEmbedding(baseId, BATCH),
        scope,
      );
      if (chunks.length === 0) return done;
      const vectors = await embed(chunks.map(embeddable));
      const stored = await store.withWorkspace(
        workspaceId,
        (ws) =>
          ws.knowledge.setChunkEmbeddings(
            baseId,
            modelId,
            chunks.map((chunk, i) => ({ chunkId: chunk.id, embedding: vectors[i]! })),
          ),
        scope,
      );
      // Nothing stored: the chunks went (document replaced) or the base moved on; stop.
      if (stored === 0) return done;
      done += stored;
    }
  })()
    .catch((error: unknown) => {
      input.onError(error);
      return 0;
    })
    .finally(() => running.delete(key));
  running.set(key, work);
  return work;
}
