import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type ChannelHost,
  type ChannelSession,
  type ChatRef,
  type Connector,
  type PlatformOutput,
  PlatformRateLimited,
  type ReplyButton,
  type WebhookRequest,
  type WebhookResponse,
} from '@parley/core';
import { type TelegramCall, TelegramError, telegramApi } from './api.ts';
import { telegramHtml, telegramTextLength } from './format.ts';
import { readUpdate, type TelegramBot, type TelegramUpdate } from './updates.ts';

/** How long one getUpdates waits for updates (long polling). */
const POLL_SECONDS = 25;
const ALLOWED_UPDATES = ['message', 'callback_query'];

/**
 * The secret Telegram sends back with every webhook call (`secret_token` of setWebhook, 1-256
 * of A-Z a-z 0-9 _ -): derived from the bot token, so every instance of a cluster knows it
 * and a new token makes a new one.
 */
export function webhookSecretOf(token: string): string {
  return createHmac('sha256', token).update('parley-telegram-webhook').digest('base64url');
}

const chatFields = (chat: ChatRef) => ({
  chat_id: chat.chatId,
  ...(chat.threadId ? { message_thread_id: Number(chat.threadId) } : {}),
});

const keyboard = (buttons: ReplyButton[] | undefined) =>
  buttons?.length
    ? {
        reply_markup: {
          inline_keyboard: [buttons.map((b) => ({ text: b.label, callback_data: b.data }))],
        },
      }
    : {};

function output(call: TelegramCall): PlatformOutput {
  return {
    maxLength: 4096,
    // About one message a second per chat (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
    editIntervalMs: 1_000,
    format: telegramHtml,
    measure: telegramTextLength,
    async typing(chat) {
      await call('sendChatAction', { ...chatFields(chat), action: 'typing' });
    },
    async send(chat, text, buttons) {
      const sent = await call<{ message_id: number }>('sendMessage', {
        ...chatFields(chat),
        text,
        parse_mode: 'HTML',
        ...keyboard(buttons),
      });
      return { id: String(sent.message_id) };
    },
    async edit(chat, message, text, buttons) {
      try {
        await call('editMessageText', {
          chat_id: chat.chatId,
          message_id: Number(message.id),
          text,
          parse_mode: 'HTML',
          ...keyboard(buttons),
        });
      } catch (error) {
        // The same text again is refused as "message is not modified": nothing to do.
        if (error instanceof TelegramError && /not modified/i.test(error.message)) return;
        throw error;
      }
    },
    async acknowledge(press, notice) {
      if (press.pressId)
        await call('answerCallbackQuery', { callback_query_id: press.pressId, text: notice });
    },
  };
}

/** One agent's Telegram bot: long polling or a webhook (https://core.telegram.org/bots/api#getting-updates). */
function openTelegram(host: ChannelHost): ChannelSession {
  const call = telegramApi(host.token, host.channel.apiRoot, host.fetch);
  const secret = webhookSecretOf(host.token);
  let bot: Promise<TelegramBot> | undefined;
  const whoAmI = () => {
    bot ??= call<TelegramBot>('getMe').catch((error: unknown) => {
      bot = undefined;
      throw error;
    });
    return bot;
  };

  async function dispatch(update: TelegramUpdate) {
    const read = readUpdate(update, await whoAmI());
    if (!read) return;
    if ('press' in read) await host.press(read.press);
    else await host.receive(read.message);
  }

  async function poll(signal: AbortSignal) {
    // getUpdates is refused while a webhook is set (a previous webhook-mode deploy).
    await call('deleteWebhook', {}, signal);
    host.report({ state: 'connected' });
    let offset = 0;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const updates = await call<TelegramUpdate[]>(
          'getUpdates',
          { offset, timeout: POLL_SECONDS, allowed_updates: ALLOWED_UPDATES },
          signal,
        );
        host.report({ state: 'connected' });
        failures = 0;
        for (const update of updates) {
          offset = update.update_id + 1;
          await dispatch(update);
        }
      } catch (error) {
        if (signal.aborted) return;
        const wait =
          error instanceof PlatformRateLimited
            ? error.retryAfterMs
            : Math.min(30_000, 500 * 2 ** Math.min(failures++, 6));
        host.report({ state: 'error', error: (error as Error).message });
        await sleep(wait, signal);
      }
    }
  }

  async function registerWebhook(signal: AbortSignal) {
    if (!host.webhookUrl)
      throw new Error('a Telegram webhook needs the server’s public URL (PARLEY_PUBLIC_URL)');
    await call('setWebhook', {
      url: host.webhookUrl,
      secret_token: secret,
      allowed_updates: ALLOWED_UPDATES,
    });
    host.report({ state: 'connected' });
    await sleep(Number.POSITIVE_INFINITY, signal);
  }

  return {
    output: output(call),
    listen: (signal) => (host.channel.mode === 'webhook' ? registerWebhook(signal) : poll(signal)),
    async webhook(request: WebhookRequest): Promise<WebhookResponse> {
      const given = Buffer.from(request.headers['x-telegram-bot-api-secret-token'] ?? '');
      const expected = Buffer.from(secret);
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        return { status: 401, body: { ok: false } };
      let update: TelegramUpdate;
      try {
        update = JSON.parse(request.rawBody) as TelegramUpdate;
      } catch {
        return { status: 400, body: { ok: false } };
      }
      if (typeof update?.update_id !== 'number') return { status: 400, body: { ok: false } };
      await dispatch(update);
      return { status: 200, body: { ok: true } };
    },
    async whoAmI() {
      return `@${(await whoAmI()).username}`;
    },
    async forget() {
      // Telegram would go on calling a webhook nobody answers (each call refused) until
      // something polls the bot or registers another.
      if (host.channel.mode === 'webhook') await call('deleteWebhook');
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export const telegramConnector: Connector = {
  name: 'telegram',
  platform: 'telegram',
  start() {},
  stop() {},
  open: openTelegram,
};
