import { PROVIDER_CATALOGUE } from '../catalogue.ts';
import type { LanguageModel, ModelSettings } from '../model.ts';
import { createChatStreamMapper } from '../openai-chat/chat-stream-mapper.ts';
import { createOpenAiStyleEmbed } from '../shared/embeddings.ts';
import { mergeHeaders } from '../shared/http-post.ts';
import { resolveSettings } from '../shared/resolve-settings.ts';
import { createStreamingModel } from '../shared/streaming-model.ts';
import { toOpenRouterBody } from './convert-request.ts';
import { mapOpenRouterFinish } from './map-finish-reason.ts';
import { readOpenRouterReasoning } from './reasoning-details.ts';

export const OPENROUTER_BASE_URL = PROVIDER_CATALOGUE.openrouter.baseURL!;

/**
 * Attribution headers (OpenRouter "App Attribution"): `HTTP-Referer` is the app's URL and is
 * sent only when `appUrl` is set (there is no honest default); the title goes out under both
 * names clients use, the older `X-Title` and the current `X-OpenRouter-Title`.
 */
export function openRouterAttribution(settings: ModelSettings): Record<string, string | undefined> {
  const title = settings.appTitle ?? 'Parley';
  return { 'http-referer': settings.appUrl, 'x-title': title, 'x-openrouter-title': title };
}

/**
 * `provider: 'openrouter'`: Chat Completions at `POST {baseURL}/chat/completions` with
 * `Authorization: Bearer <apiKey>` and the attribution headers. Differences from OpenAI handled
 * here: `reasoning_details` (preferred over `reasoning`, kept for replay), `native_finish_reason`,
 * the trailing usage chunk with `finish_reason: null`, `usage.cost`, `: OPENROUTER PROCESSING`
 * comments (ignored by the SSE reader, never counted as a token).
 */
export function createOpenRouterModel(settings: ModelSettings): LanguageModel {
  const resolved = resolveSettings(settings, {
    baseURL: OPENROUTER_BASE_URL,
    requiresApiKey: true,
  });
  const headers = mergeHeaders(
    { authorization: `Bearer ${resolved.apiKey}`, 'content-type': 'application/json' },
    openRouterAttribution(settings),
    resolved.headers,
  );
  // OpenRouter returns the generation id (`gen-…`) as `X-Generation-Id` on all endpoints.
  const requestIdHeaders = ['x-generation-id', 'x-request-id'];
  return createStreamingModel({
    provider: 'openrouter',
    settings: resolved,
    url: `${resolved.baseURL}/chat/completions`,
    headers: mergeHeaders(headers, { accept: 'text/event-stream' }, resolved.headers),
    requestIdHeaders,
    toBody: (request) => toOpenRouterBody(resolved.model, request),
    createMapper: () =>
      createChatStreamMapper({
        provider: 'openrouter',
        readReasoning: readOpenRouterReasoning,
        mapFinish: mapOpenRouterFinish,
      }),
    embed: createOpenAiStyleEmbed({
      provider: 'openrouter',
      settings: resolved,
      headers,
      requestIdHeaders,
    }),
  });
}
