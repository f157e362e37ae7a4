/*
 * The provider catalogue: the facts about each model provider that more than one place needs
 * (the server's key lookup and key check, where a key may be sent, `parley create`, `parley
 * doctor`, the dashboard's onboarding, the ElizaOS import). One table, so a new provider or a
 * moved key page is one edit. It imports nothing: the dashboard bundles it through the
 * `@parley/providers/catalogue` subpath without the adapters.
 */

/** The providers `createModel` knows. */
export const PROVIDER_NAMES = [
  'openai',
  'openai-responses',
  'anthropic',
  'openrouter',
  'openai-compatible',
  'scripted',
] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ProviderFacts {
  /** For people: `OpenAI`, `Anthropic`. */
  title: string;
  /**
   * The workspace secret its key is read from unless the agent names another (`apiKeySecret`);
   * undefined when it needs no key by default (the demo, local OpenAI-compatible servers).
   */
  keySecret: string | undefined;
  /** Where a person gets a key. */
  keyPage: string | undefined;
  /** The API root with its version segment, as the adapter uses it (docs/providers.md §2). */
  baseURL: string | undefined;
  /** The host its key belongs to: a key is sent there without an operator listing it. */
  keyHost: string | undefined;
  /** The model `parley create` and onboarding propose. */
  defaultModel: string;
  /** A few models worth offering first, the default first. */
  suggestedModels: readonly string[];
  /**
   * The embedding model an agent on this provider uses for memory and knowledge unless it
   * names one (`memory.embeddingModel`); undefined when the provider has no embeddings
   * endpoint (Anthropic): such an agent recalls by full-text search.
   */
  embeddingModel: string | undefined;
}

const OPENAI = {
  keySecret: 'OPENAI_API_KEY',
  keyPage: 'https://platform.openai.com/api-keys',
  baseURL: 'https://api.openai.com/v1',
  keyHost: 'api.openai.com',
  defaultModel: 'gpt-4.1-mini',
  suggestedModels: ['gpt-4.1-mini', 'gpt-4.1', 'gpt-4o-mini', 'o4-mini'],
  embeddingModel: 'text-embedding-3-small',
} as const;

export const PROVIDER_CATALOGUE: Readonly<Record<ProviderName, ProviderFacts>> = {
  openai: { title: 'OpenAI', ...OPENAI },
  'openai-responses': { title: 'OpenAI', ...OPENAI },
  anthropic: {
    title: 'Anthropic',
    keySecret: 'ANTHROPIC_API_KEY',
    keyPage: 'https://console.anthropic.com/settings/keys',
    baseURL: 'https://api.anthropic.com/v1',
    keyHost: 'api.anthropic.com',
    defaultModel: 'claude-sonnet-4-5',
    suggestedModels: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'],
    // Anthropic has no embeddings API (its docs point to Voyage AI).
    embeddingModel: undefined,
  },
  openrouter: {
    title: 'OpenRouter',
    keySecret: 'OPENROUTER_API_KEY',
    keyPage: 'https://openrouter.ai/settings/keys',
    baseURL: 'https://openrouter.ai/api/v1',
    keyHost: 'openrouter.ai',
    defaultModel: 'openai/gpt-4.1-mini',
    suggestedModels: [
      'openai/gpt-4.1-mini',
      'anthropic/claude-sonnet-4.5',
      'meta-llama/llama-3.3-70b-instruct',
    ],
    embeddingModel: 'openai/text-embedding-3-small',
  },
  'openai-compatible': {
    title: 'OpenAI-compatible',
    // Ollama, vLLM and LM Studio often need no key; an agent names one with apiKeySecret.
    keySecret: undefined,
    keyPage: undefined,
    // Ollama's default address: the common local case.
    baseURL: 'http://127.0.0.1:11434/v1',
    keyHost: undefined,
    defaultModel: 'llama3.2',
    suggestedModels: ['llama3.2', 'qwen2.5', 'mistral'],
    // Ollama's usual embedding model (`ollama pull nomic-embed-text`).
    embeddingModel: 'nomic-embed-text',
  },
  scripted: {
    title: 'Scripted',
    keySecret: undefined,
    keyPage: undefined,
    baseURL: undefined,
    keyHost: undefined,
    defaultModel: 'demo',
    suggestedModels: ['demo'],
    // Deterministic letter-count vectors, not semantic: the offline path (docs/memory.md).
    embeddingModel: 'scripted-embedding',
  },
};

/** The facts of a provider by name, or undefined for a name Parley does not know. */
export function providerFacts(name: string): ProviderFacts | undefined {
  return Object.hasOwn(PROVIDER_CATALOGUE, name)
    ? PROVIDER_CATALOGUE[name as ProviderName]
    : undefined;
}

function column<K extends keyof ProviderFacts>(key: K): Readonly<Record<string, ProviderFacts[K]>> {
  return Object.fromEntries(PROVIDER_NAMES.map((name) => [name, PROVIDER_CATALOGUE[name][key]]));
}

/** The workspace secret each provider's key is read from unless the agent names another. */
export const DEFAULT_KEY_SECRETS: Readonly<Record<string, string | undefined>> =
  column('keySecret');
/** API roots with their version segment, as the adapters use them. */
export const DEFAULT_BASE_URLS: Readonly<Record<string, string | undefined>> = column('baseURL');
/** The host each real provider's key belongs to. */
export const PROVIDER_KEY_HOSTS: Readonly<Record<string, string | undefined>> = column('keyHost');
/** Each provider's standard embedding model, undefined where it has none. */
export const DEFAULT_EMBEDDING_MODELS: Readonly<Record<string, string | undefined>> =
  column('embeddingModel');
/** Where a person gets a key for each provider. */
export const PROVIDER_KEY_PAGES: Readonly<Record<string, string | undefined>> = column('keyPage');
