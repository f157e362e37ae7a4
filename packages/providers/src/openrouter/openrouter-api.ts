import { z } from 'zod';

/*
 * OpenRouter's additions to the Chat Completions chunk (its "Reasoning Tokens" and "Usage
 * Accounting" docs; @openrouter/ai-sdk-provider `src/schemas/reasoning-details.ts`). The rest
 * of the chunk, `native_finish_reason` and `usage.cost` included, is read by the Chat
 * Completions schema in `openai-chat/chat-api.ts`.
 */

/** One `delta.reasoning_details[]` entry. Loose: the entry goes back to OpenRouter verbatim. */
export const ReasoningDetailSchema = z.looseObject({
  type: z.string().nullish(),
  /** `reasoning.text` */
  text: z.string().nullish(),
  /** `reasoning.summary` */
  summary: z.string().nullish(),
  /** Anthropic thinking signature, on a `reasoning.text` entry. */
  signature: z.string().nullish(),
  /** `reasoning.encrypted` */
  data: z.string().nullish(),
});
