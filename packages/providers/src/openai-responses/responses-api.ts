import { z } from 'zod';

/*
 * OpenAI Responses stream events (`POST /v1/responses`, `stream: true`): `event: <type>` +
 * `data: <json>` with the same `type` inside, and no `[DONE]`: the stream ends after
 * `response.completed`, `response.incomplete` or `response.failed`. Partial and `.nullish()`;
 * the many hosted-tool events Parley does not use are ignored.
 */

/** The provider name in `reasoning.end.replay`; the request converter looks for it. */
export const RESPONSES_REPLAY_PROVIDER = 'openai-responses';

export const ResponsesUsageSchema = z.object({
  input_tokens: z.number().nullish(),
  input_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
  output_tokens: z.number().nullish(),
  output_tokens_details: z.object({ reasoning_tokens: z.number().nullish() }).nullish(),
});
export type ResponsesUsage = z.infer<typeof ResponsesUsageSchema>;

export const ResponseSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  status: z.string().nullish(),
  incomplete_details: z.object({ reason: z.string().nullish() }).nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
  usage: ResponsesUsageSchema.nullish(),
});

/** Events that carry the whole response: created, in_progress, completed, incomplete, failed. */
export const ResponseEventSchema = z.object({ response: ResponseSchema });

export const OutputItemSchema = z.looseObject({
  id: z.string().nullish(),
  type: z.string(),
  /** function_call: the id to echo back in `function_call_output` (not the item id). */
  call_id: z.string().nullish(),
  name: z.string().nullish(),
  arguments: z.string().nullish(),
  encrypted_content: z.string().nullish(),
});
export type OutputItem = z.infer<typeof OutputItemSchema>;

export const OutputItemEventSchema = z.object({
  output_index: z.number().int().nullish(),
  item: OutputItemSchema,
});

export const TextDeltaEventSchema = z.object({
  item_id: z.string(),
  content_index: z.number().int().nullish(),
  delta: z.string(),
});

export const TextDoneEventSchema = z.object({
  item_id: z.string(),
  content_index: z.number().int().nullish(),
});

export const ReasoningDeltaEventSchema = z.object({
  item_id: z.string(),
  delta: z.string(),
});

export const ArgumentsDeltaEventSchema = z.object({
  item_id: z.string(),
  output_index: z.number().int().nullish(),
  delta: z.string(),
});

export const ArgumentsDoneEventSchema = z.object({
  item_id: z.string(),
  arguments: z.string().nullish(),
});

/**
 * `type: "error"`: the SDK type declares `code`/`message` at the top level, while recorded
 * streams nest them in `error` (streaming notes §2.2); both are read.
 */
export const ErrorEventSchema = z.object({
  code: z.string().nullish(),
  message: z.string().nullish(),
  error: z
    .object({
      type: z.string().nullish(),
      code: z.string().nullish(),
      message: z.string().nullish(),
    })
    .nullish(),
});
