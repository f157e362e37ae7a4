import type {
  ButtonPress,
  ChannelRef,
  ChannelSession,
  Connector,
  InboundMessage,
} from '@parley/core';
import type { ChannelTarget } from './conversation.ts';
import { createListenLease } from './lease.ts';
import { type ChannelManagerOptions, describe, webhookPath } from './manager.ts';
import { type ChannelStatus, createStatus } from './status.ts';

/*
 * One channel opened: its connector's session (webhook URL, fetch, status reports) and its
 * cluster lease, which lets one instance at a time listen (polling, gateway); a listener that
 * fails reports it and tries again after RETRY_LISTEN_MS.
 */

/** A listener that failed waits this long before it tries again. */
const RETRY_LISTEN_MS = 5_000;

export interface OpenChannel {
  target: ChannelTarget;
  ref: ChannelRef;
  /** What the channel was opened with: a change (config, token) opens it anew. */
  fingerprint: string;
  session: ChannelSession;
  controller: AbortController;
  status: ChannelStatus;
  listening: Promise<void>;
  /** This instance held the channel's lease at some point (so it may have registered a webhook). */
  listened(): boolean;
}

export function openChannel(
  options: ChannelManagerOptions,
  channel: {
    key: string;
    target: ChannelTarget;
    ref: ChannelRef;
    fingerprint: string;
    connector: Connector;
    token: string;
    signingSecret: string | undefined;
  },
  on: {
    receive: (message: InboundMessage) => Promise<void>;
    press: (press: ButtonPress) => Promise<void>;
  },
): OpenChannel {
  const { key, target, ref, fingerprint, connector, token, signingSecret } = channel;
  const { store, log } = options;
  const controller = new AbortController();
  const status = createStatus(target, ref.mode);
  const session = connector.open!({
    channel: ref,
    token,
    fetch: options.fetch ?? globalThis.fetch,
    ...(signingSecret ? { signingSecret } : {}),
    ...(options.publicUrl
      ? { webhookUrl: new URL(webhookPath(target), options.publicUrl).toString() }
      : {}),
    signal: controller.signal,
    receive: on.receive,
    press: on.press,
    report: (update) => status.report(update),
  });
  let listened = false;
  const lease = createListenLease({
    store,
    key,
    leaseMs: options.leaseMs ?? 15_000,
    signal: controller.signal,
    onHeld: async (held) => {
      listened = true;
      status.listening(true);
      try {
        await session.listen(held);
      } catch (error) {
        status.report({ state: 'error', error: describe(error) });
        log.warn(
          { err: describe(error), platform: target.platform },
          'a channel stopped listening',
        );
        await new Promise((resolve) => setTimeout(resolve, RETRY_LISTEN_MS).unref());
      } finally {
        status.listening(false);
      }
    },
  });
  const listening = lease.run().catch((error: unknown) => {
    log.error({ err: describe(error) }, 'a channel lease failed');
  });
  return {
    target,
    ref,
    fingerprint,
    session,
    controller,
    status,
    listening,
    listened: () => listened,
  };
}

/** Stops a channel's session and lease; a dropped one (paused or removed) is forgotten by its platform. */
export async function closeChannel(
  channel: OpenChannel,
  log: ChannelManagerOptions['log'],
  how: { dropped?: boolean },
): Promise<void> {
  channel.controller.abort();
  await channel.listening;
  if (!how.dropped || !channel.listened() || !channel.session.forget) return;
  await channel.session.forget().catch((error: unknown) => {
    log.warn(
      { err: describe(error), platform: channel.target.platform },
      'a dropped channel could not be forgotten by its platform',
    );
  });
}
