import { type StepEventPayload, streamError } from '@parley/protocol';
import type {
  EmbedOptions,
  EmbedResult,
  LanguageModel,
  ModelRequest,
  ProviderName,
  StreamOptions,
} from '../model.ts';
import { runAttempts } from './attempts.ts';
import type { ResolvedSettings } from './resolve-settings.ts';
import type { StreamMapper } from './stream-mapper.ts';
import { streamStep } from './stream-step.ts';

export interface StreamingModelConfig {
  provider: ProviderName;
  settings: ResolvedSettings;
  /** The streaming endpoint, e.g. `${baseURL}/chat/completions`. */
  url: string;
  headers: Record<string, string>;
  /** Response headers that carry the provider's request id. */
  requestIdHeaders: readonly string[];
  toBody: (request: ModelRequest) => unknown;
  createMapper: () => StreamMapper;
  embed?: (texts: string[], options?: EmbedOptions) => Promise<EmbedResult>;
}

/** A LanguageModel over an SSE endpoint: retries before the first token, one step per call. */
export function createStreamingModel(config: StreamingModelConfig): LanguageModel {
  const { provider, settings } = config;
  const model: LanguageModel = {
    provider,
    model: settings.model,
    stream(request: ModelRequest, options: StreamOptions = {}) {
      // The wait for the first byte is the step's, retries included (model.ts).
      const deadline = performance.now() + settings.firstByteTimeoutMs;
      const attempts = {
        provider,
        model: settings.model,
        stepIndex: options.stepIndex ?? 0,
        maxRetries: settings.maxRetries,
        signal: options.signal,
        deadline,
      };
      let body: unknown;
      try {
        body = config.toBody(request);
      } catch (thrown) {
        const message = thrown instanceof Error ? thrown.message : String(thrown);
        return runAttempts({ ...attempts, maxRetries: 0 }, () =>
          rejected(streamError('invalid_request', `cannot build the request: ${message}`)),
        );
      }
      return runAttempts(attempts, (context) =>
        streamStep(
          {
            provider,
            url: config.url,
            headers: config.headers,
            body,
            limits: {
              firstByteMs: Math.max(1, deadline - performance.now()),
              stepFirstByteMs: settings.firstByteTimeoutMs,
              stallMs: settings.timeoutMs,
            },
            requestIdHeaders: config.requestIdHeaders,
            createMapper: config.createMapper,
          },
          context,
        ),
      );
    },
  };
  if (config.embed) model.embed = config.embed;
  return model;
}

async function* rejected(error: ReturnType<typeof streamError>): AsyncGenerator<StepEventPayload> {
  yield {
    type: 'step.finish',
    finishReason: { unified: 'error' },
    timing: { durationMs: 0, retries: 0 },
    error,
  };
}
