import type { LanguageModel, ModelSettings } from '../model.ts';
import { OPENAI_BASE_URL } from '../openai-chat/openai-chat-model.ts';
import { createOpenAiStyleEmbed } from '../shared/embeddings.ts';
import { mergeHeaders } from '../shared/http-post.ts';
import { resolveSettings } from '../shared/resolve-settings.ts';
import { createStreamingModel } from '../shared/streaming-model.ts';
import { toResponsesBody } from './convert-request.ts';
import { createResponsesStreamMapper } from './responses-stream-mapper.ts';

/**
 * `provider: 'openai-responses'`: the Responses API at `POST {baseURL}/responses` with
 * `Authorization: Bearer <apiKey>`; embeddings at `POST {baseURL}/embeddings`.
 */
export function createOpenAIResponsesModel(settings: ModelSettings): LanguageModel {
  const resolved = resolveSettings(settings, { baseURL: OPENAI_BASE_URL, requiresApiKey: true });
  const headers = mergeHeaders(
    { authorization: `Bearer ${resolved.apiKey}`, 'content-type': 'application/json' },
    resolved.headers,
  );
  const requestIdHeaders = ['x-request-id'];
  return createStreamingModel({
    provider: 'openai-responses',
    settings: resolved,
    url: `${resolved.baseURL}/responses`,
    headers: mergeHeaders(headers, { accept: 'text/event-stream' }, resolved.headers),
    requestIdHeaders,
    toBody: (request) => toResponsesBody(resolved.model, request),
    createMapper: () => createResponsesStreamMapper(),
    embed: createOpenAiStyleEmbed({
      provider: 'openai-responses',
      settings: resolved,
      headers,
      requestIdHeaders,
    }),
  });
}
