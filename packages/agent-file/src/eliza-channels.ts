import type { ChannelRef } from '@parley/core';
import type { SecretToSet } from './eliza-import.ts';

type ChannelInput = Pick<ChannelRef, 'platform' | 'tokenSecret' | 'mode'> & {
  signingSecret?: string;
};

/**
 * What an ElizaOS client becomes (docs/channels.md): the platform, how it is heard, and the
 * secret names ElizaOS reads its credentials from (.env), used unless the character names
 * its own.
 */
const CLIENTS: Record<string, { channel: ChannelInput; token: RegExp; signing?: RegExp }> = {
  telegram: {
    channel: { platform: 'telegram', tokenSecret: 'TELEGRAM_BOT_TOKEN', mode: 'polling' },
    token: /^TELEGRAM_.*TOKEN$/,
  },
  discord: {
    channel: { platform: 'discord', tokenSecret: 'DISCORD_API_TOKEN', mode: 'gateway' },
    token: /^DISCORD_.*TOKEN$/,
  },
  slack: {
    channel: {
      platform: 'slack',
      tokenSecret: 'SLACK_BOT_TOKEN',
      signingSecret: 'SLACK_SIGNING_SECRET',
      mode: 'webhook',
    },
    token: /^SLACK_.*(BOT_)?TOKEN$/,
    signing: /^SLACK_SIGNING_SECRET$/,
  },
};

/**
 * The character's `clients` as `channels` entries. Secrets the character holds for them keep
 * their names (and `secretsToSet` says what they are for now); those it does not hold are
 * added to `secretsToSet` under ElizaOS's names. Clients Parley has no connector for are
 * named in a warning with the ones it has.
 */
export function elizaChannels(
  clients: readonly string[] | null | undefined,
  secretsToSet: SecretToSet[],
): { channels: ChannelInput[]; warnings: string[] } {
  const channels: ChannelInput[] = [];
  const unsupported: string[] = [];
  for (const client of new Set((clients ?? []).map((c) => c.toLowerCase()))) {
    const known = CLIENTS[client];
    if (!known) {
      unsupported.push(client);
      continue;
    }
    const index = channels.length;
    const tokenSecret = claim(secretsToSet, known.token, known.channel.tokenSecret, {
      what: `the ${client} bot's token (channels[${index}].tokenSecret)`,
    });
    const signingSecret = known.channel.signingSecret
      ? claim(secretsToSet, known.signing!, known.channel.signingSecret, {
          what: `the ${client} app's signing secret (channels[${index}].signingSecret)`,
        })
      : undefined;
    channels.push({ ...known.channel, tokenSecret, ...(signingSecret ? { signingSecret } : {}) });
  }
  const warnings: string[] = [];
  if (channels.length > 0)
    warnings.push(
      `ElizaOS clients became channels: ${channels.map((c) => `${c.platform} (${c.mode})`).join(', ')}; set their secrets and see docs/channels.md for the bot's settings`,
    );
  if (unsupported.length > 0)
    warnings.push(
      `ElizaOS clients (${unsupported.join(', ')}) were not imported: Parley has channels for ${Object.keys(CLIENTS).join(', ')}`,
    );
  return { channels, warnings };
}

/** The secret a channel reads: one the character holds (its reason rewritten), or ElizaOS's name. */
function claim(
  secretsToSet: SecretToSet[],
  pattern: RegExp,
  fallback: string,
  purpose: { what: string },
): string {
  const held = secretsToSet.find((secret) => pattern.test(secret.name));
  if (held) {
    const found = /found in .*$/.exec(held.reason)?.[0];
    held.reason = `${purpose.what}${found ? `; ${found}` : ''}`;
    return held.name;
  }
  secretsToSet.push({ name: fallback, reason: `${purpose.what}; not in the character file` });
  return fallback;
}
