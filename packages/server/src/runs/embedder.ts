import {
  type AgentDefinition,
  type EmbeddingModelRef,
  embeddingModelId,
  embeddingModelOf,
} from '@parley/core';
import { createModel, type LanguageModel } from '@parley/providers';
import { keySecretOf } from './models.ts';

/** What a run embeds with, or why it cannot (then memory and knowledge recall by words). */
export interface RunEmbedding {
  /** Texts to vectors, in order. */
  embed?: (texts: string[]) => Promise<number[][]>;
  /** The vector space's name (`provider/model[@size]`): vectors of another are never compared. */
  modelId?: string;
  /** Why the run has no `embed`. */
  note?: string;
  /**
   * The embedding of another model (a shared knowledge base's own), its key read from the
   * workspace's secrets like the agent's.
   */
  withModel?: (ref: EmbeddingModelRef) => Promise<RunEmbedding>;
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
  return embeddingOfModel(resolved.ref, keys);
}

/** The workspace secrets a model reference reads its key from. */
export function secretsOfModel(ref: EmbeddingModelRef): string[] {
  const secret = keySecretOf(ref);
  return secret ? [secret] : [];
}

/** The embedding function of one model reference (an agent's, or a knowledge base's own). */
export function embeddingOfModel(
  ref: EmbeddingModelRef,
  keys: ReadonlyMap<string, string>,
): RunEmbedding {
  const secret = keySecretOf(ref);
  if (secret !== undefined && !keys.has(secret))
    return { note: `the embedding model's key (secret ${secret}) is not set` };
  const endpoint = `${ref.provider} ${ref.baseURL ?? ''} ${ref.model}`;
  const failed = recentFailures.get(endpoint);
  if (failed && performance.now() < failed.until)
    return { note: `the embedding model failed recently (${failed.why}): words for a minute` };
  const model = embeddingModel(ref, secret ? keys.get(secret) : undefined, endpoint);
  const embedWith = model.embed;
  if (!embedWith) return { note: `${ref.provider} has no embeddings endpoint` };
  const dimensions = ref.dimensions;
  return {
    modelId: embeddingModelId(ref),
    embed: async (texts) => {
      try {
        return (await embedWith.call(model, texts, dimensions ? { dimensions } : {})).embeddings;
      } catch (error) {
        // A server without embeddings (a chat-only local server) fails every call: runs stop
        // asking for a while instead of each paying for the failure.
        const why = error instanceof Error ? error.message.slice(0, 200) : String(error);
        recentFailures.set(endpoint, { until: performance.now() + FAILURE_PAUSE_MS, why });
        throw error;
      }
    },
  };
}

/**
 * The model object of an endpoint and key, made once: every run of an agent with memory asks
 * for its embedding function while it starts, and most never call it (recall is skipped while
 * the agent has no memories). It holds no per-run state (no headers, no script).
 */
function embeddingModel(ref: EmbeddingModelRef, apiKey: string | undefined, endpoint: string) {
  const key = `${endpoint}\u0000${apiKey ?? ''}`;
  let model = embeddingModels.get(key);
  if (!model) {
    model = createModel({
      provider: ref.provider,
      model: ref.model,
      ...(apiKey ? { apiKey } : {}),
      ...(ref.baseURL ? { baseURL: ref.baseURL } : {}),
      // One quick retry and short limits: a run waits on this before its first model call.
      maxRetries: 1,
      firstByteTimeoutMs: EMBED_TIMEOUT_MS,
      timeoutMs: EMBED_TIMEOUT_MS,
    });
    // Bounded: keys rotate and agents change their models.
    if (embeddingModels.size >= 256) embeddingModels.clear();
    embeddingModels.set(key, model);
  }
  return model;
}
const embeddingModels = new Map<string, LanguageModel>();

/** How long one embeddings request may take (a run's recall waits on it). */
const EMBED_TIMEOUT_MS = 15_000;
/** After a failed embeddings call, runs of that endpoint recall by words for this long. */
const FAILURE_PAUSE_MS = 60_000;
/** Endpoint → until when it is not asked again, and why. */
const recentFailures = new Map<string, { until: number; why: string }>();
