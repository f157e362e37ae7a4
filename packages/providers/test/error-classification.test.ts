import { describe, expect, it } from 'vitest';
import { classifyProviderError } from '../src/shared/classify-error.ts';
import { errorFromBody } from '../src/shared/error-body.ts';
import { parseDuration, retryAfterFromHeaders } from '../src/shared/retry-after.ts';

describe('retry-after headers', () => {
  const now = Date.parse('2025-11-20T10:15:00Z');
  const read = (headers: Record<string, string>) =>
    retryAfterFromHeaders(new Headers(headers), now);

  it('prefers retry-after-ms, then retry-after (seconds or an HTTP date)', () => {
    expect(read({ 'retry-after-ms': '250.4', 'retry-after': '9' })).toEqual({
      ms: 250,
      source: 'retry-after-ms',
    });
    expect(read({ 'retry-after': '14' })).toEqual({ ms: 14_000, source: 'retry-after' });
    expect(read({ 'retry-after': 'Thu, 20 Nov 2025 10:15:05 GMT' })).toEqual({
      ms: 5000,
      source: 'retry-after',
    });
    expect(read({ 'retry-after': 'soon' })).toBeUndefined();
  });

  it('falls back to the reset of the exhausted OpenAI bucket', () => {
    expect(
      read({
        'x-ratelimit-remaining-requests': '4999',
        'x-ratelimit-reset-requests': '12ms',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '7.659s',
      }),
    ).toEqual({ ms: 7659, source: 'x-ratelimit-reset-tokens' });
    expect(
      read({ 'x-ratelimit-reset-requests': '6m0s', 'x-ratelimit-reset-tokens': '1s' }),
    ).toEqual({ ms: 360_000, source: 'x-ratelimit-reset-requests' });
  });

  it('falls back to the reset timestamp of an exhausted Anthropic bucket', () => {
    expect(
      read({
        'anthropic-ratelimit-input-tokens-remaining': '0',
        'anthropic-ratelimit-input-tokens-reset': '2025-11-20T10:15:14Z',
        'anthropic-ratelimit-requests-remaining': '10',
        'anthropic-ratelimit-requests-reset': '2025-11-20T10:16:00Z',
      }),
    ).toEqual({ ms: 14_000, source: 'anthropic-ratelimit-input-tokens-reset' });
  });

  it('parses Go-style durations', () => {
    expect(parseDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('12ms')).toBe(12);
    expect(parseDuration('later')).toBeUndefined();
  });
});

describe('provider errors → typed codes', () => {
  const code = (failure: Partial<Parameters<typeof classifyProviderError>[0]>) =>
    classifyProviderError({ provider: 'p', message: '', ...failure }).code;

  it.each([
    [{ status: 401, type: 'authentication_error' }, 'auth'],
    [{ status: 401, type: 'invalid_request_error', code: 'invalid_api_key' }, 'auth'],
    [{ status: 403, type: 'permission_error' }, 'permission'],
    [{ status: 404, type: 'not_found_error' }, 'model_not_found'],
    [{ status: 400, code: 'context_length_exceeded' }, 'context_length'],
    [
      { status: 400, type: 'invalid_request_error', message: 'prompt is too long: 9 > 8' },
      'context_length',
    ],
    [
      { status: 400, type: 'invalid_request_error', message: 'Your credit balance is too low' },
      'quota_exhausted',
    ],
    [{ status: 400, type: 'invalid_request_error' }, 'invalid_request'],
    [{ status: 402 }, 'quota_exhausted'],
    [{ status: 408 }, 'timeout'],
    [{ status: 429, type: 'tokens', code: 'rate_limit_exceeded' }, 'rate_limited'],
    [{ status: 429, type: 'insufficient_quota', code: 'insufficient_quota' }, 'quota_exhausted'],
    [{ status: 500, type: 'api_error' }, 'provider_error'],
    [{ status: 503, type: 'server_error' }, 'overloaded'],
    [{ status: 529, type: 'overloaded_error' }, 'overloaded'],
    [{ status: 504 }, 'timeout'],
    [{ type: 'overloaded_error' }, 'overloaded'],
    [{ type: 'server_error' }, 'provider_error'],
    [{ code: '502', provider: 'openrouter' }, 'overloaded'],
    [{ code: '429' }, 'rate_limited'],
    [{}, 'provider_error'],
  ] as const)('%j → %s', (failure, expected) => {
    expect(code(failure)).toBe(expected);
  });

  it('x-should-retry: false stops a retry; true never makes a quota error retryable', () => {
    expect(
      classifyProviderError({ provider: 'p', message: '', status: 500, shouldRetry: false })
        .retryable,
    ).toBe(false);
    expect(
      classifyProviderError({ provider: 'p', message: '', status: 402, shouldRetry: true })
        .retryable,
    ).toBe(false);
  });

  it('reads every error body shape and keeps OpenRouter upstream detail', () => {
    expect(
      errorFromBody(
        {
          error: {
            code: 502,
            message: 'Provider returned error',
            metadata: { raw: 'upstream timed out', provider_name: 'DeepInfra' },
          },
        },
        { provider: 'openrouter', status: 502 },
      ),
    ).toMatchObject({
      code: 'overloaded',
      providerCode: '502',
      message: 'Provider returned error (upstream DeepInfra: upstream timed out)',
    });
    expect(
      errorFromBody({ error: 'model is loading' }, { provider: 'p', status: 500 }),
    ).toMatchObject({
      code: 'provider_error',
      message: 'model is loading',
    });
    expect(
      errorFromBody(
        {
          type: 'error',
          error: { type: 'overloaded_error', message: 'Overloaded' },
          request_id: 'req_1',
        },
        { provider: 'anthropic' },
      ),
    ).toMatchObject({
      code: 'overloaded',
      providerCode: 'overloaded_error',
      providerRequestId: 'req_1',
    });
  });
});
