import { z } from 'zod';

/*
 * Anthropic Messages stream events (`POST /v1/messages`, `stream: true`; "Streaming Messages"
 * docs). Partial and `.nullish()`: new fields and new event or block types must not break a
 * stream ("your code should handle unknown event types gracefully").
 */

export const AnthropicUsageSchema = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  output_tokens_details: z.object({ thinking_tokens: z.number().nullish() }).nullish(),
});
export type AnthropicUsage = z.infer<typeof AnthropicUsageSchema>;

export const MessageStartSchema = z.object({
  message: z
    .object({
      id: z.string().nullish(),
      model: z.string().nullish(),
      usage: AnthropicUsageSchema.nullish(),
    })
    .nullish(),
});

export const ContentBlockStartSchema = z.object({
  index: z.number().int(),
  content_block: z.looseObject({
    type: z.string(),
    id: z.string().nullish(),
    name: z.string().nullish(),
    text: z.string().nullish(),
    thinking: z.string().nullish(),
    signature: z.string().nullish(),
    /** `redacted_thinking`: the encrypted reasoning, to send back verbatim. */
    data: z.string().nullish(),
    input: z.unknown().optional(),
  }),
});

export const ContentBlockDeltaSchema = z.object({
  index: z.number().int(),
  delta: z.object({
    type: z.string(),
    text: z.string().nullish(),
    thinking: z.string().nullish(),
    signature: z.string().nullish(),
    partial_json: z.string().nullish(),
  }),
});

export const ContentBlockStopSchema = z.object({ index: z.number().int() });

export const MessageDeltaSchema = z.object({
  delta: z.object({ stop_reason: z.string().nullish() }).nullish(),
  /** Cumulative counts ("the token counts … in message_delta are cumulative"). */
  usage: AnthropicUsageSchema.nullish(),
});

export const ErrorEventSchema = z.object({
  error: z.object({ type: z.string().nullish(), message: z.string().nullish() }).nullish(),
});
