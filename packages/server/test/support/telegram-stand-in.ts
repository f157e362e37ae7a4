import { createServer, type IncomingMessage, type Server } from 'node:http';

/*
 * A local Telegram Bot API (https://core.telegram.org/bots/api), written from its
 * documentation, for the channel tests: `POST /bot<token>/<method>` with a JSON body, answered
 * `{ok: true, result}` or `{ok: false, error_code, description, parameters}`. It keeps each
 * bot's chats (messages, their edits and inline keyboards), queues updates for getUpdates
 * (long polling with offset and timeout, 409 while a webhook is set), delivers them to a
 * webhook with `X-Telegram-Bot-Api-Secret-Token`, refuses texts over 4096 characters, refuses
 * an edit that changes nothing, and answers 429 with `parameters.retry_after` when told to.
 */

export interface StandInMessage {
  message_id: number;
  chat_id: string;
  text: string;
  /** Every text the message had, the first one sent, then each edit. */
  versions: string[];
  keyboard?: { text: string; callback_data: string }[][];
}

export interface StandInCall {
  token: string;
  method: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
}

interface Bot {
  id: number;
  username: string;
  updates: Record<string, unknown>[];
  webhook?: { url: string; secret?: string };
  waiters: (() => void)[];
  /** Ends the long poll in progress, if any (a newer getUpdates terminates it). */
  terminate?: () => void;
}

export interface TelegramStandIn {
  url: string;
  calls: StandInCall[];
  messages: StandInMessage[];
  /** Registers a bot; its token is `<id>:<secret>`. */
  addBot(token: string, username: string): void;
  /** Queues an update (polling) or delivers it to the webhook, which `deliverTo` reaches. */
  push(token: string, update: Record<string, unknown>): Promise<Response | undefined>;
  /** The next call of `method` answers 429 with this retry_after (seconds). */
  limitNext(method: string, retryAfterSeconds: number): void;
  /** getUpdates calls a newer one terminated (409): two pollers of one bot at once. */
  conflicts: number;
  /** Where webhooks are actually sent: the server under test (its public URL is not real). */
  deliverTo: string;
  webhookOf(token: string): { url: string; secret?: string } | undefined;
  close(): Promise<void>;
}

