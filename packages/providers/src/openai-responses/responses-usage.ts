import type { Usage } from '@parley/protocol';
import type { ResponsesUsage } from './responses-api.ts';

/** Responses usage → Parley usage (`input_tokens` includes cached, `output_tokens` reasoning). */
export function responsesUsage(raw: ResponsesUsage): Usage {
  const usage: Usage = {
    inputTokens: raw.input_tokens ?? 0,
    cachedInputTokens: raw.input_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    outputTokens: raw.output_tokens ?? 0,
    costSource: 'unknown',
  };
  const reasoning = raw.output_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') usage.reasoningTokens = reasoning;
  return usage;
}
