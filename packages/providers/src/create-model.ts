import { createAnthropicModel } from './anthropic/anthropic-model.ts';
import {
  type LanguageModel,
  type ModelSettings,
  PROVIDER_NAMES,
  type ProviderName,
} from './model.ts';
import { ModelConfigError } from './model-config-error.ts';
import { createOpenAIChatModel } from './openai-chat/openai-chat-model.ts';
import { createOpenAICompatibleModel } from './openai-compatible/openai-compatible-model.ts';
import { createOpenAIResponsesModel } from './openai-responses/openai-responses-model.ts';
import { createOpenRouterModel } from './openrouter/openrouter-model.ts';
import type { ScriptTurn } from './scripted/script.ts';
import { createScriptedModel } from './scripted/scripted-model.ts';

export { ModelConfigError };

type Factory = (settings: ModelSettings & { script?: ScriptTurn[] }) => LanguageModel;

const factories: Record<ProviderName, Factory> = {
  openai: createOpenAIChatModel,
  'openai-responses': createOpenAIResponsesModel,
  anthropic: createAnthropicModel,
  openrouter: createOpenRouterModel,
  'openai-compatible': createOpenAICompatibleModel,
  scripted: (settings) =>
    createScriptedModel({
      model: settings.model,
      ...(settings.script ? { script: settings.script } : {}),
      ...(settings.maxRetries === undefined ? {} : { maxRetries: settings.maxRetries }),
    }),
};

/**
 * The one entry point to every provider:
 * `createModel({ provider: 'anthropic', model: 'claude-sonnet-4-5', apiKey })`.
 * `baseURL` is the API root including its version segment (`http://127.0.0.1:11434/v1`).
 * The scripted provider also takes `script` (its turns); it is not a language model.
 * Throws ModelConfigError for an unknown provider, a missing model or a missing apiKey.
 */
export function createModel(settings: ModelSettings & { script?: ScriptTurn[] }): LanguageModel {
  if (!(PROVIDER_NAMES as readonly string[]).includes(settings.provider)) {
    throw new ModelConfigError(
      `unknown provider "${settings.provider}": use one of ${PROVIDER_NAMES.join(', ')}`,
    );
  }
  if (!settings.model)
    throw new ModelConfigError(`provider ${settings.provider} needs a model name`);
  return factories[settings.provider](settings);
}
