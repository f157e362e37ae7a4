import type { ParleyError } from '@parley/protocol';
import { classifyProviderError } from './classify-error.ts';
import { codeOf, excerpt, isRecord, parseJson, stringOf } from './json.ts';

export interface ErrorBodyContext {
  provider: string;
  status?: number;
  retryAfterMs?: number;
  requestId?: string;
  shouldRetry?: boolean;
}

/**
 * Classifies an error body of any of the shapes providers use:
 * OpenAI / Ollama `{"error": {"message", "type", "param", "code"}}`, Anthropic
 * `{"type": "error", "error": {"type", "message"}, "request_id"}` (with `error.details.error_code`
 * for spend limits), OpenRouter `{"error": {"code": 429, "message", "metadata": {"raw",
 * "provider_name"}}}`, and a bare `{"error": "text"}`. The upstream detail of OpenRouter goes
 * into the message because its own message is often just "Provider returned error".
 */
export function errorFromBody(body: unknown, context: ErrorBodyContext): ParleyError {
  const inner = isRecord(body) && isRecord(body.error) ? body.error : isRecord(body) ? body : {};
  let message =
    stringOf(inner.message) ??
    (isRecord(body) ? stringOf(body.error) : undefined) ??
    (context.status ? `HTTP ${context.status}` : 'the provider reported an error');
  const metadata = isRecord(inner.metadata) ? inner.metadata : undefined;
  const upstream = stringOf(metadata?.provider_name);
  const upstreamDetail = stringOf(metadata?.raw);
  if (upstream || upstreamDetail)
    message += ` (upstream ${[upstream, upstreamDetail].filter(Boolean).join(': ')})`;
  const details = isRecord(inner.details) ? inner.details : undefined;
  const requestId =
    context.requestId ?? (isRecord(body) ? stringOf(body.request_id) : undefined) ?? undefined;
  const type = stringOf(inner.type) === 'error' ? undefined : stringOf(inner.type);
  return classifyProviderError({
    provider: context.provider,
    ...(context.status === undefined ? {} : { status: context.status }),
    ...(type ? { type } : {}),
    ...withCode(codeOf(details?.error_code) ?? codeOf(inner.code)),
    message,
    ...(context.retryAfterMs === undefined ? {} : { retryAfterMs: context.retryAfterMs }),
    ...(requestId ? { requestId } : {}),
    ...(context.shouldRetry === undefined ? {} : { shouldRetry: context.shouldRetry }),
  });
}

const withCode = (code: string | undefined) => (code ? { code } : {});

/** Classifies a body given as text; a body that is not JSON is quoted in the message. */
export function errorFromBodyText(text: string, context: ErrorBodyContext): ParleyError {
  const parsed = parseJson(text);
  if (parsed.ok && isRecord(parsed.value)) return errorFromBody(parsed.value, context);
  return errorFromBody(
    { error: { message: text.trim() ? excerpt(text) : `HTTP ${context.status ?? '?'}` } },
    context,
  );
}
