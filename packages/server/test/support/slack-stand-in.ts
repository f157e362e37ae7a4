import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/*
 * A local Slack, written from its documentation: the Web API methods a bot uses
 * (https://api.slack.com/methods: auth.test, chat.postMessage, chat.update; POST with a
 * bearer token, HTTP 200 `{ok: false, error}` on failure, HTTP 429 with Retry-After when rate
 * limited), and the app's side of the Events API and interactivity: events and block_actions
 * payloads sent to the app's request URL signed with its signing secret (v0 HMAC-SHA256 of
 * `v0:<timestamp>:<body>`, https://api.slack.com/authentication/verifying-requests-from-slack).
 */

export interface SlackMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  versions: string[];
  blocks?: { type: string; elements?: { value?: string; text?: { text: string } }[] }[];
}

export interface SlackStandIn {
  url: string;
  messages: SlackMessage[];
  calls: { method: string; at: number; status: number; body: Record<string, unknown> }[];
  /** The next call of `method` answers 429 with Retry-After (seconds). */
  limitNext(method: string, retryAfterSeconds: number): void;
  /** Sends an Events API body to the app, signed (or signed with `secret` when forging). */
  sendEvent(
    url: string,
    body: object,
    options?: { secret?: string; timestamp?: number; retry?: number },
  ): Promise<Response>;
  /** Sends a block_actions interactivity payload (a form with `payload`). */
  sendAction(url: string, payload: object): Promise<Response>;
  close(): Promise<void>;
}

async function readJson(request: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

export async function startSlackStandIn(options: {
  token: string;
  signingSecret: string;
  botUserId: string;
}) {
  const messages: SlackMessage[] = [];
  const calls: SlackStandIn['calls'] = [];
  const limits = new Map<string, number>();
  let clock = 1_700_000_000_000100;

  function handle(
    method: string,
    body: Record<string, unknown>,
  ): { status: number; json: object; headers?: Record<string, string> } {
    const limited = limits.get(method);
    if (limited !== undefined) {
      limits.delete(method);
      return {
        status: 429,
        json: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': String(limited) },
      };
    }
    switch (method) {
      case 'auth.test':
        return {
          status: 200,
          json: {
            ok: true,
            user: 'parley',
            user_id: options.botUserId,
            team: 'Test',
            team_id: 'T1',
          },
        };
      case 'chat.postMessage': {
        if (!body.channel) return { status: 200, json: { ok: false, error: 'channel_not_found' } };
        if (!body.text && !body.blocks)
          return { status: 200, json: { ok: false, error: 'no_text' } };
        const ts = `${Math.floor(clock / 1e6)}.${String(clock++ % 1e6).padStart(6, '0')}`;
        const message: SlackMessage = {
          channel: String(body.channel),
          ts,
          ...(body.thread_ts ? { thread_ts: String(body.thread_ts) } : {}),
          text: String(body.text ?? ''),
          versions: [String(body.text ?? '')],
          ...(Array.isArray(body.blocks) ? { blocks: body.blocks as SlackMessage['blocks'] } : {}),
        };
        messages.push(message);
        return { status: 200, json: { ok: true, channel: message.channel, ts } };
      }
      case 'chat.update': {
        const message = messages.find((m) => m.channel === body.channel && m.ts === body.ts);
        if (!message) return { status: 200, json: { ok: false, error: 'message_not_found' } };
        message.text = String(body.text ?? '');
        message.versions.push(message.text);
        // An update without blocks keeps the old ones; an empty list removes them.
        if (Array.isArray(body.blocks))
          message.blocks = body.blocks.length ? (body.blocks as SlackMessage['blocks']) : undefined;
        return { status: 200, json: { ok: true, channel: message.channel, ts: message.ts } };
      }
      default:
        return { status: 200, json: { ok: false, error: 'unknown_method' } };
    }
  }

  const server: Server = createServer((request, response) => {
    void (async () => {
      const method = /^\/api\/([\w.]+)$/.exec(request.url ?? '')?.[1] ?? '';
      const body = await readJson(request).catch(() => ({}));
      const answer =
        request.headers.authorization !== `Bearer ${options.token}`
          ? { status: 200, json: { ok: false, error: 'invalid_auth' } }
          : handle(method, body);
      calls.push({ method, at: Date.now(), status: answer.status, body });
      response.writeHead(answer.status, {
        'content-type': 'application/json',
        ...('headers' in answer ? answer.headers : {}),
      });
      response.end(JSON.stringify(answer.json));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const signed = (secret: string, timestamp: number, body: string) =>
    `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

  const standIn: SlackStandIn = {
    url: `http://127.0.0.1:${port}`,
    messages,
    calls,
    limitNext: (method, seconds) => limits.set(method, seconds),
    sendEvent(url, body, sendOptions = {}) {
      const text = JSON.stringify(body);
      const timestamp = sendOptions.timestamp ?? Math.floor(Date.now() / 1000);
      return fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signed(sendOptions.secret ?? options.signingSecret, timestamp, text),
          ...(sendOptions.retry
            ? {
                'x-slack-retry-num': String(sendOptions.retry),
                'x-slack-retry-reason': 'http_timeout',
              }
            : {}),
        },
        body: text,
      });
    },
    sendAction(url, payload) {
      const text = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const timestamp = Math.floor(Date.now() / 1000);
      return fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signed(options.signingSecret, timestamp, text),
        },
        body: text,
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return standIn;
}
