import type { ChannelRef } from '../agent/channels.ts';

/*
 * The connector contract (plugin contract v1's `connectors`, docs/channels.md). A connector
 * speaks one chat platform: it hears people (polling, a gateway socket, or webhooks the host
 * routes to it) and writes on the platform what the host asks. The host does the rest, the
 * same for every platform: a run per message in a conversation per chat, streamed answers
 * edited within the platform's limits, approvals as buttons, duplicates dropped, one listener
 * per cluster.
 */

/** A chat on the platform: the conversation is one per chat (and thread, where there are threads). */
export interface ChatRef {
  chatId: string;
  threadId?: string;
}

/** A message a person sent where the agent listens. */
export interface InboundMessage extends ChatRef {
  /** The platform's id of this delivery (update_id, event_id, message id): a repeat is ignored. */
  deliveryId: string;
  /** The person as the platform numbers them (the host prefixes the platform: `telegram:42`). */
  userId: string;
  text: string;
  /** A direct message: always answered. */
  direct: boolean;
  /** The message mentions the bot or replies to it (in a group, only these are answered by default). */
  addressed: boolean;
  /** The platform's id of the message, to answer it as a reply. */
  messageId?: string;
}

/** A person pressed one of the host's buttons (an approval). */
export interface ButtonPress extends ChatRef {
  deliveryId: string;
  userId: string;
  /** What the button carries: the host's own, opaque to the connector. */
  data: string;
  /** The platform's handle to acknowledge the press (Telegram's callback query id). */
  pressId?: string;
  /** The message the button is on. */
  messageId?: string;
}

export interface ReplyButton {
  label: string;
  data: string;
  style?: 'primary' | 'danger';
}

/** A message the host wrote, to edit later. */
export interface SentMessage {
  id: string;
}

/** Raised by a connector when the platform answered 429: the host waits `retryAfterMs`. */
export class PlatformRateLimited extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(`the platform asked to wait ${retryAfterMs} ms`);
    this.name = 'PlatformRateLimited';
    this.retryAfterMs = retryAfterMs;
  }
}

/** What a connector writes on its platform for the host. */
export interface PlatformOutput {
  /** Longest message the platform takes, in characters of the converted text. */
  maxLength: number;
  /** Least time between two edits of one message (the platform's edit rate limit). */
  editIntervalMs: number;
  /** The model's Markdown in the platform's format (HTML, mrkdwn, Discord Markdown). */
  format(markdown: string): string;
  /** How long formatted text is as the platform counts it for `maxLength` (default: its length). */
  measure?(formatted: string): number;
  typing(chat: ChatRef): Promise<void>;
  send(chat: ChatRef, text: string, buttons?: ReplyButton[]): Promise<SentMessage>;
  edit(chat: ChatRef, message: SentMessage, text: string, buttons?: ReplyButton[]): Promise<void>;
  /** Acknowledges a button press with a short notice (where the platform expects it). */
  acknowledge?(press: ButtonPress, notice: string): Promise<void>;
}

/** A webhook call for a channel, as the host received it. */
export interface WebhookRequest {
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The body exactly as sent (signatures are over these bytes). */
  rawBody: string;
}

export interface WebhookResponse {
  status: number;
  body?: unknown;
  contentType?: string;
}

/** What the host gives a connector when it opens one channel of one agent. */
export interface ChannelHost {
  channel: ChannelRef;
  /** The bot token from the workspace's vault. Never log it, never put it in an error. */
  token: string;
  /** The secret `channel.signingSecret` names, when it names one. */
  signingSecret?: string;
  /**
   * How to reach the platform's API: a connector calls it with this, never the global fetch
   * (on a multi-user server it reaches public addresses only, whatever `apiRoot` says).
   */
  fetch: typeof fetch;
  /** Where the platform should call this channel's webhook (when the server knows its public URL). */
  webhookUrl?: string;
  /** Aborted when the channel closes. */
  signal: AbortSignal;
  /** Hands a person's message to the agent (duplicates and unaddressed group messages are dropped here). */
  receive(message: InboundMessage): Promise<void>;
  /** Hands a button press to the host. */
  press(press: ButtonPress): Promise<void>;
  /** What the channel's status shows: connected, or the last error (never the token). */
  report(update: { state: 'connected' | 'error'; error?: string }): void;
}

/** One open channel: how to write on it, how it listens, how it stops. */
export interface ChannelSession {
  output: PlatformOutput;
  /**
   * Holds the platform's one connection (polling, the gateway) or registers the webhook, until
   * `signal` aborts (the channel closed, or this instance lost the cluster's lease). The host
   * calls it on one instance of a cluster at a time.
   */
  listen(signal: AbortSignal): Promise<void>;
  /**
   * The channel was dropped (paused, or no longer listed by its agent): undoes what `listen`
   * left with the platform, such as a registered webhook. Called once `listen` has returned,
   * on an instance that listened; not when the channel is opened again with another entry or
   * token, nor when the server stops.
   */
  forget?(): Promise<void>;
  /** A webhook call (any instance): verified, then handed to the host. */
  webhook?(request: WebhookRequest): Promise<WebhookResponse>;
  /** Checks the token with the platform's "who am I" call; the bot's name. */
  whoAmI(): Promise<string>;
}
