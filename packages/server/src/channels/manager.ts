import { createHash } from 'node:crypto';
import {
  type ButtonPress,
  ChannelListSchema,
  type ChannelRef,
  type ChannelSession,
  type Connector,
  type InboundMessage,
  type WebhookRequest,
  type WebhookResponse,
} from '@parley/core';
import type { Store, WorkspaceScope } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import type { RunManager } from '../runs/run-manager.ts';
import { approvalCallOf, decodeApproval } from './approvals.ts';
import { answerMessage, type ChannelTarget, endUserOf } from './conversation.ts';
import { createListenLease } from './lease.ts';
import { withRetryAfter } from './reply-writer.ts';
import {
  type ChannelStatus,
  type ChannelStatusSnapshot,
  createStatus,
  pausedStatus,
} from './status.ts';

const SYSTEM = { actor: { type: 'system' as const } };
/** How long a delivery id is remembered: platforms redeliver within minutes, not days. */
const SEEN_WINDOW_MS = 24 * 60 * 60_000;
/** A listener that failed waits this long before it tries again. */
const RETRY_LISTEN_MS = 5_000;

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

interface OpenChannel {
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
  const keyOf = (t: ChannelTarget) => `${t.workspaceId}:${t.agentId}:${t.platform}`;

  /** The channels a workspace's deployed agents list, with the secrets they name. */
  async function wanted(ws: WorkspaceScope) {
    const found: { target: ChannelTarget; ref: ChannelRef; token?: string; signing?: string }[] =
      [];
    for (const agent of await ws.agents.list()) {
      if (!agent.currentVersion) continue;
      const version = await ws.agents.getVersion(agent.id);
      const parsed = ChannelListSchema.safeParse(version?.definition?.channels ?? []);
      if (!parsed.success) continue;
      for (const ref of parsed.data) {
        const reveal = async (name: string | undefined) =>
          name && (await ws.secrets.get(name))
            ? ws.secrets.reveal(name, { purpose: 'channel' })
            : undefined;
        found.push({
          target: { workspaceId: ws.workspaceId, agentId: agent.id, platform: ref.platform },
          ref,
          token: await reveal(ref.tokenSecret),
          signing: await reveal(ref.signingSecret),
        });
      }
    }
    return found;
  }

  async function reconcileNow(workspaceId: string) {
    const desired = await store.withWorkspace(workspaceId, wanted, SYSTEM);
    const keep = new Set<string>();
    for (const key of paused.keys()) if (key.startsWith(`${workspaceId}:`)) paused.delete(key);
    for (const want of desired) {
      const key = keyOf(want.target);
      if (want.ref.paused) {
        paused.set(key, pausedStatus(want.target, want.ref.mode));
        continue;
      }
      const fingerprint = createHash('sha256')
        .update(JSON.stringify([want.ref, want.token ?? null, want.signing ?? null]))
        .digest('hex');
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
      openChannel(key, want.target, want.ref, fingerprint, connector, want.token, want.signing);
      keep.add(key);
    }
    // Paused, or no longer listed: what the channel left with the platform goes too.
    for (const [key, channel] of open)
      if (channel.target.workspaceId === workspaceId && !keep.has(key))
        await close(key, { dropped: true });
  }

  function openChannel(
    key: string,
    target: ChannelTarget,
    ref: ChannelRef,
    fingerprint: string,
    connector: Connector,
    token: string,
    signingSecret: string | undefined,
  ) {
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
      receive: (message) => receive(open.get(key), message),
      press: (press) => pressed(open.get(key), press),
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
    open.set(key, {
      target,
      ref,
      fingerprint,
      session,
      controller,
      status,
      listening,
      listened: () => listened,
    });
  }

