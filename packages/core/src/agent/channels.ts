import { z } from 'zod';

/** The chat platforms Parley has a first-party connector for. */
export const CHANNEL_PLATFORMS = ['telegram', 'slack', 'discord'] as const;
export type ChannelPlatform = (typeof CHANNEL_PLATFORMS)[number];

/** How a connector hears its platform: it asks (polling), holds a socket (gateway), or is called (webhook). */
export const CHANNEL_MODES = ['polling', 'gateway', 'webhook'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

const secretName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'a workspace secret name in UPPER_SNAKE_CASE')
  .max(200);

/**
 * One place the agent answers (docs/channels.md): `platform`, the secret holding the bot's
 * token, and how the connector hears the platform. Moving an agent to another platform is a
 * change of this entry, nothing else.
 */
export const ChannelRefSchema = z
  .object({
    platform: z.enum(CHANNEL_PLATFORMS),
    /** The workspace secret holding the bot token (Telegram's, Slack's `xoxb-`, Discord's). */
    tokenSecret: secretName,
    mode: z.enum(CHANNEL_MODES),
    /**
     * The platform API's base URL: a self-hosted Telegram Bot API server, a proxy, a test's
     * stand-in. Default: the platform's own.
     */
    apiRoot: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * The secret that proves a webhook call came from the platform: Slack's signing secret,
     * Discord's application public key (hex). Telegram's is derived from the token.
     */
    signingSecret: secretName.optional(),
    /** In groups, answer only when mentioned or replied to (default); false answers every message. */
    mentionsOnly: z.boolean().default(true),
    /** Kept, but not connected (`parley channels pause`): the bot stops answering until resumed. */
    paused: z.boolean().optional(),
  })
  .strict()
  .refine((ref) => (ref.mode === 'gateway') === (ref.platform === 'discord'), {
    path: ['mode'],
    message: 'discord is heard through its gateway (mode: gateway); telegram and slack are not',
  })
  .refine((ref) => ref.mode !== 'polling' || ref.platform === 'telegram', {
    path: ['mode'],
    message: 'only telegram is polled: use webhook (slack) or gateway (discord)',
  })
  .refine((ref) => ref.platform !== 'slack' || ref.signingSecret !== undefined, {
    path: ['signingSecret'],
    message: 'slack needs the secret holding its signing secret',
  });
export type ChannelRef = z.infer<typeof ChannelRefSchema>;

/** At most one channel per platform: a chat is answered once. */
export const ChannelListSchema = z
  .array(ChannelRefSchema)
  .max(10)
  .refine((list) => new Set(list.map((c) => c.platform)).size === list.length, {
    message: 'one channel per platform',
  });
