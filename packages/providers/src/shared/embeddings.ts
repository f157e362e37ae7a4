import { type ParleyError, streamError } from '@parley/protocol';
import { z } from 'zod';
import type { EmbedOptions, EmbedResult } from '../model.ts';
import { postJson } from './http-post.ts';
import { excerpt } from './json.ts';
import { ProviderError } from './provider-error.ts';
import { createRequestSignal } from './request-signal.ts';
import type { ResolvedSettings } from './resolve-settings.ts';
import { retryDelayMs, sleep } from './retry.ts';
import { transportError } from './transport-error.ts';

const EmbeddingsResponseSchema = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()), index: z.number().int().nullish() })),
  model: z.string().nullish(),
  usage: z.object({ prompt_tokens: z.number().nullish() }).nullish(),
});

export interface EmbeddingsConfig {
  provider: string;
  settings: ResolvedSettings;
  headers: Record<string, string>;
  requestIdHeaders: readonly string[];
}

/**
 * `embed(texts)` over an OpenAI-style `POST /embeddings` (OpenAI, OpenRouter, Ollama and other
 * compatible servers). Retryable failures are retried with the same policy as streams; a final
 * failure throws a ProviderError carrying the typed error.
 */
export function createOpenAiStyleEmbed(config: EmbeddingsConfig) {
  const { settings } = config;
  return async function embed(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    if (texts.length === 0) return { embeddings: [], model: settings.model, dimensions: 0 };
    for (let retry = 0; ; retry++) {
      const attempt = await embedOnce(texts, options);
      if (attempt.ok) return attempt.result;
      const { error } = attempt;
      const canRetry =
        error.retryable &&
        retry < settings.maxRetries &&
        (error.retryAfterMs ?? 0) <= 60_000 &&
        (await sleep(retryDelayMs(error, retry + 1), options.signal));
      if (!canRetry) throw new ProviderError(error);
    }
  };

  async function embedOnce(
    texts: string[],
    { signal, dimensions }: EmbedOptions,
  ): Promise<{ ok: true; result: EmbedResult } | { ok: false; error: ParleyError }> {
    const request = createRequestSignal(signal, {
      firstByteMs: settings.firstByteTimeoutMs,
      stallMs: settings.timeoutMs,
    });
    try {
      const posted = await postJson({
        provider: config.provider,
        url: `${settings.baseURL}/embeddings`,
        headers: config.headers,
        // `dimensions` shortens the vectors (OpenAI's text-embedding-3 models; others ignore or refuse it).
        body: {
          model: settings.model,
          input: texts,
          encoding_format: 'float',
          ...(dimensions ? { dimensions } : {}),
        },
        request,
        requestIdHeaders: config.requestIdHeaders,
      });
      if (!posted.ok) return { ok: false, error: posted.error };
      let text: string;
      try {
        text = await posted.response.text();
      } catch (thrown) {
        return {
          ok: false,
          error: transportError(thrown, request, 'body', config.provider),
        };
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return invalid(`the embeddings answer is not JSON: ${excerpt(text)}`);
      }
      const parsed = EmbeddingsResponseSchema.safeParse(json);
      if (!parsed.success) return invalid(`unexpected embeddings answer: ${excerpt(text)}`);
      const rows = parsed.data.data
        .map((row, position) => ({ index: row.index ?? position, embedding: row.embedding }))
        .sort((a, b) => a.index - b.index);
      if (rows.length !== texts.length)
        return invalid(`asked for ${texts.length} embeddings, got ${rows.length}`);
      const promptTokens = parsed.data.usage?.prompt_tokens;
      return {
        ok: true,
        result: {
          embeddings: rows.map((row) => row.embedding),
          model: parsed.data.model ?? settings.model,
          dimensions: rows[0]?.embedding.length ?? 0,
          ...(typeof promptTokens === 'number' ? { usage: { inputTokens: promptTokens } } : {}),
        },
      };
    } finally {
      request.dispose();
    }
  }

  function invalid(message: string): { ok: false; error: ParleyError } {
    return {
      ok: false,
      error: streamError('invalid_response', message, { provider: config.provider }),
    };
  }
}
