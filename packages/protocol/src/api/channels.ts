import { z } from 'zod';

/*
 * Chat channels (docs/channels.md): an agent's `channels:` entries as this server runs them,
 * and the token check `parley channels connect` makes before a deploy.
 */

const PLATFORMS = ['telegram', 'slack', 'discord'] as const;

/** One channel as the instance that answers sees it. */
export const ChannelStatusSchema = z.object({
  agentId: z.uuid(),
  platform: z.enum(PLATFORMS),
  mode: z.enum(['polling', 'gateway', 'webhook']),
  /**
   * connected: listening or ready for webhooks; standby: another instance holds the connection;
   * error: the last attempt failed (see lastError); paused: the entry says `paused: true`.
   */
  state: z.enum(['starting', 'connected', 'standby', 'error', 'paused']),
  /** This instance holds the channel's connection (polling, gateway) or its webhook registration. */
  listening: z.boolean(),
  lastEventAt: z.iso.datetime().nullable(),
  lastError: z.string().max(500).nullable(),
});
export type ChannelStatus = z.infer<typeof ChannelStatusSchema>;

/** Checks a bot token with the platform's "who am I" call. */
export const ChannelCheckRequestSchema = z
  .object({
    platform: z.enum(PLATFORMS),
    /** The workspace secret holding the token. */
    tokenSecret: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .max(200),
    apiRoot: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict();

export const ChannelCheckResponseSchema = z.object({
  platform: z.enum(PLATFORMS),
  /** The bot as the platform names it (`@my_bot`). */
  bot: z.string().max(300),
});
