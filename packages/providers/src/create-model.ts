import {
  type LanguageModel,
  type ModelSettings,
  PROVIDER_NAMES,
  type ProviderName,
} from './model.ts';
import type { ScriptTurn } from './scripted/script.ts';
import { createScriptedModel } from './scripted/scripted-model.ts';

/** A model setting that names no provider Parley knows, or lacks what the provider needs. */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  readonly code = 'provider.invalid_config';
}

type Factory = (settings: ModelSettings & { script?: ScriptTurn[] }) => LanguageModel;

const factories: Partial<Record<ProviderName, Factory>> = {
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
 * The scripted provider also takes `script` (its turns); it is not a language model.
 */
export function createModel(settings: ModelSettings & { script?: ScriptTurn[] }): LanguageModel {
  if (!(PROVIDER_NAMES as readonly string[]).includes(settings.provider)) {
    throw new ModelConfigError(
      `unknown provider "${settings.provider}": use one of ${PROVIDER_NAMES.join(', ')}`,
    );
  }
  if (!settings.model)
    throw new ModelConfigError(`provider ${settings.provider} needs a model name`);
  const factory = factories[settings.provider];
  if (!factory) throw new ModelConfigError(`provider ${settings.provider} is not available yet`);
  return factory(settings);
}
