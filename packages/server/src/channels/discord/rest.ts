import { PlatformRateLimited } from '@parley/core';

/** Discord's REST API, version 10; `apiRoot` replaces it (a proxy, a test). */
export const DISCORD_API_ROOT = 'https://discord.com/api/v10';

export class DiscordError extends Error {
  readonly status: number;
  constructor(route: string, status: number, message: string) {
    super(`Discord ${route} failed (${status}): ${message}`);
    this.name = 'DiscordError';
    this.status = status;
  }
}

/**
 * Calls REST routes with the bot token (`Authorization: Bot <token>`). A 429 carries
 * `retry_after` in seconds (https://discord.com/developers/docs/topics/rate-limits).
 */
export function discordRest(
  token: string,
  apiRoot: string | undefined,
  fetch: typeof globalThis.fetch,
) {
  const root = (apiRoot ?? DISCORD_API_ROOT).replace(/\/+$/, '');
  return async function call<T>(method: string, route: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${root}${route}`, {
        method,
        headers: {
          authorization: `Bot ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new DiscordError(route, 0, 'unreachable');
    }
    if (response.status === 204) return undefined as T;
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 429)
      throw new PlatformRateLimited(Math.ceil(Number(answer.retry_after ?? 1) * 1000));
    if (!response.ok)
      throw new DiscordError(route, response.status, String(answer.message ?? 'no message'));
    return answer as T;
  };
}
export type DiscordCall = ReturnType<typeof discordRest>;
