import {
  carriesContent,
  type FinishReason,
  type ParleyError,
  readSse,
  type StepEventPayload,
  streamError,
  type Usage,
} from '@parley/protocol';
import type { AttemptContext } from './attempts.ts';
import { errorFromBodyText } from './error-body.ts';
import { type ProviderResponse, postJson } from './http-post.ts';
import { excerpt, parseJson } from './json.ts';
import { createOpenParts } from './open-parts.ts';
import { createRequestSignal, type RequestLimits } from './request-signal.ts';
import { startStepTimer } from './step-timer.ts';
import type { StreamMapper, StreamOutcome } from './stream-mapper.ts';
import { transportError } from './transport-error.ts';

/** One streaming model call: where to send it and how to read the answer. */
export interface StepSpec {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** This attempt's limits (its first-byte limit is what is left of the step's). */
  limits: RequestLimits;
  requestIdHeaders: readonly string[];
  createMapper: () => StreamMapper;
}

/** Bytes kept from a body that turns out not to be an event stream, to quote in the error. */
const SNIFF_LIMIT = 16_384;

/**
 * Runs one attempt of a step: POSTs the request, reads the SSE answer through the provider's
 * mapper, and always ends with exactly one `step.finish`. Every failure becomes a typed error
 * there (never a throw): HTTP errors, network errors, cancellation, the time limit, a body that
 * is not an event stream, an event that is not JSON, and a stream that ends without a finish
 * reason (`truncated_stream`, with the partial output kept and open parts closed).
 */
