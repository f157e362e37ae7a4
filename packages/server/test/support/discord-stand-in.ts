import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/*
 * A local Discord, written from its developer documentation: REST v10 (`Authorization: Bot
 * <token>`; GET /gateway/bot, GET /users/@me, POST/PATCH channel messages, POST typing, the
 * interaction callback; 429 with `retry_after` in seconds) and the Gateway over a WebSocket
 * (RFC 6455, framed here by hand: text frames, close, ping): HELLO with a heartbeat interval,
 * IDENTIFY → READY (a session id and a resume URL), heartbeats acknowledged, dispatches
 * numbered, RESUME → the dispatches missed since `seq` replayed, then RESUMED.
 */

export interface DiscordMessageRecord {
  id: string;
  channel_id: string;
  content: string;
  versions: string[];
  components: { components: { custom_id: string; label: string }[] }[];
}

export interface DiscordStandIn {
  url: string;
  messages: DiscordMessageRecord[];
  calls: {
    method: string;
    path: string;
    at: number;
    status: number;
    body: Record<string, unknown>;
  }[];
  gateway: {
    identifies: number;
    resumes: { session_id: string; seq: number }[];
    heartbeats: number;
  };
  /** Dispatches an event to the bot (kept for a RESUME if it is not connected). */
  dispatch(type: string, data: object): void;
  /** Drops the bot's gateway connection without a close frame (a network failure). */
  drop(): void;
  connected(): boolean;
  limitNext(method: string, retryAfterSeconds: number): void;
  close(): Promise<void>;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const head =
    payload.length < 126
      ? Buffer.from([0x81, payload.length])
      : payload.length < 65_536
        ? Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff])
        : Buffer.concat([Buffer.from([0x81, 127]), bigLength(payload.length)]);
  return Buffer.concat([head, payload]);
}
function bigLength(n: number) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Reads the client's (masked) frames from a buffer: [frames, rest]. */
function readFrames(buffer: Buffer): [{ opcode: number; payload: Buffer }[], Buffer] {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let at = 0;
  for (;;) {
    if (buffer.length - at < 2) break;
    const opcode = buffer[at]! & 0x0f;
    let length = buffer[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (buffer.length < offset + 2) break;
      length = buffer.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (buffer.length < offset + 8) break;
      length = Number(buffer.readBigUInt64BE(offset));
      offset += 8;
    }
    if (buffer.length < offset + 4 + length) break;
    const mask = buffer.subarray(offset, offset + 4);
    const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
    for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    frames.push({ opcode, payload });
    at = offset + 4 + length;
  }
  return [frames, buffer.subarray(at)];
}

