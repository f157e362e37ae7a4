import type { ParleyError } from '@parley/protocol';
import { errorFromBodyText } from './error-body.ts';
import type { RequestSignal } from './request-signal.ts';
import { retryAfterFromHeaders } from './retry-after.ts';
import { transportError } from './transport-error.ts';

export interface PostJsonOptions {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** The attempt's signal (caller's abort + time limits). */
  request: RequestSignal;
  /** Called when the response headers arrive (time to first byte). */
  onHeaders?: () => void;
  /** Response headers that carry the provider's request id, first match wins. */
  requestIdHeaders?: readonly string[];
}

export type PostJsonResult =
  | { ok: true; response: Response; requestId: string | undefined }
  | { ok: false; error: ParleyError };

/**
 * POSTs JSON with plain `fetch` and classifies every failure: a thrown fetch (network, abort,
 * time limit) and an HTTP error status, whose body and headers (`retry-after`, request id,
 * `x-should-retry`) become a typed ParleyError. A 2xx response is returned unread.
 */
export async function postJson(options: PostJsonOptions): Promise<PostJsonResult> {
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: options.headers,
      body: JSON.stringify(options.body),
      signal: options.request.signal,
    });
  } catch (thrown) {
    return {
      ok: false,
      error: transportError(thrown, options.request, 'connect', options.provider),
    };
  }
  // The headers are the provider's first byte: from here on the stall limit applies.
  options.request.touch();
  options.onHeaders?.();
  const requestId = firstHeader(response.headers, options.requestIdHeaders ?? []);
  if (response.ok) return { ok: true, response, requestId };

  let text = '';
  try {
    text = await response.text();
  } catch (thrown) {
    if (options.request.reason)
      return {
        ok: false,
        error: transportError(thrown, options.request, 'body', options.provider),
      };
  }
  const retryAfter = retryAfterFromHeaders(response.headers);
  const shouldRetry = response.headers.get('x-should-retry')?.trim().toLowerCase();
  return {
    ok: false,
    error: errorFromBodyText(text, {
      provider: options.provider,
      status: response.status,
      ...(retryAfter ? { retryAfterMs: retryAfter.ms } : {}),
      ...(requestId ? { requestId } : {}),
      ...(shouldRetry === 'true' || shouldRetry === 'false'
        ? { shouldRetry: shouldRetry === 'true' }
        : {}),
    }),
  };
}

export function firstHeader(headers: Headers, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headers.get(name);
    if (value) return value;
  }
  return undefined;
}

/** Joins default and caller headers case-insensitively (the caller wins). */
export function mergeHeaders(
  ...sets: (Record<string, string | undefined> | undefined)[]
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const set of sets)
    for (const [name, value] of Object.entries(set ?? {}))
      if (value !== undefined) merged[name.toLowerCase()] = value;
  return merged;
}
