import { PROVIDER_CATALOGUE } from '@parley/providers/catalogue';

/*
 * The model providers onboarding offers. Default and suggested models, the workspace secret a
 * key goes to and where to get one come from the provider catalogue (@parley/providers), the
 * same facts `parley create` and the server use; only the wording is the dashboard's.
 */

export type ProviderId = 'scripted' | 'openai' | 'anthropic' | 'openrouter' | 'openai-compatible';

export interface ProviderChoice {
  id: ProviderId;
  label: string;
  hint: string;
  defaultModel: string;
  models: string[];
  /** The secret the key goes to; null: no key (the demo). */
  secret: string | null;
  keyRequired: boolean;
  needsBaseUrl: boolean;
  keyHelp?: string;
}

/** The onboarding wording of a provider; its facts (models, key secret, key page) are the catalogue's. */
function offer(
  id: ProviderId,
  wording: Pick<ProviderChoice, 'label' | 'hint'> & Partial<ProviderChoice>,
): ProviderChoice {
  const facts = PROVIDER_CATALOGUE[id];
  return {
    id,
    defaultModel: facts.defaultModel,
    models: [...facts.suggestedModels],
    secret: facts.keySecret ?? null,
    keyRequired: facts.keySecret !== undefined,
    needsBaseUrl: false,
    ...(facts.keyPage ? { keyHelp: facts.keyPage } : {}),
    ...wording,
  };
}

export const PROVIDERS: readonly ProviderChoice[] = [
  offer('scripted', {
    label: 'Offline demo',
    hint: 'No key, no network: plays a script that calls the calculator, then answers.',
  }),
  offer('openai', { label: 'OpenAI', hint: 'GPT models with your OpenAI key.' }),
  offer('anthropic', { label: 'Anthropic', hint: 'Claude models with your Anthropic key.' }),
  offer('openrouter', { label: 'OpenRouter', hint: 'Many providers behind one key.' }),
  offer('openai-compatible', {
    label: 'OpenAI-compatible',
    hint: 'Ollama, vLLM, LM Studio or a gateway at a base URL.',
    // The server reads no key for it unless the agent names one: onboarding names this one
    // when a key is pasted (many local servers need none).
    secret: 'OPENAI_COMPATIBLE_API_KEY',
    needsBaseUrl: true,
  }),
];

export function providerOf(id: string | undefined): ProviderChoice | undefined {
  return PROVIDERS.find((p) => p.id === id);
}
