import { PROVIDER_NAMES } from '@parley/providers';
import type { ModelRef } from './definition.ts';
import type { ElizaCharacter } from './eliza-character.ts';

type ModelRefInput = Omit<ModelRef, 'params'> & { params?: ModelRef['params'] };

interface ProviderMapping {
  model: Omit<ModelRefInput, 'apiKeySecret'>;
  /** The secret the provider's API key is conventionally stored under. */
  keySecret?: string;
}

/** ElizaOS provider names Parley can serve, with a default model when the character has none. */
const providerMappings: Record<string, ProviderMapping> = {
  openai: { model: { provider: 'openai', model: 'gpt-4.1-mini' }, keySecret: 'OPENAI_API_KEY' },
  anthropic: {
    model: { provider: 'anthropic', model: 'claude-sonnet-4-5' },
    keySecret: 'ANTHROPIC_API_KEY',
  },
  openrouter: {
    model: { provider: 'openrouter', model: 'openai/gpt-4.1-mini' },
    keySecret: 'OPENROUTER_API_KEY',
  },
  // Ollama serves an OpenAI-compatible API on its default port and needs no key.
  ollama: {
    model: {
      provider: 'openai-compatible',
      model: 'llama3.2',
      baseURL: 'http://127.0.0.1:11434/v1',
    },
  },
};

/** 1.x characters pick their model by plugin rather than by `modelProvider`. */
export const modelPlugins: Record<string, string> = {
  '@elizaos/plugin-openai': 'openai',
  '@elizaos/plugin-anthropic': 'anthropic',
  '@elizaos/plugin-openrouter': 'openrouter',
  '@elizaos/plugin-ollama': 'ollama',
};

const offlineModel: ModelRefInput = { provider: 'scripted', model: 'echo' };

export interface ElizaModelChoice {
  model: ModelRefInput;
  /** The ElizaOS provider name the choice came from, if any. */
  elizaProvider?: string;
  /** The secret that must hold the API key, when the provider needs one. */
  keySecret?: string;
  warnings: string[];
}

/**
 * Picks the Parley model for a character: `modelProvider`, then `settings.modelProvider`, then a
 * model plugin; `settings.model` names the model. An unknown provider gives the offline
 * scripted model and a warning, so the imported agent still runs.
 */
export function chooseElizaModel(
  character: ElizaCharacter,
  pluginNames: string[],
): ElizaModelChoice {
  const settings = character.settings;
  const modelSetting = settings?.model?.trim() || undefined;
  // 0.x files sometimes put the provider name in settings.model.
  const modelSettingIsProvider =
    modelSetting !== undefined &&
    ownValue(providerMappings, modelSetting.toLowerCase()) !== undefined;
  const fromPlugin = pluginNames.map((name) => ownValue(modelPlugins, name)).find(Boolean);
  const elizaProvider = (
    character.modelProvider?.trim() ||
    settings?.modelProvider?.trim() ||
    (modelSettingIsProvider ? modelSetting : undefined) ||
    fromPlugin
  )?.toLowerCase();
  const choices = `use one of ${PROVIDER_NAMES.join(', ')}`;

  if (elizaProvider === undefined) {
    return {
      model: offlineModel,
      warnings: [
        `the character names no model provider: the agent uses the offline scripted model (echo) until you set model.provider (${choices})`,
      ],
    };
  }
  const mapping = ownValue(providerMappings, elizaProvider);
  if (!mapping) {
    return {
      model: offlineModel,
      elizaProvider,
      warnings: [
        `model provider "${elizaProvider}" has no Parley equivalent: the agent uses the offline scripted model (echo) until you set model.provider (${choices})`,
      ],
    };
  }

  const warnings: string[] = [];
  const params = modelParams(settings?.modelConfig, warnings);
  const model: ModelRefInput = {
    ...mapping.model,
    ...(modelSetting && !modelSettingIsProvider ? { model: modelSetting } : {}),
    ...(params ? { params } : {}),
  };
  return { model, elizaProvider, keySecret: mapping.keySecret, warnings };
}

/** 0.x `settings.modelConfig`: only the parameters Parley has, and only valid values. */
function modelParams(
  config: { temperature?: unknown; maxOutputTokens?: unknown } | null | undefined,
  warnings: string[],
): ModelRef['params'] | undefined {
  if (!config) return undefined;
  const params: ModelRef['params'] = {};
  const { temperature, maxOutputTokens } = config;
  if (typeof temperature === 'number' && temperature >= 0 && temperature <= 2) {
    params.temperature = temperature;
  } else if (temperature !== undefined) {
    warnings.push(
      'settings.modelConfig.temperature was not imported: expected a number from 0 to 2',
    );
  }
  if (
    typeof maxOutputTokens === 'number' &&
    Number.isInteger(maxOutputTokens) &&
    maxOutputTokens > 0
  ) {
    params.maxOutputTokens = maxOutputTokens;
  } else if (maxOutputTokens !== undefined) {
    warnings.push(
      'settings.modelConfig.maxOutputTokens was not imported: expected a positive whole number',
    );
  }
  return Object.keys(params).length > 0 ? params : undefined;
}

/** A record lookup that ignores inherited names ("constructor" is not a provider). */
export function ownValue<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
