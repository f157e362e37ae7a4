import {
  type ParleyError,
  STREAM_ERROR_CODES,
  type StreamErrorCode,
  streamError,
} from '@parley/protocol';

/** What a provider told us about a failure, before or inside the stream. */
export interface ProviderFailure {
  provider: string;
  /** HTTP status; absent for an error that arrived inside a 200 stream. */
  status?: number;
  /** The provider's error type (`rate_limit_error`, `server_error`, `insufficient_quota`). */
  type?: string;
  /** The provider's error code (`insufficient_quota`, `context_length_exceeded`, OpenRouter `429`). */
  code?: string;
  message: string;
  retryAfterMs?: number;
  requestId?: string;
  /** Stainless SDKs obey `x-should-retry: true|false` over their own rules. */
  shouldRetry?: boolean;
}

// Provider type/code names → Parley codes. Sources: OpenAI error codes guide, Anthropic
// "Errors" page (status/type table), OpenRouter "Errors", Ollama `openai.NewError`.
const NAMED_CODES: Record<string, StreamErrorCode> = {
  insufficient_quota: 'quota_exhausted',
  billing_error: 'quota_exhausted',
  billing_hard_limit_reached: 'quota_exhausted',
  enforced_spend_limit_reached: 'quota_exhausted',
  context_length_exceeded: 'context_length',
  string_above_max_length: 'context_length',
  rate_limit_exceeded: 'rate_limited',
  rate_limit_error: 'rate_limited',
  overloaded_error: 'overloaded',
  server_overloaded: 'overloaded',
  engine_overloaded: 'overloaded',
  slow_down: 'overloaded',
  authentication_error: 'auth',
  invalid_api_key: 'auth',
  permission_error: 'permission',
  unsupported_country_region_territory: 'permission',
  not_found_error: 'model_not_found',
  model_not_found: 'model_not_found',
  content_filter: 'content_filter',
  content_policy_violation: 'content_filter',
  timeout_error: 'timeout',
  request_too_large: 'invalid_request',
  invalid_request_error: 'invalid_request',
  invalid_prompt: 'invalid_request',
  server_error: 'provider_error',
  api_error: 'provider_error',
  internal_error: 'provider_error',
};

const CONTEXT_TOO_LONG =
  /context length|context window|prompt is too long|maximum context|too many input tokens|reduce the length/i;
// Anthropic reports an exhausted org/workspace spend limit or balance as a 400 or 429.
const OUT_OF_CREDIT = /credit balance|spend limit|insufficient credits|billing/i;

function codeFromStatus(status: number, provider: string): StreamErrorCode {
  if (status === 401) return 'auth';
  if (status === 402) return 'quota_exhausted';
  if (status === 403) return 'permission';
  if (status === 404) return 'model_not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 429) return 'rate_limited';
  // OpenRouter: 502 "model down or invalid upstream response", 503 "no provider available".
  if (status === 503 || status === 529 || (status === 502 && provider === 'openrouter'))
    return 'overloaded';
  if (status >= 500 || status === 409) return 'provider_error';
  return 'invalid_request';
}

function classify(failure: ProviderFailure): StreamErrorCode {
  const { status, message } = failure;
  const byCode = failure.code ? NAMED_CODES[lower(failure.code)] : undefined;
  const byType = failure.type ? NAMED_CODES[lower(failure.type)] : undefined;
  const requestProblem = status === 400 || status === 413 || byType === 'invalid_request';

  if (byCode === 'quota_exhausted' || byType === 'quota_exhausted') return 'quota_exhausted';
  if (byCode === 'context_length' || (requestProblem && CONTEXT_TOO_LONG.test(message)))
    return 'context_length';
  if ((status === 400 || status === 402 || status === 429) && OUT_OF_CREDIT.test(message))
    return 'quota_exhausted';
  // OpenRouter 403: "your chosen model requires moderation and your input was flagged".
  if (status === 403 && /moderation|flagged/i.test(message)) return 'content_filter';
  if (status === 503 || status === 529) return 'overloaded';
  // The code is the most specific (`invalid_api_key` under type `invalid_request_error`).
  if (byCode) return byCode;
  // These statuses say more than a generic type such as `invalid_request_error`.
  if (status !== undefined && [401, 402, 403, 404, 408, 429, 504].includes(status))
    return codeFromStatus(status, failure.provider);
  if (byType) return byType;
  // OpenRouter puts the HTTP status into `error.code`, also for errors inside a 200 stream.
  const numeric = failure.code !== undefined ? Number(failure.code) : Number.NaN;
  const effectiveStatus =
    status !== undefined && status >= 400
      ? status
      : numeric >= 400 && numeric < 600
        ? numeric
        : undefined;
  if (effectiveStatus !== undefined && effectiveStatus >= 400)
    return codeFromStatus(effectiveStatus, failure.provider);
  return 'provider_error';
}

const lower = (text: string) => text.toLowerCase();

/** Maps a provider failure to a typed, retry-classified ParleyError. */
export function classifyProviderError(failure: ProviderFailure): ParleyError {
  const code = classify(failure);
  const extra: Partial<ParleyError> = { provider: failure.provider };
  if (failure.status !== undefined) extra.httpStatus = failure.status;
  const providerCode = failure.code ?? failure.type;
  if (providerCode) extra.providerCode = providerCode;
  if (failure.requestId) extra.providerRequestId = failure.requestId;
  if (failure.retryAfterMs !== undefined) extra.retryAfterMs = failure.retryAfterMs;
  const error = streamError(code, failure.message, extra);
  // `x-should-retry: false` can stop a retry; `true` never makes a quota or auth error retryable.
  if (failure.shouldRetry === false) error.retryable = false;
  if (failure.shouldRetry === true && STREAM_ERROR_CODES[code].retryable) error.retryable = true;
  return error;
}
