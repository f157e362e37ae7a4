import type { ModelRef } from '@parley/core';
import { PROVIDER_CATALOGUE, PROVIDER_NAMES } from '@parley/providers';
import type { ElizaCharacter } from './eliza-character.ts';
import { readElizaModelSettings } from './eliza-model-settings.ts';

type ModelRefInput = Omit<ModelRef, 'params'> & { params?: ModelRef['params'] };

interface ProviderMapping {
  model: Omit<ModelRefInput, 'apiKeySecret'>;
  /** The secret the provider's API key is conventionally stored under. */
  keySecret?: string;
}

/** An ElizaOS provider served by a Parley provider: its default model and key from the catalogue. */
function mapping(provider: 'openai' | 'anthropic' | 'openrouter'): ProviderMapping {
  const facts = PROVIDER_CATALOGUE[provider];
  return {
    model: { provider, model: facts.defaultModel },
    ...(facts.keySecret ? { keySecret: facts.keySecret } : {}),
  };
}

/** ElizaOS provider names Parley can serve, with a default model when the character has none. */
const providerMappings: Record<string, ProviderMapping> = {
  openai: mapping('openai'),
  anthropic: mapping('anthropic'),
  openrouter: mapping('openrouter'),
  // Ollama serves an OpenAI-compatible API on its default port and needs no key.
  ollama: {
    model: {
      provider: 'openai-compatible',
      model: PROVIDER_CATALOGUE['openai-compatible'].defaultModel,
      baseURL: PROVIDER_CATALOGUE['openai-compatible'].baseURL!,
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
  /** The `settings` keys the model was built from (not reported as settings left behind). */
  settingsUsed: string[];
  warnings: string[];
}

/**
 * Picks the Parley model for a character: `modelProvider`, then `settings.modelProvider`, then a
 * model plugin; `settings.model`, else the provider's large model setting, names the model; the
 * model parameters come from `settings.modelConfig` and `settings` (eliza-model-settings.ts).
 * An unknown provider gives the offline scripted model and a warning, so the imported agent
 * still runs (with the parameters kept for when a provider is set).
 */
export function chooseElizaModel(
  character: ElizaCharacter,
  pluginNames: string[],
): ElizaModelChoice {
  const settings = character.settings as Record<string, unknown> | null | undefined;
  const modelSetting = character.settings?.model?.trim() || undefined;
  // 0.x files sometimes put the provider name in settings.model.
  const modelSettingIsProvider =
    modelSetting !== undefined &&
    ownValue(providerMappings, modelSetting.toLowerCase()) !== undefined;
  const fromPlugin = pluginNames.map((name) => ownValue(modelPlugins, name)).find(Boolean);
  const elizaProvider = (
    character.modelProvider?.trim() ||
    character.settings?.modelProvider?.trim() ||
    (modelSettingIsProvider ? modelSetting : undefined) ||
    fromPlugin
  )?.toLowerCase();
  const choices = `use one of ${PROVIDER_NAMES.join(', ')}`;

  const read = readElizaModelSettings(settings);
  const tuning = {
    ...(Object.keys(read.params).length > 0 ? { params: read.params } : {}),
    ...(read.contextWindow !== undefined ? { contextWindow: read.contextWindow } : {}),
  };
  const mapping =
    elizaProvider === undefined ? undefined : ownValue(providerMappings, elizaProvider);
  if (elizaProvider === undefined || !mapping) {
    const why =
      elizaProvider === undefined
        ? 'the character names no model provider'
        : `model provider "${elizaProvider}" has no Parley equivalent`;
    return {
      model: { ...offlineModel, ...tuning },
      ...(elizaProvider !== undefined ? { elizaProvider } : {}),
      settingsUsed: read.handled,
      warnings: [
        `${why}: the agent uses the offline scripted model (echo) until you set model.provider (${choices})`,
        ...read.warnings,
      ],
    };
  }

  const endpoint = providerSettings(settings, elizaProvider);
  const explicit = modelSetting && !modelSettingIsProvider ? modelSetting : undefined;
  const named = explicit ?? endpoint.large?.value;
  const warnings = [...read.warnings, ...endpoint.warnings];
  const unused = [...(explicit && endpoint.large ? [endpoint.large] : []), ...endpoint.otherSizes];
  for (const other of unused) {
    warnings.push(
      `settings.${other.key} (${other.value}) was not imported: a Parley agent answers with one model, model.model (${named ?? mapping.model.model})`,
    );
  }
  const model: ModelRefInput = {
    ...mapping.model,
    ...(named ? { model: named } : {}),
    ...(endpoint.baseURL ? { baseURL: endpoint.baseURL } : {}),
    ...tuning,
  };
  return {
    model,
    elizaProvider,
    keySecret: mapping.keySecret,
    settingsUsed: [...read.handled, ...endpoint.handled],
    warnings,
  };
}

interface NamedSetting {
  key: string;
  value: string;
}

/**
 * The provider's own settings a character may carry (the names ElizaOS plugins read, 1.x
 * `OPENAI_LARGE_MODEL` and 0.x `LARGE_OPENAI_MODEL` alike): its model per size, of which
 * Parley keeps the large one (ElizaOS answers with the large model), and its endpoint.
 */
function providerSettings(settings: Record<string, unknown> | null | undefined, provider: string) {
  const P = provider.toUpperCase();
  const text = (key: string): NamedSetting | undefined => {
    const value = settings && Object.hasOwn(settings, key) ? settings[key] : undefined;
    return typeof value === 'string' && value.trim() ? { key, value: value.trim() } : undefined;
  };
  const sized = (size: string) =>
    [`${P}_${size}_MODEL`, `${size}_${P}_MODEL`, `${size}_MODEL`]
      .map(text)
      .filter((found): found is NamedSetting => found !== undefined);
  const large = [...sized('LARGE'), ...(P === 'OLLAMA' ? [text('OLLAMA_MODEL')] : [])].filter(
    (found): found is NamedSetting => found !== undefined,
  );
  const otherSizes = [...large.slice(1), ...sized('MEDIUM'), ...sized('SMALL')];
  const endpointKeys =
    P === 'OLLAMA' ? ['OLLAMA_API_ENDPOINT', 'OLLAMA_SERVER_URL'] : [`${P}_BASE_URL`];
  const endpoint = endpointKeys.map(text).find(Boolean);
  const warnings: string[] = [];
  let baseURL: string | undefined;
  if (endpoint) {
    baseURL = endpointURL(endpoint.value, P === 'OLLAMA');
    if (!baseURL)
      warnings.push(`settings.${endpoint.key} was not imported: expected an http(s) URL`);
  }
  return {
    large: large[0],
    otherSizes,
    baseURL,
    handled: [...large, ...otherSizes, ...(endpoint ? [endpoint] : [])].map((s) => s.key),
    warnings,
  };
}

/** An endpoint as model.baseURL; Ollama's native root (…:11434 or …/api) becomes its /v1. */
function endpointURL(value: string, ollama: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!ollama) return url.href.replace(/\/$/, '');
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return `${url.origin}${path.endsWith('/v1') ? path : `${path}/v1`}`;
}

/** A record lookup that ignores inherited names ("constructor" is not a provider). */
export function ownValue<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
