import type { Usage } from '@parley/protocol';
import type { AnthropicUsage } from './anthropic-api.ts';

/** The latest value of each usage field: `message_delta` repeats and may revise `message_start`. */
export function mergeAnthropicUsage(
  into: AnthropicUsage | undefined,
  next: AnthropicUsage,
): AnthropicUsage {
  const merged: AnthropicUsage = { ...into };
  for (const [key, value] of Object.entries(next) as [keyof AnthropicUsage, never][])
    if (value !== null && value !== undefined) merged[key] = value;
  return merged;
}

/**
 * Anthropic usage → Parley usage. Anthropic's `input_tokens` excludes cached tokens, so the
 * whole prompt is `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`.
 */
export function anthropicUsage(raw: AnthropicUsage): Usage {
  const cacheRead = raw.cache_read_input_tokens ?? 0;
  const cacheWrite = raw.cache_creation_input_tokens ?? 0;
  const usage: Usage = {
    inputTokens: (raw.input_tokens ?? 0) + cacheRead + cacheWrite,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: raw.output_tokens ?? 0,
    costSource: 'unknown',
  };
  const thinking = raw.output_tokens_details?.thinking_tokens;
  if (typeof thinking === 'number') usage.reasoningTokens = thinking;
  return usage;
}
