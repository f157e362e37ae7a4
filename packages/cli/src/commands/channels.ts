import type { Command } from '../command.ts';
import { CliError, type Io, line, painter } from '../io.ts';
import { askSecret } from '../prompt.ts';
import { resolveTarget } from '../target.ts';

/*
 * `parley channels` (docs/channels.md): what the agents' chat channels are doing, connecting
 * one (the token stored as a secret and checked with the platform before the deploy), pausing
 * and resuming one. Every change is a deploy of the agent with its `channels:` entry changed.
 */

const PLATFORMS = ['telegram', 'slack', 'discord'] as const;
type Platform = (typeof PLATFORMS)[number];
/** How each platform is heard unless --mode says otherwise. */
const DEFAULT_MODE: Record<Platform, string> = {
  telegram: 'polling',
  slack: 'webhook',
  discord: 'gateway',
};
const DEFAULT_SECRET: Record<Platform, string> = {
  telegram: 'TELEGRAM_BOT_TOKEN',
  slack: 'SLACK_BOT_TOKEN',
  discord: 'DISCORD_BOT_TOKEN',
};

type Entry = Record<string, unknown> & { platform: string };
type Target = Awaited<ReturnType<typeof resolveTarget>>;

const USAGE =
  'parley channels [list] | check <platform> [--token-secret NAME] | connect <agent> <platform> [--token-secret NAME] [--signing-secret NAME] [--mode polling|webhook|gateway] [--api-root URL] | pause <agent> <platform> | resume <agent> <platform>';

function platformOf(value: string | undefined): Platform {
  if (!PLATFORMS.includes(value as Platform))
    throw new CliError(`Which platform? One of ${PLATFORMS.join(', ')}. Usage: ${USAGE}`, 2);
  return value as Platform;
}

/** Stores the token when the secret is not set yet (from a hidden prompt or stdin). */
async function ensureSecret(t: Target, io: Io, name: string, what: string) {
  const names = (await t.client.secrets.list(t.workspaceId)).map((s) => s.name);
  if (names.includes(name)) return;
  const value = await askSecret(io, `${what} (stored as ${name}):`);
  await t.client.secrets.put(t.workspaceId, name, value);
}

/** Deploys the agent with its channels changed by `change`. */
async function redeploy(
  t: Target,
  agentRef: string,
  note: string,
  change: (c: Entry[]) => Entry[],
) {
  const { agent, version } = await t.client.agents.get(t.workspaceId, agentRef);
  if (!version)
    throw new CliError(`${agent.name} has no deployed version: parley deploy first.`, 1);
  const definition = version.definition as Record<string, unknown>;
  const channels = change(((definition.channels as Entry[] | undefined) ?? []).slice());
  const deployed = await t.client.agents.deploy(t.workspaceId, agent.id, {
    definition: { ...definition, channels },
    note,
  });
  return { agent, version: deployed.version.version };
}

async function list(t: Target, io: Io, json: boolean) {
  const [channels, agents] = await Promise.all([
    t.client.channels.list(t.workspaceId),
    t.client.agents.list(t.workspaceId),
  ]);
  const names = new Map(agents.map((a) => [a.id, a.name]));
  const rows = channels.map((c) => ({ agent: names.get(c.agentId) ?? c.agentId, ...c }));
  if (json) return line(io, JSON.stringify(rows, null, 2));
  if (rows.length === 0) return line(io, painter(io).dim('(no channels)'));
  for (const r of rows)
    line(
      io,
      `${r.agent}  ${r.platform} (${r.mode})  ${r.state}${r.listening ? ', listening here' : ''}  last event ${r.lastEventAt ?? '-'}${r.lastError ? `  error: ${r.lastError}` : ''}`,
    );
}

export const channelsCommand: Command = {
  name: 'channels',
  summary: 'See, connect, pause and resume the agents’ chat channels (Telegram, Slack, Discord).',
  usage: USAGE,
  examples: [
    'parley channels',
    'parley channels connect support-bot telegram',
    'parley channels connect support-bot slack --signing-secret SLACK_SIGNING_SECRET',
    'parley channels pause support-bot telegram',
  ],
  options: {
    'token-secret': { type: 'string' },
    'signing-secret': { type: 'string' },
    mode: { type: 'string' },
    'api-root': { type: 'string' },
  },
  async run({ positionals, values }, io) {
    const [action = 'list', ...rest] = positionals;
    const t = await resolveTarget(values, io);
    if (action === 'list' || action === 'status')
      return void (await list(t, io, Boolean(values.json)));
    const apiRoot = values['api-root'] as string | undefined;
    if (action === 'check') {
      const platform = platformOf(rest[0]);
      const tokenSecret =
        (values['token-secret'] as string | undefined) ?? DEFAULT_SECRET[platform];
      const checked = await t.client.channels.check(t.workspaceId, {
        platform,
        tokenSecret,
        ...(apiRoot ? { apiRoot } : {}),
      });
      line(io, `${tokenSecret} is ${checked.bot} on ${platform}.`);
      return 0;
    }
    if (!['connect', 'pause', 'resume'].includes(action)) throw new CliError(`Usage: ${USAGE}`, 2);
    const agentRef = rest[0];
    if (!agentRef)
      throw new CliError(`Which agent? parley channels ${action} <agent> <platform>`, 2);
    const platform = platformOf(rest[1]);
    if (action === 'connect') {
      const tokenSecret =
        (values['token-secret'] as string | undefined) ?? DEFAULT_SECRET[platform];
      const signingSecret =
        (values['signing-secret'] as string | undefined) ??
        (platform === 'slack' ? 'SLACK_SIGNING_SECRET' : undefined);
      await ensureSecret(t, io, tokenSecret, `The ${platform} bot token`);
      if (signingSecret) await ensureSecret(t, io, signingSecret, `The ${platform} signing secret`);
      const checked = await t.client.channels.check(t.workspaceId, {
        platform,
        tokenSecret,
        ...(apiRoot ? { apiRoot } : {}),
      });
      const entry: Entry = {
        platform,
        tokenSecret,
        mode: (values.mode as string | undefined) ?? DEFAULT_MODE[platform],
        ...(signingSecret ? { signingSecret } : {}),
        ...(apiRoot ? { apiRoot } : {}),
      };
      const done = await redeploy(t, agentRef, `channels: connect ${platform}`, (channels) => [
        ...channels.filter((c) => c.platform !== platform),
        entry,
      ]);
      line(
        io,
        `${done.agent.name} answers on ${platform} as ${checked.bot} (deployed v${done.version}).`,
      );
      if (entry.mode === 'webhook' || platform === 'discord')
        line(
          io,
          painter(io).dim(
            `Webhook URL: ${t.client.baseUrl}/v1/channels/${t.workspaceId}/${done.agent.id}/${platform}/webhook`,
          ),
        );
      return 0;
    }
    const paused = action === 'pause';
    const done = await redeploy(t, agentRef, `channels: ${action} ${platform}`, (channels) => {
      const found = channels.find((c) => c.platform === platform);
      if (!found) throw new CliError(`${agentRef} has no ${platform} channel.`, 1);
      if (paused) found.paused = true;
      else delete found.paused;
      return channels;
    });
    line(
      io,
      `${done.agent.name}: ${platform} ${paused ? 'paused' : 'resumed'} (deployed v${done.version}).`,
    );
    return 0;
  },
};
