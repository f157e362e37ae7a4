import type { ButtonPress, InboundMessage } from '@parley/core';

/** The parts of a Bot API Update Parley reads (https://core.telegram.org/bots/api#update). */
export interface TelegramUpdate {
  update_id: number;
  message?: TelegramMessage;
  callback_query?: {
    id: string;
    from: { id: number };
    message?: { message_id: number; chat: { id: number }; message_thread_id?: number };
    data?: string;
  };
}

interface TelegramMessage {
  message_id: number;
  from?: { id: number; is_bot?: boolean };
  chat: { id: number; type: string };
  text?: string;
  message_thread_id?: number;
  is_topic_message?: boolean;
  reply_to_message?: { from?: { id: number } };
}

export interface TelegramBot {
  id: number;
  username: string;
}

/** An update as what the host hears: a message, a button press, or nothing Parley answers. */
export function readUpdate(
  update: TelegramUpdate,
  bot: TelegramBot,
): { message: InboundMessage } | { press: ButtonPress } | undefined {
  const deliveryId = `u${update.update_id}`;
  const query = update.callback_query;
  if (query?.data && query.message)
    return {
      press: {
        deliveryId,
        chatId: String(query.message.chat.id),
        ...(query.message.message_thread_id
          ? { threadId: String(query.message.message_thread_id) }
          : {}),
        userId: String(query.from.id),
        data: query.data,
        pressId: query.id,
        messageId: String(query.message.message_id),
      },
    };
  const message = update.message;
  if (!message?.text || !message.from || message.from.is_bot) return undefined;
  const mention = `@${bot.username}`;
  const mentioned = message.text.toLowerCase().includes(mention.toLowerCase());
  return {
    message: {
      deliveryId,
      chatId: String(message.chat.id),
      ...(message.is_topic_message && message.message_thread_id
        ? { threadId: String(message.message_thread_id) }
        : {}),
      userId: String(message.from.id),
      text: mentioned
        ? message.text.replace(new RegExp(escapeRegExp(mention), 'ig'), '').trim()
        : message.text,
      direct: message.chat.type === 'private',
      addressed: mentioned || message.reply_to_message?.from?.id === bot.id,
      messageId: String(message.message_id),
    },
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
