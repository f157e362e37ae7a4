import type { LanguageModel, ModelSettings } from '../model.ts';
import { createChatStreamMapper } from '../openai-chat/chat-stream-mapper.ts';
import { createOpenAiStyleEmbed } from '../shared/embeddings.ts';
import { mergeHeaders } from '../shared/http-post.ts';
import { resolveSettings } from '../shared/resolve-settings.ts';
import { createStreamingModel } from '../shared/streaming-model.ts';
import { toCompatibleBody } from './convert-request.ts';

/** Ollama's OpenAI-compatible endpoint on its default port. */
export const OPENAI_COMPATIBLE_BASE_URL = 'http://127.0.0.1:11434/v1';

/**
 * `provider: 'openai-compatible'`: `POST {baseURL}/chat/completions`, with
 * `Authorization: Bearer <apiKey>` only when an apiKey is given (Ollama needs none). The wire
 * schemas and the finish-reason mapper are the Chat Completions ones (`openai-chat/`); the
 * differences these servers show are handled there: reasoning as `delta.reasoning` (Ollama) or
 * `delta.reasoning_content` (DeepSeek, vLLM), tool calls whose arguments arrive whole in one
 * chunk, usage chunks without token details.
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
    toBody: (request) => toCompatibleBody(resolved.model, request),
    createMapper: () => createChatStreamMapper({ provider: 'openai-compatible' }),
    embed: createOpenAiStyleEmbed({
      provider: 'openai-compatible',
      settings: resolved,
      headers,
      requestIdHeaders,
    }),
  });
}
