import type { ModelRef, SecretDestinationPolicy } from '@parley/core';
import type { api } from '@parley/protocol';
import { DEFAULT_BASE_URLS } from '@parley/providers';
import type { z } from 'zod';
import { keySecretOf } from './models.ts';
import { modelDestinationRefusal } from './secret-destinations.ts';

export type KeyCheck = z.output<typeof api.KeyCheckResponseSchema>['checks'][number];

/** API roots with their version segment, as the adapters use them (docs/providers.md §2). */
const ANTHROPIC_VERSION = '2023-06-01';
const TIMEOUT_MS = 5_000;

export interface KeyCheckOptions {
  /** Gives up after this long (default 5 s): the answer is then `unreachable`. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * Where keys may go (default: single-user, no operator lists — https, or plain http to this
   * machine): a key is never sent where a run would not send it.
   */
  destinations?: SecretDestinationPolicy;
}

const SINGLE_USER: SecretDestinationPolicy = { multiUser: false, modelHosts: [], mcpHosts: [] };

/**
 * One cheap request with a model's key — `GET {baseURL}/models` (OpenRouter lists models to
 * anyone, so `GET {baseURL}/key` there) — and what it tells: the key is accepted, rejected,
 * rate limited, or the provider cannot be reached. The key goes only in the request's auth
 * header to the model's own host; redirects are not followed; the provider's answer body is
 * never returned (it may echo the key).
 */
export async function checkModelKey(
  ref: ModelRef,
  keys: ReadonlyMap<string, string>,
  options: KeyCheckOptions = {},
): Promise<KeyCheck> {
  const secret = keySecretOf(ref) ?? null;
  const base = { provider: ref.provider, model: ref.model, secret };
  if (ref.provider === 'scripted')
    return {
      ...base,
      host: null,
      result: 'not_needed',
      httpStatus: null,
      detail: 'The scripted demo plays its script offline and needs no key.',
    };
  const key = secret ? keys.get(secret) : undefined;
  if (secret && key === undefined)
    return {
      ...base,
      host: null,
      result: 'missing',
      httpStatus: null,
      detail: `The secret ${secret} is not set in this workspace.`,
    };
  const refusal = modelDestinationRefusal(ref, options.destinations ?? SINGLE_USER);
  if (refusal)
    return {
      ...base,
      host: null,
      result: 'refused',
      httpStatus: null,
      detail: `Not sent: ${refusal}.`,
    };
  const root = (ref.baseURL ?? DEFAULT_BASE_URLS[ref.provider] ?? '').replace(/\/+$/, '');
  const url = `${root}/${ref.provider === 'openrouter' ? 'key' : 'models'}`;
  const host = new URL(url).host;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key !== undefined) {
    if (ref.provider === 'anthropic') {
      headers['x-api-key'] = key;
      headers['anthropic-version'] = ANTHROPIC_VERSION;
    } else headers.authorization = `Bearer ${key}`;
  }
  const named = secret ?? 'the request without a key';
  let status: number;
  try {
    const response = await (options.fetch ?? fetch)(url, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS),
    });
    status = response.status;
    await response.body?.cancel().catch(() => undefined);
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${(options.timeoutMs ?? TIMEOUT_MS) / 1000} s`
        : (e.cause?.code ?? e.name);
    return {
      ...base,
      host,
      result: 'unreachable',
      httpStatus: null,
      detail: `Could not reach ${host} (${why}): runs from this server would fail the same way.`,
    };
  }
  const answered = { ...base, host, httpStatus: status };
  if (status >= 200 && status < 300)
    return {
      ...answered,
      result: 'ok',
      detail: secret ? `${host} accepted ${secret}.` : `${host} answers (no key needed).`,
    };
  if (status === 401 || status === 403)
    return {
      ...answered,
      result: 'rejected',
      detail: secret
        ? `${host} rejected ${secret} (HTTP ${status}): paste a valid key.`
        : `${host} wants a key (HTTP ${status}) and the model names none.`,
    };
  if (status === 429)
    return {
      ...answered,
      result: 'rate_limited',
      detail: `${host} is rate limiting ${named} (HTTP 429): the key may be fine; try again later.`,
    };
  return {
    ...answered,
    result: 'unexpected',
    detail:
      status >= 500
        ? `${host} is failing (HTTP ${status}); try again later.`
        : `${host} answered HTTP ${status} to GET ${new URL(url).pathname}: check the base URL (the API root with its version, e.g. …/v1).`,
  };
}