export async function startDiscordStandIn(options: {
  token: string;
  botId: string;
  heartbeatMs: number;
}) {
  const messages: DiscordMessageRecord[] = [];
  const calls: DiscordStandIn['calls'] = [];
  const limits = new Map<string, number>();
  const gateway = {
    identifies: 0,
    resumes: [] as { session_id: string; seq: number }[],
    heartbeats: 0,
  };
  const log: { s: number; t: string; d: object }[] = [];
  const sessionId = 'session-1';
  let socket: Duplex | undefined;
  let live = false;
  let nextId = 9000;

  const send = (payload: object) => socket?.write(frame(JSON.stringify(payload)));

  function rest(
    method: string,
    path: string,
    body: Record<string, unknown>,
    auth: string | undefined,
  ) {
    if (auth !== `Bot ${options.token}`)
      return { status: 401, json: { message: '401: Unauthorized', code: 0 } };
    const limited = limits.get(method);
    if (limited !== undefined && path.endsWith('/messages')) {
      limits.delete(method);
      return {
        status: 429,
        json: { message: 'You are being rate limited.', retry_after: limited, global: false },
      };
    }
    if (method === 'GET' && path === '/gateway/bot')
      return { status: 200, json: { url: `ws://127.0.0.1:${port}/gateway`, shards: 1 } };
    if (method === 'GET' && path === '/users/@me')
      return { status: 200, json: { id: options.botId, username: 'parley', bot: true } };
    let match = /^\/channels\/(\d+)\/typing$/.exec(path);
    if (method === 'POST' && match) return { status: 204 };
    match = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (method === 'POST' && match) {
      const content = String(body.content ?? '');
      if (content.length > 2000)
        return { status: 400, json: { message: 'Invalid Form Body', code: 50035 } };
      const message: DiscordMessageRecord = {
        id: String(nextId++),
        channel_id: match[1]!,
        content,
        versions: [content],
        components: (body.components as DiscordMessageRecord['components']) ?? [],
      };
      messages.push(message);
      return { status: 200, json: { id: message.id, channel_id: message.channel_id, content } };
    }
    match = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path);
    if (method === 'PATCH' && match) {
      const message = messages.find((m) => m.id === match![2] && m.channel_id === match![1]);
      if (!message) return { status: 404, json: { message: 'Unknown Message', code: 10008 } };
      if (body.content !== undefined) {
        message.content = String(body.content);
        message.versions.push(message.content);
      }
      if (body.components !== undefined)
        message.components = body.components as DiscordMessageRecord['components'];
      return { status: 200, json: { id: message.id, channel_id: message.channel_id } };
    }
    if (method === 'POST' && /^\/interactions\/\d+\/[\w-]+\/callback$/.test(path))
      return { status: 204 };
    return { status: 404, json: { message: '404: Not Found', code: 0 } };
  }

  function onGateway(op: number, d: Record<string, unknown> | number | null) {
    if (op === 1) {
      gateway.heartbeats++;
      send({ op: 11 });
    } else if (op === 2) {
      gateway.identifies++;
      if ((d as { token?: string })?.token !== options.token) return socket?.end();
      live = true;
      const s = log.length + 1;
      log.push({
        s,
        t: 'READY',
        d: {
          v: 10,
          user: { id: options.botId, username: 'parley', bot: true },
          session_id: sessionId,
          resume_gateway_url: `ws://127.0.0.1:${port}/resume`,
        },
      });
      send({ op: 0, t: 'READY', s, d: log.at(-1)!.d });
    } else if (op === 6) {
      const resume = d as { session_id: string; seq: number };
      gateway.resumes.push({ session_id: resume.session_id, seq: resume.seq });
      live = true;
      for (const event of log.filter((e) => e.s > resume.seq))
        send({ op: 0, t: event.t, s: event.s, d: event.d });
      send({ op: 0, t: 'RESUMED', s: log.length, d: {} });
    }
  }

  const server: Server = createServer((request: IncomingMessage, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      const path = (request.url ?? '').replace(/^\/api\/v10/, '');
      const answer = rest(request.method ?? 'GET', path, body, request.headers.authorization);
      calls.push({
        method: request.method ?? '',
        path,
        at: Date.now(),
        status: answer.status,
        body,
      });
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end('json' in answer ? JSON.stringify(answer.json) : undefined);
    })();
  });
  server.on('upgrade', (request, duplex) => {
    const key = String(request.headers['sec-websocket-key']);
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    duplex.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket = duplex;
    live = false;
    let pending: Buffer = Buffer.alloc(0);
    duplex.on('data', (chunk: Buffer) => {
      const [frames, rest] = readFrames(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const f of frames) {
        if (f.opcode === 0x8) {
          duplex.end(Buffer.from([0x88, 0]));
          if (socket === duplex) live = false;
        } else if (f.opcode === 0x9)
          duplex.write(Buffer.concat([Buffer.from([0x8a, f.payload.length]), f.payload]));
        else if (f.opcode === 0x1) {
          const payload = JSON.parse(f.payload.toString('utf8')) as { op: number; d: never };
          onGateway(payload.op, payload.d);
        }
      }
    });
    duplex.on('close', () => {
      if (socket === duplex) {
        socket = undefined;
        live = false;
      }
    });
    duplex.on('error', () => {});
    send({ op: 10, d: { heartbeat_interval: options.heartbeatMs } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const standIn: DiscordStandIn = {
    url: `http://127.0.0.1:${port}`,
    messages,
    calls,
    gateway,
    dispatch(type, data) {
      const s = log.length + 1;
      log.push({ s, t: type, d: data });
      if (live) send({ op: 0, t: type, s, d: data });
    },
    drop() {
      live = false;
      socket?.destroy();
    },
    connected: () => live,
    limitNext: (method, seconds) => limits.set(method, seconds),
    async close() {
      socket?.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return standIn;
}
