import { PROVIDER_CATALOGUE } from '../catalogue.ts';
import type { LanguageModel, ModelSettings } from '../model.ts';
import { createOpenAiStyleEmbed } from '../shared/embeddings.ts';
import { mergeHeaders } from '../shared/http-post.ts';
import { resolveSettings } from '../shared/resolve-settings.ts';
import { createStreamingModel } from '../shared/streaming-model.ts';
import { createChatStreamMapper } from './chat-stream-mapper.ts';
import { type ChatDialect, effortReasoning, toChatBody } from './convert-request.ts';

export const OPENAI_BASE_URL = PROVIDER_CATALOGUE.openai.baseURL!;

const openAiDialect: ChatDialect = {
  maxTokensField: 'max_completion_tokens',
  reasoning: effortReasoning,
};

/**
 * OpenAI Chat Completions (`provider: 'openai'`): `POST {baseURL}/chat/completions` with
 * `Authorization: Bearer <apiKey>`, streamed; embeddings at `POST {baseURL}/embeddings`.
 */
export function createOpenAIChatModel(settings: ModelSettings): LanguageModel {
  const resolved = resolveSettings(settings, { baseURL: OPENAI_BASE_URL, requiresApiKey: true });
  const headers = mergeHeaders(
    { authorization: `Bearer ${resolved.apiKey}`, 'content-type': 'application/json' },
    resolved.headers,
  );
  const requestIdHeaders = ['x-request-id'];
  return createStreamingModel({
    provider: 'openai',
    settings: resolved,
    url: `${resolved.baseURL}/chat/completions`,
    headers: mergeHeaders(headers, { accept: 'text/event-stream' }, resolved.headers),
    requestIdHeaders,
    toBody: (request) => toChatBody(resolved.model, request, openAiDialect),
    createMapper: () => createChatStreamMapper({ provider: 'openai' }),
    embed: createOpenAiStyleEmbed({
      provider: 'openai',
      settings: resolved,
      headers,
      requestIdHeaders,
    }),
  });
}
