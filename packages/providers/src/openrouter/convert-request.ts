import type { ModelRequest } from '../model.ts';
import { type ChatDialect, toChatBody } from '../openai-chat/convert-request.ts';
import { reasoningDetailsForReplay } from './reasoning-details.ts';

/**
 * OpenRouter takes the Chat Completions body plus a unified `reasoning` object
 * (`{effort}` or `{max_tokens}`), and wants earlier `reasoning_details` back on assistant
 * messages. `stream_options.include_usage` also turns on its usage accounting (with `cost`).
 */
export const openRouterDialect: ChatDialect = {
  maxTokensField: 'max_tokens',
  reasoning: (reasoning) => {
    if (reasoning.budgetTokens !== undefined)
      return { reasoning: { max_tokens: reasoning.budgetTokens } };
    return reasoning.effort ? { reasoning: { effort: reasoning.effort } } : {};
  },
  assistantReasoning: reasoningDetailsForReplay,
};

export function toOpenRouterBody(model: string, request: ModelRequest): Record<string, unknown> {
  return toChatBody(model, request, openRouterDialect);
}