const textLength = (html: string) =>
  html.replace(/<[^>]+>/g, '').replace(/&(amp|lt|gt|quot);/g, '_').length;

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startTelegramStandIn(): Promise<TelegramStandIn> {
  const bots = new Map<string, Bot>();
  const calls: StandInCall[] = [];
  const messages: StandInMessage[] = [];
  const limits = new Map<string, number>();
  let nextMessageId = 100;

  const fail = (status: number, description: string, parameters?: object) => ({
    status,
    body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
  });
  const ok = (result: unknown) => ({ status: 200, body: { ok: true, result } });

  async function handle(
    bot: Bot,
    method: string,
    body: Record<string, unknown>,
    gone: AbortSignal,
  ) {
    const limited = limits.get(method);
    if (limited !== undefined) {
      limits.delete(method);
      return fail(429, `Too Many Requests: retry after ${limited}`, { retry_after: limited });
    }
    switch (method) {
      case 'getMe':
        return ok({ id: bot.id, is_bot: true, first_name: bot.username, username: bot.username });
      case 'setWebhook':
        bot.webhook = {
          url: String(body.url),
          ...(body.secret_token ? { secret: String(body.secret_token) } : {}),
        };
        return ok(true);
      case 'deleteWebhook':
        bot.webhook = undefined;
        return ok(true);
      case 'getUpdates': {
        if (bot.webhook)
          return fail(409, "Conflict: can't use getUpdates method while webhook is active");
        const offset = Number(body.offset ?? 0);
        bot.updates = bot.updates.filter((u) => Number(u.update_id) >= offset);
        // One poller per bot: a newer getUpdates ends the one waiting with 409.
        bot.terminate?.();
        let terminated = false;
        if (bot.updates.length === 0 && Number(body.timeout ?? 0) > 0)
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              if (bot.terminate === end) bot.terminate = undefined;
              resolve();
            };
            const timer = setTimeout(done, Number(body.timeout) * 1000);
            const end = () => {
              terminated = true;
              done();
            };
            bot.terminate = end;
            bot.waiters.push(done);
            // A poller that hung up is no longer polling.
            gone.addEventListener('abort', done);
          });
        if (terminated) {
          standIn.conflicts++;
          return fail(409, 'Conflict: terminated by other getUpdates request');
        }
        return ok(bot.updates.slice(0, 100));
      }
      case 'sendMessage': {
        const text = String(body.text ?? '');
        if (text.length === 0) return fail(400, 'Bad Request: message text is empty');
        if (textLength(text) > 4096) return fail(400, 'Bad Request: message is too long');
        const message: StandInMessage = {
          message_id: nextMessageId++,
          chat_id: String(body.chat_id),
          text,
          versions: [text],
          ...keyboardOf(body),
        };
        messages.push(message);
        return ok({ message_id: message.message_id, chat: { id: Number(body.chat_id) }, text });
      }
      case 'editMessageText': {
        const message = messages.find(
          (m) => m.message_id === Number(body.message_id) && m.chat_id === String(body.chat_id),
        );
        if (!message) return fail(400, 'Bad Request: message to edit not found');
        const text = String(body.text ?? '');
        if (textLength(text) > 4096) return fail(400, 'Bad Request: message is too long');
        const keyboard = keyboardOf(body).keyboard;
        if (text === message.text && JSON.stringify(keyboard) === JSON.stringify(message.keyboard))
          return fail(400, 'Bad Request: message is not modified');
        message.text = text;
        message.versions.push(text);
        message.keyboard = keyboard;
        return ok({ message_id: message.message_id, chat: { id: Number(body.chat_id) }, text });
      }
      case 'sendChatAction':
      case 'answerCallbackQuery':
        return ok(true);
      default:
        return fail(404, 'Not Found: method not found');
    }
  }

  const server: Server = createServer((request, response) => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(request.url ?? '');
    const gone = new AbortController();
    response.on('close', () => gone.abort());
    void (async () => {
      const body = await readJson(request).catch(() => ({}));
      const bot = match ? bots.get(match[1]!) : undefined;
      // Recorded as it arrives (a long poll answers much later), its status once answered.
      const record: StandInCall = {
        token: match?.[1] ?? '',
        method: match?.[2] ?? '',
        body,
        at: Date.now(),
        status: 0,
      };
      calls.push(record);
      const answer = !match
        ? fail(404, 'Not Found')
        : !bot
          ? fail(401, 'Unauthorized')
          : await handle(bot, match[2]!, body, gone.signal);
      record.status = answer.status;
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const standIn: TelegramStandIn = {
    url: `http://127.0.0.1:${port}`,
    calls,
    messages,
    conflicts: 0,
    deliverTo: '',
    addBot(token, username) {
      bots.set(token, { id: Number(token.split(':')[0]), username, updates: [], waiters: [] });
    },
    async push(token, update) {
      const bot = bots.get(token)!;
      if (bot.webhook) {
        const path = new URL(bot.webhook.url).pathname;
        return fetch(`${standIn.deliverTo}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(bot.webhook.secret
              ? { 'x-telegram-bot-api-secret-token': bot.webhook.secret }
              : {}),
          },
          body: JSON.stringify(update),
        });
      }
      bot.updates.push(update);
      for (const wake of bot.waiters.splice(0)) wake();
      return undefined;
    },
    limitNext(method, retryAfterSeconds) {
      limits.set(method, retryAfterSeconds);
    },
    webhookOf: (token) => bots.get(token)?.webhook,
    async close() {
      for (const bot of bots.values()) for (const wake of bot.waiters.splice(0)) wake();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return standIn;
}

function keyboardOf(body: Record<string, unknown>) {
  const markup = body.reply_markup as
    | { inline_keyboard?: { text: string; callback_data: string }[][] }
    | undefined;
  return markup?.inline_keyboard ? { keyboard: markup.inline_keyboard } : {};
}
