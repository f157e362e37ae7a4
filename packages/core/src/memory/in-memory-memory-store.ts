import type { MemoryHit, MemoryRecord, MemorySearch, MemoryStore } from './memory-store.ts';

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * (b[i] ?? 0);
    na += a[i]! ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * A process-local memory store for offline runs and tests: cosine similarity when both sides
 * have embeddings, word overlap otherwise. Scope rules match the database store.
 */
export function createInMemoryMemoryStore(
  newId: () => string = () => crypto.randomUUID(),
): MemoryStore & {
  all(): MemoryRecord[];
} {
  const records: (MemoryRecord & { embedding?: number[] })[] = [];
  return {
    async write(entry) {
      const record = {
        id: newId(),
        text: entry.text,
        kind: entry.kind,
        scope: entry.scope,
        ...(entry.embedding ? { embedding: entry.embedding } : {}),
      };
      records.push(record);
      return { id: record.id, text: record.text, kind: record.kind, scope: record.scope };
    },
    async search(query: MemorySearch): Promise<MemoryHit[]> {
      const queryWords = words(query.text);
      const visible = records.filter(
        (r) =>
          r.scope.agentId === query.agentId &&
          (r.scope.userId === undefined || r.scope.userId === query.userId) &&
          (r.scope.conversationId === undefined || r.scope.conversationId === query.conversationId),
      );
      const scored = visible.map((r) => {
        let score: number;
        if (query.embedding && r.embedding) score = cosine(query.embedding, r.embedding);
        else {
          const memoryWords = words(r.text);
          let overlap = 0;
          for (const w of queryWords) if (memoryWords.has(w)) overlap++;
          score = queryWords.size ? overlap / queryWords.size : 0;
        }
        return { id: r.id, text: r.text, kind: r.kind, scope: r.scope, score };
      });
      return scored
        .filter((hit) => hit.score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, query.limit);
    },
    mayHaveMemories: (agentId) => records.some((r) => r.scope.agentId === agentId),
    all: () => records.map(({ embedding: _embedding, ...rest }) => rest),
  };
}
