import type {
  ChannelHost,
  ChannelSession,
  ChatRef,
  Connector,
  PlatformOutput,
  ReplyButton,
  WebhookRequest,
  WebhookResponse,
} from '@parley/core';
import { type SlackCall, slackApi } from './api.ts';
import { readBlockActions, readMessageEvent, type SlackBlockActions } from './events.ts';
import { slackMrkdwn } from './format.ts';
import { verifySlackSignature } from './signature.ts';

const where = (chat: ChatRef) => ({
  channel: chat.chatId,
  ...(chat.threadId ? { thread_ts: chat.threadId } : {}),
});

/** Block Kit: the text as a section, the buttons as an actions block. */
function blocks(text: string, buttons: ReplyButton[] | undefined) {
  if (!buttons?.length) return {};
  return {
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        elements: buttons.map((button, index) => ({
          type: 'button',
          action_id: `parley_${index}`,
          text: { type: 'plain_text', text: button.label },
          value: button.data,
          ...(button.style ? { style: button.style } : {}),
        })),
      },
    ],
  };
}

function output(call: SlackCall): PlatformOutput {
  return {
    // Slack truncates a message's text past 40,000 characters and advises 4,000.
    maxLength: 4_000,
    // chat.postMessage: about one message a second per channel; chat.update is Tier 3.
    editIntervalMs: 1_000,
    format: slackMrkdwn,
    // Bots of Events API apps have no typing indicator (that was the legacy RTM API's).
    async typing() {},
    async send(chat, text, buttons) {
      const sent = await call<{ ts: string }>('chat.postMessage', {
        ...where(chat),
        text,
        ...blocks(text, buttons),
      });
      return { id: sent.ts };
    },
    async edit(chat, message, text, buttons) {
      // Without blocks the update would keep the old ones (the buttons): send none.
      await call('chat.update', {
        channel: chat.chatId,
        ts: message.id,
        text,
        ...(buttons?.length ? blocks(text, buttons) : { blocks: [] }),
      });
    },
  };
}

/** Reads a webhook body: JSON (Events API) or a form with a `payload` field (interactivity). */
function parseBody(request: WebhookRequest): Record<string, unknown> | undefined {
  try {
    if ((request.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(request.rawBody).get('payload');
      return payload ? (JSON.parse(payload) as Record<string, unknown>) : undefined;
    }
    return JSON.parse(request.rawBody) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** One agent's Slack app: Events API and interactivity over a signed webhook. */
function openSlack(host: ChannelHost): ChannelSession {
  const call = slackApi(host.token, host.channel.apiRoot, host.fetch);
  return {
    output: output(call),
    // Slack calls the app: there is no connection to hold. The URL is set in the app's settings.
    async listen(signal) {
      await call('auth.test');
      host.report({ state: 'connected' });
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    },
    async webhook(request: WebhookRequest): Promise<WebhookResponse> {
      if (
        !host.signingSecret ||
        !verifySlackSignature(host.signingSecret, request.headers, request.rawBody)
      )
        return { status: 401 };
      const body = parseBody(request);
      if (!body) return { status: 400 };
      if (body.type === 'url_verification')
        return {
          status: 200,
          body: { challenge: body.challenge },
          contentType: 'application/json',
        };
      if (body.type === 'event_callback') {
        const message = readMessageEvent(
          body.event as Parameters<typeof readMessageEvent>[0],
          host.channel.mentionsOnly,
        );
        if (message) await host.receive(message);
        return { status: 200 };
      }
      if (body.type === 'block_actions') {
        const press = readBlockActions(body as unknown as SlackBlockActions);
        if (press) await host.press(press);
        return { status: 200 };
      }
      return { status: 200 };
    },
    async whoAmI() {
      const me = await call<{ user?: string; team?: string }>('auth.test');
      return `@${me.user ?? 'bot'}${me.team ? ` (${me.team})` : ''}`;
    },
  };
}

export const slackConnector: Connector = {
  name: 'slack',
  platform: 'slack',
  start() {},
  stop() {},
  open: openSlack,
};
