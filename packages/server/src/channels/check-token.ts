import type { ChannelRef } from '@parley/core';
import type { ChannelManagerOptions } from './manager.ts';

/* `parley channels check`: who the platform says a token is, without opening the channel. */

const SYSTEM = { actor: { type: 'system' as const } };

/**
 * Asks the platform who the token in `tokenSecret` is (getMe, auth.test, users/@me);
 * undefined when the secret is not set. Rejects with the platform's refusal.
 */
export async function checkChannelToken(
  deps: Pick<ChannelManagerOptions, 'store' | 'connectors' | 'fetch'>,
  workspaceId: string,
  ref: Pick<ChannelRef, 'platform' | 'tokenSecret' | 'apiRoot'>,
): Promise<string | undefined> {
  const token = await deps.store.withWorkspace(
    workspaceId,
    async (ws) =>
      (await ws.secrets.get(ref.tokenSecret))
        ? ws.secrets.reveal(ref.tokenSecret, { purpose: 'channel-check' })
        : undefined,
    SYSTEM,
  );
  const connector = deps.connectors.get(ref.platform);
  if (!token || !connector?.open) return undefined;
  const controller = new AbortController();
  controller.abort();
  const session = connector.open({
    channel: {
      ...ref,
      mode: ref.platform === 'discord' ? 'gateway' : 'webhook',
      mentionsOnly: true,
    },
    token,
    fetch: deps.fetch ?? globalThis.fetch,
    signal: controller.signal,
    receive: async () => {},
    press: async () => {},
    report: () => {},
  });
  return session.whoAmI();
}
