import { PlatformRateLimited } from '@parley/core';

/** Slack's Web API; `apiRoot` replaces it (a proxy, a test). */
export const SLACK_API_ROOT = 'https://slack.com/api';

/** A Web API method that answered `ok: false` (https://api.slack.com/web#responses). */
export class SlackError extends Error {
  readonly method: string;
  readonly error: string;
  constructor(method: string, error: string) {
    super(`Slack ${method} failed: ${error}`);
    this.name = 'SlackError';
    this.method = method;
    this.error = error;
  }
}

/**
 * Calls Web API methods: POST JSON with the bot token as a bearer. Slack answers HTTP 200 with
 * `{ok: false, error}` for most failures, and HTTP 429 with a `Retry-After` header (seconds)
 * when rate limited (https://api.slack.com/docs/rate-limits).
 */
export function slackApi(
  token: string,
  apiRoot: string | undefined,
  fetch: typeof globalThis.fetch,
) {
  const root = (apiRoot ?? SLACK_API_ROOT).replace(/\/+$/, '');
  return async function call<T extends object>(
    method: string,
    body: Record<string, unknown> = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${root}/${method}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new SlackError(method, 'unreachable');
    }
    if (response.status === 429)
      throw new PlatformRateLimited(Number(response.headers.get('retry-after') ?? '1') * 1000);
    const answer = (await response
      .json()
      .catch(() => ({ ok: false, error: `http_${response.status}` }))) as {
      ok: boolean;
      error?: string;
    };
    if (!answer.ok) throw new SlackError(method, answer.error ?? 'unknown_error');
    return answer as T;
  };
}
export type SlackCall = ReturnType<typeof slackApi>;
