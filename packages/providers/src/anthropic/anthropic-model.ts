import { PROVIDER_CATALOGUE } from '../catalogue.ts';
import type { LanguageModel, ModelSettings } from '../model.ts';
import { mergeHeaders } from '../shared/http-post.ts';
import { resolveSettings } from '../shared/resolve-settings.ts';
import { createStreamingModel } from '../shared/streaming-model.ts';
import { createAnthropicStreamMapper } from './anthropic-stream-mapper.ts';
import { toAnthropicBody } from './convert-request.ts';

export const ANTHROPIC_BASE_URL = PROVIDER_CATALOGUE.anthropic.baseURL!;
/** The API version the official SDK sends by default. */
export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * `provider: 'anthropic'`: `POST {baseURL}/messages` with `x-api-key` and `anthropic-version`.
 * Anthropic has no embeddings endpoint, so this model has no `embed`.
 */
export function createAnthropicModel(settings: ModelSettings): LanguageModel {
  const resolved = resolveSettings(settings, { baseURL: ANTHROPIC_BASE_URL, requiresApiKey: true });
  return createStreamingModel({
    provider: 'anthropic',
    settings: resolved,
    url: `${resolved.baseURL}/messages`,
    headers: mergeHeaders(
      {
        'x-api-key': resolved.apiKey,
        'anthropic-version': ANTHROPIC_VERSION,
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      resolved.headers,
    ),
    requestIdHeaders: ['request-id', 'x-request-id'],
    toBody: (request) => toAnthropicBody(resolved.model, request),
    createMapper: () => createAnthropicStreamMapper(),
  });
}
