import type { AgentDefinition, ModelRef } from '@parley/core';
import { createModel, DEFAULT_KEY_SECRETS, type LanguageModel } from '@parley/providers';
import { HttpProblem } from '../http/problem.ts';

/** The workspace secret a model's key is read from: the agent's, else its provider's default. */
export function keySecretOf(ref: Pick<ModelRef, 'provider' | 'apiKeySecret'>): string | undefined {
  return ref.apiKeySecret ?? DEFAULT_KEY_SECRETS[ref.provider];
}

/** Every secret the agent's models need, primary first. */
export function modelSecrets(agent: AgentDefinition): string[] {
  const names = [agent.model, ...agent.fallbackModels].map(keySecretOf);
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}

/** How long runs wait for a model unless its agent says (PARLEY_MODEL_*_SECONDS). */
export interface ModelTimeouts {
  firstByteMs: number;
  stallMs: number;
}

export const DEFAULT_MODEL_TIMEOUTS: ModelTimeouts = { firstByteMs: 60_000, stallMs: 120_000 };

/** The provider limits of one model: its agent's `model.timeouts`, else the server's. */
function timeoutSettings(ref: ModelRef, defaults: ModelTimeouts) {
  return {
    firstByteTimeoutMs: (ref.timeouts?.firstByteSeconds ?? defaults.firstByteMs / 1000) * 1000,
    timeoutMs: (ref.timeouts?.stallSeconds ?? defaults.stallMs / 1000) * 1000,
  };
}

/**
 * Makes the model factory a run uses, from keys read before the run starts (a missing key is
 * an answer to the request, not an error in the middle of a stream).
 */
export function modelFactory(
  agent: AgentDefinition,
  keys: ReadonlyMap<string, string>,
  workspaceId: string,
  timeouts: ModelTimeouts = DEFAULT_MODEL_TIMEOUTS,
  /** Sent with every model request of the run (its `traceparent`). */
  headers?: Record<string, string>,
): (ref: ModelRef) => LanguageModel {
  for (const name of modelSecrets(agent)) {
    if (!keys.has(name)) {
      throw new HttpProblem(
        'agent.unavailable',
        `Agent ${agent.name} needs the secret ${name} (its model's API key): set it with PUT /v1/workspaces/${workspaceId}/secrets/${name} or \`parley secrets set ${name}\`.`,
      );
    }
  }
  // One model per reference for the whole run: a scripted model plays its script across the
  // run's steps, and HTTP adapters keep their connection settings.
  const made = new Map<string, LanguageModel>();
  return (ref) => {
    const key = JSON.stringify(ref);
    let model = made.get(key);
    if (!model) {
      const secret = keySecretOf(ref);
      model = createModel({
        provider: ref.provider,
        model: ref.model,
        ...(secret ? { apiKey: keys.get(secret) } : {}),
        ...(ref.baseURL ? { baseURL: ref.baseURL } : {}),
        ...(ref.script ? { script: ref.script } : {}),
        ...(headers ? { headers } : {}),
        ...timeoutSettings(ref, timeouts),
      });
      made.set(key, model);
    }
    return model;
  };
}
