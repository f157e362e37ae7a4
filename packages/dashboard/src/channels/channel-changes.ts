import type { ParleyClient } from '@parley/client';

/*
 * What the Channels view changes, through the same API calls as `parley channels`
 * (packages/cli/src/commands/channels.ts, docs/channels.md): every change is a deploy of the
 * agent with its `channels:` entry changed.
 */

export const PLATFORMS = ['telegram', 'slack', 'discord'] as const;
export type Platform = (typeof PLATFORMS)[number];
export type Mode = 'polling' | 'webhook' | 'gateway';

/** How each platform is heard unless the form says otherwise (as the CLI's defaults). */
export const DEFAULT_MODE: Record<Platform, Mode> = {
  telegram: 'polling',
  slack: 'webhook',
  discord: 'gateway',
};
export const MODES: Record<Platform, Mode[]> = {
  telegram: ['polling', 'webhook'],
  slack: ['webhook'],
  discord: ['gateway', 'webhook'],
};
export const DEFAULT_SECRET: Record<Platform, string> = {
  telegram: 'TELEGRAM_BOT_TOKEN',
  slack: 'SLACK_BOT_TOKEN',
  discord: 'DISCORD_BOT_TOKEN',
};

type Entry = Record<string, unknown> & { platform: string };

/** Deploys the agent's current definition with its channels changed by `change`. */
async function redeploy(
  api: ParleyClient,
  workspaceId: string,
  agentId: string,
  note: string,
  change: (channels: Entry[]) => Entry[],
) {
  const { agent, version } = await api.agents.get(workspaceId, agentId);
  if (!version) throw new Error(`${agent.name} has no deployed version: deploy it first.`);
  const definition = version.definition as Record<string, unknown>;
  const channels = change(((definition.channels as Entry[] | undefined) ?? []).slice());
  const deployed = await api.agents.deploy(workspaceId, agent.id, {
    definition: { ...definition, channels },
    note,
  });
  return deployed.version.version;
}

/** Pauses (or resumes) an agent's channel: the entry's `paused: true`, deployed. */
export function setPaused(
  api: ParleyClient,
  workspaceId: string,
  agentId: string,
  platform: string,
  paused: boolean,
) {
  const action = paused ? 'pause' : 'resume';
  return redeploy(api, workspaceId, agentId, `channels: ${action} ${platform}`, (channels) =>
    channels.map((c) => {
      if (c.platform !== platform) return c;
      const { paused: _, ...rest } = c;
      return paused ? { ...rest, paused: true } : rest;
    }),
  );
}

export interface Connection {
  agentId: string;
  platform: Platform;
  mode: Mode;
  tokenSecret: string;
  /** Empty: keep the value the secret already holds. */
  token: string;
  /** Slack only: the secret holding the app's signing secret, and its value (empty: keep). */
  signingSecret?: string;
  signingValue?: string;
  /** A self-hosted Bot API server, for example. */
  apiRoot?: string;
}

/**
 * Stores the token (write-only), asks the platform who it is, and only then deploys the
 * agent with the channel; returns the bot's name and the version deployed.
 */
export async function connect(api: ParleyClient, workspaceId: string, c: Connection) {
  if (c.token) await api.secrets.put(workspaceId, c.tokenSecret, c.token);
  if (c.signingSecret && c.signingValue)
    await api.secrets.put(workspaceId, c.signingSecret, c.signingValue);
  const apiRoot = c.apiRoot ? { apiRoot: c.apiRoot } : {};
  const checked = await api.channels.check(workspaceId, {
    platform: c.platform,
    tokenSecret: c.tokenSecret,
    ...apiRoot,
  });
  const entry: Entry = {
    platform: c.platform,
    tokenSecret: c.tokenSecret,
    mode: c.mode,
    ...(c.signingSecret ? { signingSecret: c.signingSecret } : {}),
    ...apiRoot,
  };
  const version = await redeploy(
    api,
    workspaceId,
    c.agentId,
    `channels: connect ${c.platform}`,
    (channels) => [...channels.filter((e) => e.platform !== c.platform), entry],
  );
  return { bot: checked.bot, version };
}
