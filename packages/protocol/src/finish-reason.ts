import { z } from 'zod';

/**
 * Why a step (one model call) or a run ended, normalised across providers.
 * `raw` keeps the provider's own value (`end_turn`, `tool_calls`, …); `native` keeps a
 * router's upstream value (OpenRouter's `native_finish_reason`).
 */
export const UnifiedFinishReasonSchema = z.enum([
  'stop',
  'length',
  'tool-calls',
  'content-filter',
  'error',
  'other',
]);
export type UnifiedFinishReason = z.infer<typeof UnifiedFinishReasonSchema>;

export const FinishReasonSchema = z.object({
  unified: UnifiedFinishReasonSchema,
  raw: z.string().optional(),
  native: z.string().optional(),
});
export type FinishReason = z.infer<typeof FinishReasonSchema>;
