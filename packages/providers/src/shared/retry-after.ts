import type { HeaderReader } from './http-post.ts';

/** How long the provider asked us to wait, and which header said so. */
export interface RetryAfter {
  ms: number;
  source: string;
}

/**
 * Reads the provider's wait hint from response headers, in the order the official SDKs trust
 * them (openai-node / anthropic-sdk-typescript `client.ts`): `retry-after-ms`, then
 * `retry-after` (seconds or an HTTP date), then the rate-limit reset of the exhausted bucket:
 * OpenAI `x-ratelimit-reset-{requests,tokens}` (durations such as `12ms`, `7.659s`, `6m0s`) and
 * Anthropic `anthropic-ratelimit-*-reset` (RFC 3339 timestamps).
 */
export function retryAfterFromHeaders(
  headers: HeaderReader,
  now: number = Date.now(),
): RetryAfter | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms)) && Number(ms) >= 0 && ms.trim() !== '')
    return { ms: Math.round(Number(ms)), source: 'retry-after-ms' };

  const after = headers.get('retry-after')?.trim();
  if (after) {
    if (/^\d+(\.\d+)?$/.test(after))
      return { ms: Math.round(Number(after) * 1000), source: 'retry-after' };
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return { ms: Math.max(0, date - now), source: 'retry-after' };
  }

  return openAiReset(headers) ?? anthropicReset(headers, now);
}

/** `x-ratelimit-reset-tokens: 7.659s`: the bucket whose remaining count is 0, else the longest. */
function openAiReset(headers: HeaderReader): RetryAfter | undefined {
  let best: RetryAfter | undefined;
  for (const bucket of ['requests', 'tokens']) {
    const reset = headers.get(`x-ratelimit-reset-${bucket}`);
    const ms = reset === null ? undefined : parseDuration(reset);
    if (ms === undefined) continue;
    const exhausted = headers.get(`x-ratelimit-remaining-${bucket}`)?.trim() === '0';
    const candidate = { ms, source: `x-ratelimit-reset-${bucket}` };
    if (exhausted) return candidate;
    if (!best || ms > best.ms) best = candidate;
  }
  return best;
}

/** `anthropic-ratelimit-input-tokens-reset: 2025-11-20T10:15:14Z` of an exhausted bucket. */
function anthropicReset(headers: HeaderReader, now: number): RetryAfter | undefined {
  let best: RetryAfter | undefined;
  for (const bucket of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
    const name = `anthropic-ratelimit-${bucket}`;
    if (headers.get(`${name}-remaining`)?.trim() !== '0') continue;
    const at = Date.parse(headers.get(`${name}-reset`) ?? '');
    if (Number.isNaN(at)) continue;
    const ms = Math.max(0, at - now);
    if (!best || ms > best.ms) best = { ms, source: `${name}-reset` };
  }
  return best;
}

/** Go-style durations as OpenAI sends them: `12ms`, `7.659s`, `6m0s`, `1h2m3s`. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(trimmed)) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, value, , name] of trimmed.matchAll(/(\d+(\.\d+)?)(ms|h|m|s)/g))
    total += Number(value) * unit[name!]!;
  return Math.round(total);
}
