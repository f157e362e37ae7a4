import { EventEmitter } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RedisPublisherOptions {
  connectTimeoutMs?: number;
  /** Wait before the n-th reconnection attempt (ms). */
  retryDelayMs?: (attempt: number) => number;
}

type Pending = { resolve: (reply: number) => void; reject: (error: Error) => void };

/** One RESP command: an array of bulk strings. */
function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

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
export class RedisPublisher extends EventEmitter<{ ready: []; error: [Error]; end: [] }> {
  readonly #url: URL;
  readonly #options: RedisPublisherOptions;
  #socket: Socket | undefined;
  #ready = false;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #pending: Pending[] = [];
  #buffered = '';

  constructor(url: string, options: RedisPublisherOptions = {}) {
    super();
    this.#url = new URL(url);
    this.#options = options;
  }

  get isReady(): boolean {
    return this.#ready;
  }

  /** Resolves with how many subscribers heard it; rejects while disconnected or on `-ERR`. */
  publish(channel: string, payload: string): Promise<number> {
    if (!this.#ready) return Promise.reject(new Error('the Redis publisher is not connected'));
    return this.#send(['PUBLISH', channel, payload]);
  }

  /** Connects (and signs in); on failure it keeps retrying with backoff, and this rejects. */
  connect(): Promise<void> {
    const url = this.#url;
    const secure = url.protocol === 'rediss:';
    const host = url.hostname || '127.0.0.1';
    const port = Number(url.port) || 6379;
    return new Promise<void>((resolve, reject) => {
      const connection = secure
        ? tlsConnect({ host, port, servername: host })
        : tcpConnect({ host, port });
      this.#socket = connection;
      const settle = (error?: Error) => (error ? reject(error) : resolve());
      connection.setNoDelay(true);
      connection.setTimeout(this.#options.connectTimeoutMs ?? 2_000, () =>
        connection.destroy(new Error(`connecting to Redis at ${host}:${port} timed out`)),
      );
      connection.on('data', (chunk: Buffer) => this.#onData(chunk));
      connection.once('error', (error) => {
        if (this.#socket === connection) this.#lost(error);
        settle(error);
      });
      connection.once('close', () => {
        if (this.#socket === connection) this.#lost();
        settle(new Error('the Redis connection closed'));
      });
      connection.once(secure ? 'secureConnect' : 'connect', () => {
        connection.setTimeout(0);
        this.#signIn().then(
          () => {
            this.#attempt = 0;
            this.#ready = true;
            this.emit('ready');
            settle();
          },
          (error: Error) => {
            if (this.#socket === connection) this.#lost(error);
            settle(error);
          },
        );
      });
    });
  }

  destroy(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ready = false;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    this.#fail(new Error('the Redis publisher was closed'));
  }

  /** AUTH with the URL's user and password, when it has a password. */
  async #signIn(): Promise<void> {
    const user = decodeURIComponent(this.#url.username);
    const password = decodeURIComponent(this.#url.password);
    if (password) await this.#send(user ? ['AUTH', user, password] : ['AUTH', password]);
  }

  #send(args: readonly string[]): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#socket!.write(encodeCommand(args));
    });
  }

  /** Each reply is one line here: an integer, +OK, or an error. */
  #onData(chunk: Buffer) {
    this.#buffered += chunk.toString('utf8');
    let end = this.#buffered.indexOf('\r\n');
    while (end >= 0) {
      const line = this.#buffered.slice(0, end);
      this.#buffered = this.#buffered.slice(end + 2);
      const waiter = this.#pending.shift();
      if (line.startsWith('-')) waiter?.reject(new Error(line.slice(1)));
      else waiter?.resolve(line.startsWith(':') ? Number(line.slice(1)) : 0);
      end = this.#buffered.indexOf('\r\n');
    }
  }

  #fail(error: Error) {
    const waiting = this.#pending;
    this.#pending = [];
    for (const p of waiting) p.reject(error);
  }

  /** The connection is gone: what waits fails, and a new one is tried after a backoff. */
  #lost(error?: Error) {
    const wasReady = this.#ready;
    this.#ready = false;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    this.#buffered = '';
    this.#fail(error ?? new Error('the Redis connection closed'));
    if (error) this.emit('error', error);
    if (wasReady || !error) this.emit('end');
    if (this.#closed || this.#timer) return;
    const attempt = this.#attempt++;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.connect().catch(() => {});
      },
      this.#options.retryDelayMs?.(attempt) ?? Math.min(50 * 2 ** attempt, 2_000),
    );
  }
}