  /** Closes a channel; `dropped` (paused or removed): the connector forgets it too. */
  async function close(key: string, how: { dropped?: boolean } = {}) {
    const channel = open.get(key);
    if (!channel) return;
    open.delete(key);
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

  /** A delivery seen before anywhere in the cluster (platforms redeliver when unsure). */
  async function seenBefore(target: ChannelTarget, deliveryId: string): Promise<boolean> {
    const key = createHash('sha256')
      .update(`${keyOf(target)}:${deliveryId}`)
      .digest('base64url');
    const hit = await store.system.cluster.counters.hit(`channel-seen:${key}`, SEEN_WINDOW_MS);
    return hit.count > 1;
  }

  async function receive(channel: OpenChannel | undefined, message: InboundMessage) {
    if (!channel || stopped) return;
    if (await seenBefore(channel.target, message.deliveryId)) return;
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
    if (await seenBefore(channel.target, press.deliveryId)) return;
    channel.status.event();
    const output = channel.session.output;
    const notice = await decide(channel.target, press);
    await output.acknowledge?.(press, notice).catch(() => {});
    if (press.messageId && notice !== 'Only the person who asked can answer this.')
      await withRetryAfter(() =>
        output.edit(press, { id: press.messageId! }, output.format(notice)),
      ).catch(() => {});
  }

  /** Applies an approval button: only the person the run answers may decide it. */
  async function decide(target: ChannelTarget, press: ButtonPress): Promise<string> {
    const key = decodeApproval(press.data);
    if (!key) return 'This button is not Parley’s.';
    const live = options.runs().get(key.runId);
    const found = await store.withWorkspace(
      target.workspaceId,
      async (ws) => {
        const run = await ws.runs.get(key.runId);
        if (!run?.conversationId || run.agentId !== target.agentId) return undefined;
        const conversation = await ws.conversations.get(run.conversationId);
        const events = live?.events ?? (await ws.runs.listRunEvents(run.id, { limit: 10_000 }));
        return { userId: conversation?.userId, toolCallId: approvalCallOf(events, key.index) };
      },
      SYSTEM,
    );
    if (!found?.toolCallId) return 'This request is no longer waiting.';
    if (found.userId !== endUserOf(target.platform, press.userId))
      return 'Only the person who asked can answer this.';
    const taken = await options
      .runs()
      .decide(target.workspaceId, key.runId, found.toolCallId, key.decision);
    if (!taken) return 'This request is no longer waiting.';
    return key.decision === 'approved' ? '✅ Allowed.' : '❌ Denied.';
  }

  return {
    /** Opens and closes a workspace's channels to match its deployed agents (one at a time per workspace). */
    reconcile(workspaceId: string): Promise<void> {
      if (stopped) return Promise.resolve();
      const previous = reconciling.get(workspaceId) ?? Promise.resolve();
      const next = previous
        .then(() => reconcileNow(workspaceId))
        .catch((error: unknown) =>
          log.warn({ err: describe(error), workspaceId }, 'could not reconcile channels'),
        );
      reconciling.set(workspaceId, next);
      void next.finally(() => {
        if (reconciling.get(workspaceId) === next) reconciling.delete(workspaceId);
      });
      return next;
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
    async check(
      workspaceId: string,
      ref: Pick<ChannelRef, 'platform' | 'tokenSecret' | 'apiRoot'>,
    ): Promise<string | undefined> {
      const token = await store.withWorkspace(
        workspaceId,
        async (ws) =>
          (await ws.secrets.get(ref.tokenSecret))
            ? ws.secrets.reveal(ref.tokenSecret, { purpose: 'channel-check' })
            : undefined,
        SYSTEM,
      );
      const connector = options.connectors.get(ref.platform);
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
        fetch: options.fetch ?? globalThis.fetch,
        signal: controller.signal,
        receive: async () => {},
        press: async () => {},
        report: () => {},
      });
      return session.whoAmI();
    },

    async stop() {
      stopped = true;
      await Promise.all([...open.keys()].map((key) => close(key)));
    },
  };
}

export type ChannelManager = ReturnType<typeof createChannelManager>;

/** An error's message, for logs and status: never a request (its URL holds Telegram's token). */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
