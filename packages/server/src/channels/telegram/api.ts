import { PlatformRateLimited } from '@parley/core';

/** The Bot API's own host; `apiRoot` replaces it (a self-hosted Bot API server, a test). */
export const TELEGRAM_API_ROOT = 'https://api.telegram.org';

/** A Bot API call that answered `ok: false` (the token never appears in it). */
export class TelegramError extends Error {
  readonly method: string;
  readonly status: number;
  constructor(method: string, status: number, description: string) {
    super(`Telegram ${method} failed (${status}): ${description}`);
    this.name = 'TelegramError';
    this.method = method;
    this.status = status;
  }
}

interface Answer {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

/**
 * Calls Bot API methods (https://core.telegram.org/bots/api#making-requests): POST JSON to
 * `<root>/bot<token>/<method>`, answered `{ok, result}` or `{ok: false, error_code,
 * description, parameters}`. A 429 becomes PlatformRateLimited with its `retry_after`.
 * The URL holds the token: it is never logged or put in an error.
 */
export function telegramApi(
  token: string,
  apiRoot: string | undefined,
  fetch: typeof globalThis.fetch,
) {
  const root = (apiRoot ?? TELEGRAM_API_ROOT).replace(/\/+$/, '');
  return async function call<T>(
    method: string,
    body: Record<string, unknown> = {},
    signal?: AbortSignal,
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${root}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      // fetch's own error may carry the URL in its cause: say what failed without it.
      throw new TelegramError(method, 0, 'the Bot API could not be reached');
    }
    const answer = (await response.json().catch(() => ({ ok: false }))) as Answer;
    if (answer.ok) return answer.result as T;
    const status = answer.error_code ?? response.status;
    if (status === 429) throw new PlatformRateLimited((answer.parameters?.retry_after ?? 1) * 1000);
    throw new TelegramError(method, status, answer.description ?? 'no description');
  };
}
export type TelegramCall = ReturnType<typeof telegramApi>;
