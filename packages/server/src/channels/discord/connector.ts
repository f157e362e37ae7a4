import type {
  ButtonPress,
  ChannelHost,
  ChannelSession,
  Connector,
  InboundMessage,
  PlatformOutput,
  ReplyButton,
  WebhookRequest,
  WebhookResponse,
} from '@parley/core';
import { DISCORD_INTENTS, holdGateway } from './gateway.ts';
import { type DiscordCall, discordRest } from './rest.ts';
import { verifyDiscordSignature } from './signature.ts';

/** Components: one action row of buttons (style 1 primary, 4 danger, 2 secondary). */
const components = (buttons: ReplyButton[] | undefined) => [
  ...(buttons?.length
    ? [
        {
          type: 1,
          components: buttons.map((b) => ({
            type: 2,
            style: b.style === 'danger' ? 4 : b.style === 'primary' ? 1 : 2,
            label: b.label,
            custom_id: b.data,
          })),
        },
      ]
    : []),
];

function output(call: DiscordCall): PlatformOutput {
  return {
    maxLength: 2_000,
    // Message edits share a per-channel bucket of about five per five seconds.
    editIntervalMs: 1_000,
    // Discord reads Markdown itself.
    format: (markdown) => markdown,
    async typing(chat) {
      await call('POST', `/channels/${chat.chatId}/typing`);
    },
    async send(chat, text, buttons) {
      const sent = await call<{ id: string }>('POST', `/channels/${chat.chatId}/messages`, {
        content: text,
        components: components(buttons),
        // What the model writes never pings @everyone, a role or a person.
        allowed_mentions: { parse: [] },
      });
      return { id: sent.id };
    },
    async edit(chat, message, text, buttons) {
      await call('PATCH', `/channels/${chat.chatId}/messages/${message.id}`, {
        content: text,
        components: components(buttons),
        allowed_mentions: { parse: [] },
      });
    },
    async acknowledge(press, notice) {
      if (!press.pressId) return;
      const [id, token] = press.pressId.split(':');
      // CHANNEL_MESSAGE_WITH_SOURCE, ephemeral (flag 64): only the presser sees the notice.
      await call('POST', `/interactions/${id}/${token}/callback`, {
        type: 4,
        data: { content: notice, flags: 64 },
      });
    },
  };
}

interface DiscordMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  content?: string;
  author?: { id: string; bot?: boolean };
  mentions?: { id: string }[];
  referenced_message?: { author?: { id: string } } | null;
}

interface DiscordInteraction {
  id: string;
  token: string;
  type: number;
  channel_id?: string;
  data?: { custom_id?: string };
  member?: { user?: { id: string } };
  user?: { id: string };
  message?: { id: string };
}

export function readMessage(message: DiscordMessage, botId: string): InboundMessage | undefined {
  if (!message.author || message.author.bot || !message.content) return undefined;
  const mention = new RegExp(`<@!?${botId}>`, 'g');
  const mentioned = message.mentions?.some((m) => m.id === botId) ?? mention.test(message.content);
  return {
    deliveryId: `m${message.id}`,
    chatId: message.channel_id,
    userId: message.author.id,
    text: message.content.replace(mention, '').trim(),
    direct: !message.guild_id,
    addressed: mentioned || message.referenced_message?.author?.id === botId,
    messageId: message.id,
  };
}

export function readInteraction(interaction: DiscordInteraction): ButtonPress | undefined {
  const user = interaction.member?.user ?? interaction.user;
  // Type 3: a message component (our buttons).
  if (interaction.type !== 3 || !interaction.data?.custom_id || !user || !interaction.channel_id)
    return undefined;
  return {
    deliveryId: `i${interaction.id}`,
    chatId: interaction.channel_id,
    userId: user.id,
    data: interaction.data.custom_id,
    pressId: `${interaction.id}:${interaction.token}`,
    ...(interaction.message ? { messageId: interaction.message.id } : {}),
  };
}

/** One agent's Discord bot: the Gateway for messages and button presses, REST to answer. */
function openDiscord(host: ChannelHost): ChannelSession {
  const call = discordRest(host.token, host.channel.apiRoot, host.fetch);
  let botId = '';
  return {
    output: output(call),
    async listen(signal) {
      const { url } = await call<{ url: string }>('GET', '/gateway/bot');
      // The socket is not opened through host.fetch: where an API root is given, the gateway
      // must be on its host (a proxy's answer cannot send the socket elsewhere).
      if (host.channel.apiRoot && new URL(url).hostname !== new URL(host.channel.apiRoot).hostname)
        throw new Error('the gateway URL is not on the API root’s host');
      await holdGateway({
        url,
        token: host.token,
        intents: DISCORD_INTENTS,
        signal,
        connected: () => host.report({ state: 'connected' }),
        async dispatch(type, data) {
          if (type === 'READY') botId = (data as { user: { id: string } }).user.id;
          if (type === 'MESSAGE_CREATE') {
            const message = readMessage(data as DiscordMessage, botId);
            if (message) await host.receive(message);
          }
          if (type === 'INTERACTION_CREATE') {
            const press = readInteraction(data as DiscordInteraction);
            if (press) await host.press(press);
          }
        },
      });
    },
    /** The Interactions Endpoint URL, when the application sets one (presses then come here). */
    async webhook(request: WebhookRequest): Promise<WebhookResponse> {
      if (
        !host.signingSecret ||
        !verifyDiscordSignature(host.signingSecret, request.headers, request.rawBody)
      )
        return { status: 401 };
      let interaction: DiscordInteraction;
      try {
        interaction = JSON.parse(request.rawBody) as DiscordInteraction;
      } catch {
        return { status: 400 };
      }
      // PING: Discord checks the endpoint with it when the URL is saved.
      if (interaction.type === 1) return { status: 200, body: { type: 1 } };
      const press = readInteraction(interaction);
      // This response acknowledges the press (no callback through REST besides it).
      if (press) {
        const { pressId: _answeredHere, ...rest } = press;
        await host.press(rest);
      }
      // DEFERRED_UPDATE_MESSAGE: the message is edited through REST.
      return { status: 200, body: { type: 6 } };
    },
    async whoAmI() {
      const me = await call<{ username: string }>('GET', '/users/@me');
      return `@${me.username}`;
    },
  };
}

export const discordConnector: Connector = {
  name: 'discord',
  platform: 'discord',
  start() {},
  stop() {},
  open: openDiscord,
};
