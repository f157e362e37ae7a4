import { type AgentDefinition, embeddingModelOf } from '@parley/core';
import { createModel } from '@parley/providers';
import { keySecretOf } from './models.ts';

/** What a run embeds with, or why it cannot (then memory and knowledge recall by words). */
export interface RunEmbedding {
  /** Texts to vectors, in order. */
  embed?: (texts: string[]) => Promise<number[][]>;
  /** The vector space's name (`provider/model[@size]`): vectors of another are never compared. */
  modelId?: string;
  /** Why the run has no `embed`. */
  note?: string;
}

/** The workspace secret the agent's embedding model reads its key from, if any. */
export function embeddingSecret(agent: AgentDefinition): string | undefined {
  const resolved = embeddingModelOf(agent);
  return resolved.ref ? keySecretOf(resolved.ref) : undefined;
}

/**
 * The agent's embedding function from keys already read. A missing key or a provider without
 * embeddings is not an error: the run recalls by words and its recall event says why.
 */
export function runEmbedding(
  agent: AgentDefinition,
  keys: ReadonlyMap<string, string>,
): RunEmbedding {
  const resolved = embeddingModelOf(agent);
  if (!resolved.ref) return { note: resolved.why };
  const { ref } = resolved;
  const secret = keySecretOf(ref);
  if (secret !== undefined && !keys.has(secret))
    return { note: `the embedding model's key (secret ${secret}) is not set` };
  const model = createModel({
    provider: ref.provider,
    model: ref.model,
    ...(secret ? { apiKey: keys.get(secret) } : {}),
    ...(ref.baseURL ? { baseURL: ref.baseURL } : {}),
    // One quick retry: a run waits on this before its first model call.
    maxRetries: 1,
  });
  const embedWith = model.embed;
  if (!embedWith) return { note: `${ref.provider} has no embeddings endpoint` };
  const dimensions = ref.dimensions;
  return {
    modelId: resolved.id,
    embed: async (texts) =>
      (await embedWith.call(model, texts, dimensions ? { dimensions } : {})).embeddings,
  };
}
