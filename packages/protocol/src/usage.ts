import { z } from 'zod';

const tokenCount = z.number().int().nonnegative();

/**
 * Token usage of a step or a whole run.
 * `inputTokens` is the whole prompt *including* cached tokens (Anthropic's input + cache read +
 * cache write; OpenAI's `prompt_tokens`). `outputTokens` includes reasoning tokens.
 */
export const UsageSchema = z.object({
  inputTokens: tokenCount,
  cachedInputTokens: tokenCount,
  cacheWriteTokens: tokenCount,
  outputTokens: tokenCount,
  /** Part of `outputTokens` spent on reasoning, when the provider reports it. */
  reasoningTokens: tokenCount.optional(),
  costUsd: z.number().nonnegative().optional(),
  /** Where `costUsd` came from: the provider's own accounting, Parley's price book, or nowhere. */
  costSource: z.enum(['provider', 'pricebook', 'unknown']),
});
export type Usage = z.infer<typeof UsageSchema>;

export function emptyUsage(): Usage {
  return {
    inputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    costSource: 'unknown',
  };
}

/** Sums two usages; cost stays known only while every part of it is known. */
export function addUsage(a: Usage, b: Usage): Usage {
  const sum: Usage = {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costSource: a.costSource === b.costSource ? a.costSource : 'unknown',
  };
  if (a.reasoningTokens !== undefined || b.reasoningTokens !== undefined) {
    sum.reasoningTokens = (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0);
  }
  if (a.costUsd !== undefined && b.costUsd !== undefined && sum.costSource !== 'unknown') {
    sum.costUsd = a.costUsd + b.costUsd;
  }
  return sum;
}
