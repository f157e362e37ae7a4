import type { ModelRequest } from '../model.ts';
import { type ChatDialect, effortReasoning, toChatBody } from '../openai-chat/convert-request.ts';

/**
 * Servers that speak Chat Completions (Ollama, vLLM, LM Studio, llama.cpp) take `max_tokens`
 * (several ignore or reject OpenAI's newer `max_completion_tokens`) and `reasoning_effort`
 * (Ollama `openai/openai.go`, vLLM). Everything else is the Chat Completions body.
 */
export const compatibleDialect: ChatDialect = {
  maxTokensField: 'max_tokens',
  reasoning: effortReasoning,
};

export function toCompatibleBody(model: string, request: ModelRequest): Record<string, unknown> {
  return toChatBody(model, request, compatibleDialect);
}
