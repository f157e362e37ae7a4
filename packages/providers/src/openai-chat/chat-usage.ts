import type { Usage } from '@parley/protocol';
import type { ChatUsage } from './chat-api.ts';

/**
 * Chat Completions usage → Parley usage. `prompt_tokens` already includes `cached_tokens`, and
 * `completion_tokens` already includes `reasoning_tokens` (OpenAI API reference). OpenRouter adds
 * `cost` in credits (USD), which is the provider's own accounting.
 */
export function chatUsage(raw: ChatUsage): Usage {
  const usage: Usage = {
    inputTokens: raw.prompt_tokens ?? 0,
    cachedInputTokens: raw.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: raw.prompt_tokens_details?.cache_write_tokens ?? 0,
    outputTokens: raw.completion_tokens ?? 0,
    costSource: 'unknown',
  };
  const reasoning = raw.completion_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') usage.reasoningTokens = reasoning;
  if (typeof raw.cost === 'number' && raw.cost >= 0) {
    usage.costUsd = raw.cost;
    usage.costSource = 'provider';
  }
  return usage;
}
