import type { AssistantReasoning } from '../model.ts';
import { type ReasoningPiece, readPlainReasoning } from '../openai-chat/chat-stream-mapper.ts';
import { ReasoningDetailSchema } from './openrouter-api.ts';

type Delta = Parameters<typeof readPlainReasoning>[0];

/**
 * OpenRouter streams reasoning twice: `delta.reasoning` (a plain string) and
 * `delta.reasoning_details[]` (`reasoning.text {text, signature?}`, `reasoning.summary
 * {summary}`, `reasoning.encrypted {data}`). They carry the same text, so the details win when
 * present and the string is ignored ("prioritizes reasoning_details over reasoning … to avoid
 * duplicates", @openrouter/ai-sdk-provider). Every detail is kept verbatim for replay: Anthropic
 * signatures and Gemini/OpenAI encrypted blobs must go back unchanged on the next turn.
 */
export function readOpenRouterReasoning(delta: Delta): ReasoningPiece[] {
  const details = delta.reasoning_details;
  if (!details || details.length === 0) return readPlainReasoning(delta);
  return details.map((detail) => {
    const parsed = ReasoningDetailSchema.safeParse(detail);
    const fields = parsed.success ? parsed.data : {};
    const type = fields.type;
    const text =
      type === 'reasoning.summary'
        ? fields.summary
        : type === 'reasoning.encrypted'
          ? undefined
          : fields.text;
    return {
      text: text ?? '',
      visibility:
        type === 'reasoning.summary'
          ? 'summary'
          : type === 'reasoning.encrypted'
            ? 'encrypted'
            : 'full',
      // The entry as received, not the parsed copy: it goes back unchanged.
      replay: detail,
      ...(fields.signature ? { signature: fields.signature } : {}),
    };
  });
}

/** The `reasoning_details` to send back on an assistant message, in the order received. */
export function reasoningDetailsForReplay(
  reasoning: AssistantReasoning[],
): Record<string, unknown> {
  const details = reasoning.flatMap((entry) =>
    entry.replay?.provider === 'openrouter' && Array.isArray(entry.replay.data)
      ? entry.replay.data
      : [],
  );
  return details.length > 0 ? { reasoning_details: details } : {};
}
