import { EventEmitter } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * PUBLISH on a Redis connection of its own, each command written to the socket the moment it
 * is asked for. node-redis (which the subscriber and the counters use) writes its queued
 * commands from a `setImmediate`: a message published at the end of an event-loop turn left
 * one whole iteration later — behind every socket callback of fifty streams — where the
 * PostgreSQL bus's NOTIFY is written at once; that iteration was the Redis follower's tail
 * (docs/scaling.md, session 13).
 *
 * Speaks the part of RESP this needs: PUBLISH and AUTH out, one-line replies back (`:n`
 * integers, `+OK`, `-ERR …`). Reconnects with backoff; while it is down `publish` fails at
 * once (no offline queue), so the bus falls back to PostgreSQL instead of waiting.
 */
export interface RedisPublisher
  extends EventEmitter<{
    ready: [];
    error: [Error];
    end: [];
  }> {
  readonly isReady: boolean;
  /** Resolves with how many subscribers heard it; rejects while disconnected or on `-ERR`. */
  publish(channel: string, payload: string): Promise<number>;
  connect(): Promise<void>;
  destroy(): void;
}

export interface RedisPublisherOptions {
  connectTimeoutMs?: number;
  /** Wait before the n-th reconnection attempt (ms). */
  retryDelayMs?: (attempt: number) => number;
}

type Pending = { resolve: (reply: number) => void; reject: (error: Error) => void };

/** One RESP command: an array of bulk strings. */
export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

export function createRedisPublisher(
  url: string,
  options: RedisPublisherOptions = {},
): RedisPublisher {
  const target = new URL(url);
  const secure = target.protocol === 'rediss:';
  const host = target.hostname || '127.0.0.1';
  const port = Number(target.port) || 6379;
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  const emitter = new EventEmitter() as RedisPublisher;
  let socket: Socket | undefined;
  let ready = false;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let pending: Pending[] = [];
  let buffered = '';

  const fail = (error: Error) => {
    const waiting = pending;
    pending = [];
    for (const p of waiting) p.reject(error);
  };

  /** Each reply is one line here: an integer, +OK, or an error. */
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let end = buffered.indexOf('\r\n');
    while (end >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const waiter = pending.shift();
      if (line.startsWith('-')) waiter?.reject(new Error(line.slice(1)));
      else waiter?.resolve(line.startsWith(':') ? Number(line.slice(1)) : 0);
      end = buffered.indexOf('\r\n');
    }
  };

  const send = (args: readonly string[]) =>
    new Promise<number>((resolve, reject) => {
      pending.push({ resolve, reject });
      socket!.write(encodeCommand(args));
    });

  const lost = (error?: Error) => {
    const wasReady = ready;
    ready = false;
    socket?.destroy();
    socket = undefined;
    buffered = '';
    fail(error ?? new Error('the Redis connection closed'));
    if (error) emitter.emit('error', error);
    if (wasReady || !error) emitter.emit('end');
    if (closed || timer) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        open().catch(() => {});
      },
      options.retryDelayMs?.(attempt++) ?? Math.min(50 * 2 ** attempt++, 2_000),
    );
  };

  const open = () =>
    new Promise<void>((resolve, reject) => {
      const connection = secure
        ? tlsConnect({ host, port, servername: host })
        : tcpConnect({ host, port });
      socket = connection;
      connection.setNoDelay(true);
      connection.setTimeout(options.connectTimeoutMs ?? 2_000, () =>
        connection.destroy(new Error(`connecting to Redis at ${host}:${port} timed out`)),
      );
      const settle = (error?: Error) => {
        if (error) reject(error);
        else resolve();
      };
      connection.on('data', onData);
      connection.once('error', (error) => {
        if (socket === connection) lost(error);
        settle(error);
      });
      connection.once('close', () => {
        if (socket === connection) lost();
        settle(new Error('the Redis connection closed'));
      });
      connection.once(secure ? 'secureConnect' : 'connect', () => {
        connection.setTimeout(0);
        const auth = password ? send(user ? ['AUTH', user, password] : ['AUTH', password]) : null;
        Promise.resolve(auth).then(
          () => {
            attempt = 0;
            ready = true;
            emitter.emit('ready');
            settle();
          },
          (error: Error) => {
            connection.destroy();
            if (socket === connection) lost(error);
            settle(error);
          },
        );
      });
    });

  Object.defineProperty(emitter, 'isReady', { get: () => ready });
  Object.assign(emitter, {
    publish(channel: string, payload: string) {
      if (!ready || !socket)
        return Promise.reject(new Error('the Redis publisher is not connected'));
      return send(['PUBLISH', channel, payload]);
    },
    connect: () => open(),
    destroy() {
      closed = true;
      clearTimeout(timer);
      ready = false;
      socket?.destroy();
      socket = undefined;
      fail(new Error('the Redis publisher was closed'));
    },
  });
  return emitter;
}
