/*
 * The model providers onboarding offers, with the defaults the CLI's `parley create` uses and
 * the workspace secret each one's key is read from (the server's DEFAULT_KEY_SECRETS).
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

export const PROVIDERS: readonly ProviderChoice[] = [
  {
    id: 'scripted',
    label: 'Offline demo',
    hint: 'No key, no network: plays a script that calls the calculator, then answers.',
    defaultModel: 'demo',
    models: ['demo'],
    secret: null,
    keyRequired: false,
    needsBaseUrl: false,
  },
  {
    id: 'openai',
    label: 'OpenAI',
    hint: 'GPT models with your OpenAI key.',
    defaultModel: 'gpt-4.1-mini',
    models: ['gpt-4.1-mini', 'gpt-4.1', 'gpt-4o-mini', 'o4-mini'],
    secret: 'OPENAI_API_KEY',
    keyRequired: true,
    needsBaseUrl: false,
    keyHelp: 'https://platform.openai.com/api-keys',
  },
  {
    id: 'anthropic',
    label: 'Anthropic',
    hint: 'Claude models with your Anthropic key.',
    defaultModel: 'claude-sonnet-4-5',
    models: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'],
    secret: 'ANTHROPIC_API_KEY',
    keyRequired: true,
    needsBaseUrl: false,
    keyHelp: 'https://console.anthropic.com/settings/keys',
  },
  {
    id: 'openrouter',
    label: 'OpenRouter',
    hint: 'Many providers behind one key.',
    defaultModel: 'openai/gpt-4.1-mini',
    models: [
      'openai/gpt-4.1-mini',
      'anthropic/claude-sonnet-4.5',
      'meta-llama/llama-3.3-70b-instruct',
    ],
    secret: 'OPENROUTER_API_KEY',
    keyRequired: true,
    needsBaseUrl: false,
    keyHelp: 'https://openrouter.ai/settings/keys',
  },
  {
    id: 'openai-compatible',
    label: 'OpenAI-compatible',
    hint: 'Ollama, vLLM, LM Studio or a gateway at a base URL.',
    defaultModel: 'llama3.2',
    models: ['llama3.2', 'qwen2.5', 'mistral'],
    secret: 'OPENAI_COMPATIBLE_API_KEY',
    keyRequired: false,
    needsBaseUrl: true,
  },
];

export function providerOf(id: string | undefined): ProviderChoice | undefined {
  return PROVIDERS.find((p) => p.id === id);
}
