import { DEFAULT_EMBEDDING_MODELS } from '@parley/providers';
import type { AgentDefinition, EmbeddingModelRef } from '../agent/definition.ts';

/** The embedding model an agent uses, or why it has none (then recall is full-text). */
export type ResolvedEmbeddingModel =
  | { ref: EmbeddingModelRef; named: boolean; id: string }
  | { ref: undefined; why: string };

/**
 * The agent's `memory.embeddingModel`, else its model's provider's standard embedding model
 * (same key, same base URL), else none. `id` names the vector space: memories embedded under
 * another id (or size) are re-embedded, never compared.
 */
export function embeddingModelOf(agent: AgentDefinition): ResolvedEmbeddingModel {
  const named = agent.memory.embeddingModel;
  if (named) return { ref: named, named: true, id: embeddingModelId(named) };
  const { provider, baseURL, apiKeySecret } = agent.model;
  const model = DEFAULT_EMBEDDING_MODELS[provider];
  if (!model)
    return {
      ref: undefined,
      why: `${provider} has no embedding model: name one in memory.embeddingModel for semantic recall`,
    };
  const ref: EmbeddingModelRef = {
    provider,
    model,
    ...(baseURL ? { baseURL } : {}),
    ...(apiKeySecret ? { apiKeySecret } : {}),
  };
  return { ref, named: false, id: embeddingModelId(ref) };
}

/** `provider/model` plus the asked size: what the store compares before mixing vectors. */
export function embeddingModelId(ref: EmbeddingModelRef): string {
  return `${ref.provider}/${ref.model}${ref.dimensions ? `@${ref.dimensions}` : ''}`;
}
