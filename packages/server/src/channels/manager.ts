import { createHash } from 'node:crypto';
import type {
  ButtonPress,
  ChannelRef,
  Connector,
  InboundMessage,
  WebhookRequest,
  WebhookResponse,
} from '@parley/core';
import type { Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import type { RunManager } from '../runs/run-manager.ts';
import { decideApproval, NOT_YOURS } from './approval-press.ts';
import { checkChannelToken } from './check-token.ts';
import { answerMessage, type ChannelTarget } from './conversation.ts';
import { closeChannel, type OpenChannel, openChannel } from './open-channel.ts';
import { withRetryAfter } from './reply-writer.ts';
import { type ChannelStatusSnapshot, pausedStatus } from './status.ts';
import { fingerprintOf, wantedChannels } from './wanted.ts';

const SYSTEM = { actor: { type: 'system' as const } };
/** How long a delivery id is remembered: platforms redeliver within minutes, not days. */
const SEEN_WINDOW_MS = 24 * 60 * 60_000;

export interface ChannelManagerOptions {
  store: Store;
  runs: () => RunManager;
  log: FastifyBaseLogger;
  /** The connectors by platform (channels/registry.ts). */
  connectors: ReadonlyMap<string, Connector>;
  /** The server's public URL (PARLEY_PUBLIC_URL): where platforms call webhooks. */
  publicUrl?: string;
  /** How long a listener's cluster lease lasts without renewal (default 15 s). */
  leaseMs?: number;
  /** Overrides the platforms' least time between edits (tests). */
  editIntervalMs?: number;
  /** How connectors reach the platforms (multi-user: public addresses only). Default: fetch. */
  fetch?: typeof fetch;
}

const keyOf = (t: ChannelTarget) => `${t.workspaceId}:${t.agentId}:${t.platform}`;

/** A delivery seen before anywhere in the cluster (platforms redeliver when unsure). */
async function seenBefore(store: Store, channelKey: string, deliveryId: string) {
  const key = createHash('sha256').update(`${channelKey}:${deliveryId}`).digest('base64url');
  const hit = await store.system.cluster.counters.hit(`channel-seen:${key}`, SEEN_WINDOW_MS);
  return hit.count > 1;
}

/** Runs `work` after the previous work of the same key has ended (one at a time per key). */
function oneAtATime(chains: Map<string, Promise<void>>, key: string, work: () => Promise<void>) {
  const next = (chains.get(key) ?? Promise.resolve()).then(work);
  chains.set(key, next);
  void next.finally(() => {
    if (chains.get(key) === next) chains.delete(key);
  });
  return next;
}

/** The path a channel's webhook is called on. */
export const webhookPath = (target: ChannelTarget) =>
  `/v1/channels/${target.workspaceId}/${target.agentId}/${target.platform}/webhook`;

/**
 * Starts and stops the agents' channels (docs/channels.md): reconciling a workspace opens the
 * channels its deployed agents list and closes the ones they no longer list. Every instance
 * opens every channel (a webhook lands anywhere); one instance of the cluster at a time
 * listens (polling, gateway) through a lease.
 */
export function createChannelManager(options: ChannelManagerOptions) {
  const { store, log } = options;
  const open = new Map<string, OpenChannel>();
  /** Channels whose entry says `paused`, by key: listed, not opened. */
  const paused = new Map<string, ChannelStatusSnapshot>();
  const reconciling = new Map<string, Promise<void>>();
  let stopped = false;

  async function reconcileNow(workspaceId: string) {
    const desired = await store.withWorkspace(workspaceId, wantedChannels, SYSTEM);
    const keep = new Set<string>();
    for (const key of paused.keys()) if (key.startsWith(`${workspaceId}:`)) paused.delete(key);
    for (const want of desired) {
      const key = keyOf(want.target);
      if (want.ref.paused) {
        paused.set(key, pausedStatus(want.target, want.ref.mode));
        continue;
      }
      const fingerprint = fingerprintOf(want);
      const current = open.get(key);
      if (current?.fingerprint === fingerprint) {
        keep.add(key);
        continue;
      }
      if (current) await close(key);
      const connector = options.connectors.get(want.ref.platform);
      if (!connector?.open) {
        log.warn({ platform: want.ref.platform }, 'no connector for this platform yet');
        continue;
      }
      if (!want.token) {
        log.warn(
          { platform: want.ref.platform, secret: want.ref.tokenSecret },
          'a channel’s token secret is not set: the channel stays closed',
        );
        continue;
      }
      const channel = { key, target: want.target, ref: want.ref, fingerprint, connector };
      const opened = openChannel(
        options,
        { ...channel, token: want.token, signingSecret: want.signing },
        {
          receive: (message) => receive(open.get(key), message),
          press: (press) => pressed(open.get(key), press),
        },
      );
      open.set(key, opened);
      keep.add(key);
    }
    // Paused, or no longer listed: what the channel left with the platform goes too.
    for (const [key, channel] of open)
      if (channel.target.workspaceId === workspaceId && !keep.has(key))
        await close(key, { dropped: true });
  }

  /** Closes a channel; `dropped` (paused or removed): the connector forgets it too. */
  async function close(key: string, how: { dropped?: boolean } = {}) {
    const channel = open.get(key);
    if (!channel) return;
    open.delete(key);
    await closeChannel(channel, log, how);
  }

  async function receive(channel: OpenChannel | undefined, message: InboundMessage) {
    if (!channel || stopped) return;
    if (await seenBefore(store, keyOf(channel.target), message.deliveryId)) return;
    channel.status.event();
    if (!message.direct && !message.addressed && channel.ref.mentionsOnly) return;
    if (message.text.trim() === '') return;
    // The platform is not kept waiting for the answer (Slack retries after 3 s).
    const output =
      options.editIntervalMs === undefined
        ? channel.session.output
        : { ...channel.session.output, editIntervalMs: options.editIntervalMs };
    void answerMessage({ runs: options.runs(), log }, channel.target, output, message).catch(
      (error: unknown) => {
        channel.status.report({ state: 'error', error: describe(error) });
        log.warn({ err: describe(error), platform: channel.target.platform }, 'an answer failed');
      },
    );
  }

  async function pressed(channel: OpenChannel | undefined, press: ButtonPress) {
    if (!channel || stopped) return;
    if (await seenBefore(store, keyOf(channel.target), press.deliveryId)) return;
    channel.status.event();
    const output = channel.session.output;
    const notice = await decideApproval(options, channel.target, press);
    await output.acknowledge?.(press, notice).catch(() => {});
    if (press.messageId && notice !== NOT_YOURS)
      await withRetryAfter(() =>
        output.edit(press, { id: press.messageId! }, output.format(notice)),
      ).catch(() => {});
  }

  return {
    /** Opens and closes a workspace's channels to match its deployed agents (one at a time per workspace). */
    reconcile(workspaceId: string): Promise<void> {
      if (stopped) return Promise.resolve();
      return oneAtATime(reconciling, workspaceId, () =>
        reconcileNow(workspaceId).catch((error: unknown) =>
          log.warn({ err: describe(error), workspaceId }, 'could not reconcile channels'),
        ),
      );
    },

    /** A webhook call for a channel; 404 when this instance has it not open (after one reconcile). */
    async webhook(target: ChannelTarget, request: WebhookRequest): Promise<WebhookResponse> {
      let channel = open.get(keyOf(target));
      if (!channel) {
        await this.reconcile(target.workspaceId);
        channel = open.get(keyOf(target));
      }
      if (!channel?.session.webhook) return { status: 404 };
      return channel.session.webhook(request);
    },

    /** Opens the channels of every workspace whose deployed agents list any (at start). */
    async startAll(): Promise<void> {
      const workspaces = await store.system.channels.listWorkspaces().catch((error: unknown) => {
        log.error({ err: describe(error) }, 'could not list the workspaces with channels');
        return [];
      });
      await Promise.all(workspaces.map((id) => this.reconcile(id)));
    },

    /** The channels open here, and the paused ones, in a workspace. */
    statuses(workspaceId: string): ChannelStatusSnapshot[] {
      const here = [...open.values()]
        .filter((c) => c.target.workspaceId === workspaceId)
        .map((c) => c.status.snapshot());
      const resting = [...paused.entries()]
        .filter(([key]) => key.startsWith(`${workspaceId}:`))
        .map(([, status]) => status);
      return [...here, ...resting];
    },

    /**
     * Asks the platform who the token in `tokenSecret` is (getMe, auth.test, users/@me);
     * undefined when the secret is not set. Rejects with the platform's refusal.
     */
    check: (workspaceId: string, ref: Pick<ChannelRef, 'platform' | 'tokenSecret' | 'apiRoot'>) =>
      checkChannelToken(options, workspaceId, ref),

    async stop() {
      stopped = true;
      await Promise.all([...open.keys()].map((key) => close(key)));
    },
  };
}

export type ChannelManager = ReturnType<typeof createChannelManager>;

/** An error's message, for logs and status: never a request (its URL holds Telegram's token). */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
