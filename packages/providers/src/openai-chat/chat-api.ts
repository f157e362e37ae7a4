import { z } from 'zod';

/*
 * Chat Completions stream chunks (`POST /chat/completions`, `stream: true`), as sent by OpenAI,
 * OpenRouter, Ollama, vLLM, LM Studio and other OpenAI-compatible servers. Deliberately
 * partial and `.nullish()`: unknown fields (`obfuscation`, `service_tier`, `logprobs`,
 * `system_fingerprint`) are ignored, and a server that omits a field does not break the parse.
 */

const ToolCallDeltaSchema = z.object({
  /** The call's position; continuation chunks carry only this and `function.arguments`. */
  index: z.number().int().nullish(),
  id: z.string().nullish(),
  function: z
    .object({
      name: z.string().nullish(),
      /** A JSON text piece; a few servers send the whole arguments as an object. */
      arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
    })
    .nullish(),
});
export type ChatToolCallDelta = z.infer<typeof ToolCallDeltaSchema>;

const DeltaSchema = z.object({
  /** A string; a few servers (Mistral) send an array of typed parts instead. */
  content: z.union([z.string(), z.array(z.unknown())]).nullish(),
  refusal: z.string().nullish(),
  /** Reasoning text: Ollama and OpenRouter `reasoning`; DeepSeek, vLLM, xAI `reasoning_content`. */
  reasoning: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  /** OpenRouter's structured reasoning (text, summary, encrypted), kept verbatim for replay. */
  reasoning_details: z.array(z.unknown()).nullish(),
  tool_calls: z.array(ToolCallDeltaSchema).nullish(),
});

const ChoiceSchema = z.object({
  index: z.number().int().nullish(),
  delta: DeltaSchema.nullish(),
  finish_reason: z.string().nullish(),
  /** OpenRouter: the upstream provider's own finish value (`end_turn`, `tool_use`, …). */
  native_finish_reason: z.string().nullish(),
});

export const ChatUsageSchema = z.object({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  prompt_tokens_details: z
    .object({
      cached_tokens: z.number().nullish(),
      /** OpenRouter, for providers with explicit prompt caching. */
      cache_write_tokens: z.number().nullish(),
    })
    .nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().nullish() }).nullish(),
  /** OpenRouter usage accounting: the cost in credits (USD). */
  cost: z.number().nullish(),
});
export type ChatUsage = z.infer<typeof ChatUsageSchema>;

export const ChatErrorSchema = z.object({
  message: z.string().nullish(),
  type: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
  metadata: z.unknown().optional(),
});

export const ChatChunkSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z.array(ChoiceSchema).nullish(),
  /** Present on the final chunk (`choices: []` at OpenAI, one empty choice at OpenRouter). */
  usage: ChatUsageSchema.nullish(),
  /** An error inside a 200 stream (openai-node `streaming.ts`; OpenRouter mid-stream errors). */
  error: z.union([ChatErrorSchema, z.string()]).nullish(),
});
export type ChatChunk = z.infer<typeof ChatChunkSchema>;

const nullish = (value: unknown) => value === undefined || value === null;
const stringOrNullish = (value: unknown) => nullish(value) || typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** Delta fields a plain text chunk leaves out (or null). */
const NOT_PLAIN_TEXT = [
  'refusal',
  'reasoning',
  'reasoning_content',
  'reasoning_details',
  'tool_calls',
];

/**
 * The common chunk (one choice, a text delta, no usage, error, reasoning or tool calls) read
 * without the schema: what `ChatChunkSchema` would give for it, for a fraction of the CPU (a
 * model's answer is hundreds of these). Anything else answers undefined: parse it with the schema.
 */
export function plainTextChunk(data: unknown): ChatChunk | undefined {
  if (!isObject(data) || !nullish(data.usage) || !nullish(data.error)) return undefined;
  if (!stringOrNullish(data.id) || !stringOrNullish(data.model)) return undefined;
  const choices = data.choices;
  if (!Array.isArray(choices) || choices.length !== 1) return undefined;
  const [choice] = choices as unknown[];
  if (!isObject(choice) || !isObject(choice.delta)) return undefined;
  const { index, delta } = choice;
  if (!(nullish(index) || Number.isInteger(index))) return undefined;
  if (!stringOrNullish(choice.finish_reason) || !stringOrNullish(choice.native_finish_reason))
    return undefined;
  if (!stringOrNullish(delta.content) || NOT_PLAIN_TEXT.some((key) => !nullish(delta[key])))
    return undefined;
  return {
    ...known(data, ['id', 'model', 'usage', 'error']),
    choices: [
      {
        ...known(choice, ['index', 'finish_reason', 'native_finish_reason']),
        delta: known(delta, ['content', ...NOT_PLAIN_TEXT]),
      },
    ],
  } as ChatChunk;
}

/** The keys of `source` the schema knows, as they are (null kept, absent left out, like it does). */
function known(source: Record<string, unknown>, keys: readonly string[]) {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (key in source) out[key] = source[key];
  return out;
}