export async function* streamStep(
  spec: StepSpec,
  context: AttemptContext,
): AsyncGenerator<StepEventPayload> {
  const timer = startStepTimer();
  const parts = createOpenParts();
  const refusalParts = new Set<string>();
  const request = createRequestSignal(context.signal, spec.limits);
  let requestId: string | undefined;
  /** The response body was read to its end (or released by a break out of the read). */
  let bodyDone = false;

  /** Closes what is still open, reports usage, and finishes the step. */
  function* finish(outcome: StreamOutcome): Generator<StepEventPayload> {
    const error =
      outcome.error ??
      (outcome.finishReason
        ? undefined
        : streamError('truncated_stream', 'the stream ended without a finish reason', {
            provider: spec.provider,
          }));
    yield* parts.closeAll(error ? `interrupted: ${error.code}` : 'the provider left it open');
    const providerRequestId = requestId ?? outcome.responseId;
    if (error && providerRequestId) error.providerRequestId ??= providerRequestId;
    const usage: Usage | undefined = outcome.usage;
    if (usage) yield { type: 'usage', usage };
    const finishReason: FinishReason = error
      ? { ...outcome.finishReason, unified: 'error' }
      : outcome.finishReason!;
    yield {
      type: 'step.finish',
      finishReason,
      ...(usage ? { usage } : {}),
      timing: timer.finish(usage?.outputTokens, context.retries),
      ...(providerRequestId ? { providerRequestId } : {}),
      ...(error ? { error } : {}),
    };
  }

  /** Tracks parts and the first content (`carriesContent`; keep-alives never get here). */
  const emit = (payload: StepEventPayload): StepEventPayload => {
    if (payload.type === 'text.start' && payload.kind === 'refusal')
      refusalParts.add(payload.partId);
    else if (carriesContent(payload)) timer.content(contentKind(payload, refusalParts));
    return parts.track(payload);
  };

  try {
    const posted = await postJson({
      provider: spec.provider,
      url: spec.url,
      headers: spec.headers,
      body: spec.body,
      request,
      onHeaders: () => timer.headers(),
      requestIdHeaders: spec.requestIdHeaders,
    });
    if (!posted.ok) return yield* finish({ error: posted.error });
    requestId = posted.requestId;
    const { response } = posted;

    const contentType = response.headers.get('content-type') ?? '';
    if (/json/i.test(contentType)) {
      // A 200 with JSON is a non-streaming answer or an error (OpenRouter: "any error occurred
      // while the LLM is producing the output will be emitted in the response body").
      return yield* finish({ error: await notAStream(response, contentType) });
    }

    const mapper = spec.createMapper();
    let failure: ParleyError | undefined;
    let messages = 0;
    let comments = 0;
    let sniffed = '';
    const decoder = new TextDecoder();
    /**
     * The body's chunks, each restarting the silence timer, the first ones kept to quote if the
     * body is not an event stream. An iterator, not a generator: no extra turn per chunk.
     */
    const sniff = (body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> => ({
      [Symbol.asyncIterator]() {
        const chunks = body[Symbol.asyncIterator]();
        return {
          next: () =>
            chunks.next().then((step) => {
              if (step.done) return step;
              request.touch();
              if (messages === 0 && comments === 0 && sniffed.length < SNIFF_LIMIT)
                sniffed += decoder.decode(step.value, { stream: true });
              return step;
            }),
          // Leaving early releases the body (the connection is reused or closed).
          return: async () => (await chunks.return?.()) ?? { done: true, value: undefined },
        };
      },
    });

    try {
      // Leaving this loop, by its end or a break, releases the body (the iterator's return
      // cancels it): nothing is left for dispose() to abort.
      for await (const message of readSse(sniff(response.body), { onComment: () => comments++ })) {
        messages++;
        // Chat Completions ends with `data: [DONE]`; other APIs never send it.
        if (message.data === '[DONE]') break;
        if (message.data.trim() === '') continue;
        const parsed = parseJson(message.data);
        if (!parsed.ok) {
          failure = streamError(
            'invalid_response',
            `the provider sent an event whose data is not JSON: ${excerpt(message.data)}`,
            { provider: spec.provider },
          );
          break;
        }
        for (const payload of mapper.push(message.event, parsed.value)) yield emit(payload);
        if (mapper.done) break;
      }
      bodyDone = true;
    } catch (thrown) {
      failure = transportError(thrown, request, 'body', spec.provider);
    }

    const outcome = mapper.end();
    // A connection lost after the finish reason (e.g. before the usage chunk or `[DONE]`)
    // did not lose any output: the step is complete.
    if (failure?.code === 'truncated_stream' && outcome.finishReason) failure = undefined;
    if (!failure && messages === 0 && comments === 0 && sniffed.trim() !== '')
      failure = notSseError(sniffed, contentType, spec.provider, response.status);
    return yield* finish(failure ? { ...outcome, error: outcome.error ?? failure } : outcome);
  } catch (unexpected) {
    // A bug in a mapper must still end the step with a typed error, not a rejection.
    return yield* finish({
      error: streamError(
        'internal',
        `the ${spec.provider} adapter failed: ${unexpected instanceof Error ? unexpected.message : String(unexpected)}`,
        { provider: spec.provider },
      ),
    });
  } finally {
    request.dispose(bodyDone);
  }

  async function notAStream(response: ProviderResponse, contentType: string): Promise<ParleyError> {
    let text = '';
    try {
      text = await response.text();
    } catch (thrown) {
      return transportError(thrown, request, 'body', spec.provider);
    }
    return notSseError(text, contentType, spec.provider, response.status);
  }
}

/** A 2xx body that is not an event stream: a provider error object, or an invalid response. */
function notSseError(
  text: string,
  contentType: string,
  provider: string,
  status: number,
): ParleyError {
  const parsed = parseJson(text);
  if (parsed.ok && typeof parsed.value === 'object' && parsed.value && 'error' in parsed.value)
    return errorFromBodyText(text, { provider, status });
  return streamError(
    'invalid_response',
    `expected an event stream but got ${contentType || 'no content type'}: ${excerpt(text) || '(empty body)'}`,
    { provider, httpStatus: status },
  );
}

/** Which kind of content a content-bearing payload is, for the step's timer. */
function contentKind(
  payload: StepEventPayload,
  refusalParts: ReadonlySet<string>,
): 'text' | 'refusal' | 'reasoning' | 'tool_call' {
  if (payload.type === 'text.delta') return refusalParts.has(payload.partId) ? 'refusal' : 'text';
  return payload.type === 'reasoning.delta' ? 'reasoning' : 'tool_call';
}
