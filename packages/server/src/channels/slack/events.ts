import type { ButtonPress, InboundMessage } from '@parley/core';

/** The parts of an Events API `message` / `app_mention` event Parley reads. */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  channel?: string;
  channel_type?: string;
  ts?: string;
  thread_ts?: string;
}

/**
 * A message event as what the host hears. Direct messages (`message`, channel type `im`) are
 * one conversation per DM; in channels the agent is addressed by `app_mention` and answers in
 * the message's thread, one conversation per thread. Every message is delivered once per
 * channel and ts whichever events carry it (`message` and `app_mention` both do), so the
 * delivery id is that pair, not the event id.
 */
export function readMessageEvent(
  event: SlackMessageEvent,
  mentionsOnly: boolean,
): InboundMessage | undefined {
  if (event.bot_id || event.subtype || !event.user || !event.channel || !event.ts) return undefined;
  const direct = event.channel_type === 'im';
  const mention = event.type === 'app_mention';
  if (event.type !== 'message' && !mention) return undefined;
  // In channels, app_mention is the one to answer (unless every message is answered).
  if (!direct && (mentionsOnly ? !mention : mention)) return undefined;
  const text = (event.text ?? '').replace(/<@[A-Z0-9]+>/g, '').trim();
  return {
    deliveryId: `${event.channel}:${event.ts}`,
    chatId: event.channel,
    ...(direct ? {} : { threadId: event.thread_ts ?? event.ts }),
    userId: event.user,
    text,
    direct,
    addressed: mention,
    messageId: event.ts,
  };
}

/** The parts of a `block_actions` interactivity payload Parley reads. */
export interface SlackBlockActions {
  type: string;
  user?: { id: string };
  channel?: { id: string };
  container?: { message_ts?: string; channel_id?: string; thread_ts?: string };
  message?: { ts?: string; thread_ts?: string };
  actions?: { action_id?: string; value?: string; action_ts?: string }[];
}

export function readBlockActions(payload: SlackBlockActions): ButtonPress | undefined {
  const action = payload.actions?.[0];
  const channel = payload.channel?.id ?? payload.container?.channel_id;
  const messageTs = payload.message?.ts ?? payload.container?.message_ts;
  if (payload.type !== 'block_actions' || !action?.value || !payload.user || !channel)
    return undefined;
  const thread = payload.message?.thread_ts ?? payload.container?.thread_ts;
  return {
    deliveryId: `action:${channel}:${messageTs}:${action.action_ts ?? action.value}`,
    chatId: channel,
    ...(thread ? { threadId: thread } : {}),
    userId: payload.user.id,
    data: action.value,
    ...(messageTs ? { messageId: messageTs } : {}),
  };
}
