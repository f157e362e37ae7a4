import type { LanguageModel, ModelSettings } from '../model.ts';
import { createChatStreamMapper } from '../openai-chat/chat-stream-mapper.ts';
import { type ChatDialect, effortReasoning, toChatBody } from '../openai-chat/convert-request.ts';
import { createOpenAiStyleEmbed } from '../shared/embeddings.ts';
import { mergeHeaders } from '../shared/http-post.ts';
import { resolveSettings } from '../shared/resolve-settings.ts';
import { createStreamingModel } from '../shared/streaming-model.ts';

/** Ollama's OpenAI-compatible endpoint on its default port. */
export const OPENAI_COMPATIBLE_BASE_URL = 'http://127.0.0.1:11434/v1';

/**
 * Servers that speak Chat Completions: Ollama, vLLM, LM Studio, llama.cpp, any base URL.
 * They take `max_tokens` (Ollama and vLLM ignore or reject `max_completion_tokens`) and
 * `reasoning_effort`; reasoning comes back as `reasoning` or `reasoning_content`.
 */
const compatibleDialect: ChatDialect = {
  maxTokensField: 'max_tokens',
  reasoning: effortReasoning,
};

/**
 * `provider: 'openai-compatible'`: `POST {baseURL}/chat/completions`, with
 * `Authorization: Bearer <apiKey>` only when an apiKey is given (Ollama needs none).
 */
export function createOpenAICompatibleModel(settings: ModelSettings): LanguageModel {
  const resolved = resolveSettings(settings, {
    baseURL: OPENAI_COMPATIBLE_BASE_URL,
    requiresApiKey: false,
  });
  const headers = mergeHeaders(
    {
      'content-type': 'application/json',
      authorization: resolved.apiKey ? `Bearer ${resolved.apiKey}` : undefined,
    },
    resolved.headers,
  );
  const requestIdHeaders = ['x-request-id'];
  return createStreamingModel({
    provider: 'openai-compatible',
    settings: resolved,
    url: `${resolved.baseURL}/chat/completions`,
    headers: mergeHeaders(headers, { accept: 'text/event-stream' }, resolved.headers),
    requestIdHeaders,
    toBody: (request) => toChatBody(resolved.model, request, compatibleDialect),
    createMapper: () => createChatStreamMapper({ provider: 'openai-compatible' }),
    embed: createOpenAiStyleEmbed({
      provider: 'openai-compatible',
      settings: resolved,
      headers,
      requestIdHeaders,
    }),
  });
}
