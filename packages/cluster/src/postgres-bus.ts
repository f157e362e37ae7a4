import { createRequire } from 'node:module';
import type pg from 'pg';
import {
  type Bus,
  BusListeners,
  type BusLog,
  type BusStatus,
  createBatcher,
  parseMessages,
} from './bus.ts';

export interface PostgresBusOptions {
  /** Any role may LISTEN and NOTIFY: the runtime role's URL is fine. */
  url: string;
  /** The NOTIFY channel (default `parley_bus`); instances of one cluster share it. */
  channel?: string;
  log?: BusLog;
  /** The connection's application_name (pg_stat_activity). */
  applicationName?: string;
  /** Reconnection backoff bounds (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** NOTIFY payloads must stay under 8,000 bytes. */
const MAX_PAYLOAD = 7_900;

/**
 * The bus on PostgreSQL: LISTEN on one dedicated connection and NOTIFY from another, the
 * messages of one event-loop turn packed into as few notifications as fit. PostgreSQL
 * delivers a notification only after its transaction commits, to every listening session
 * including the sender, and hands it to a session only while that session is idle: a
 * connection that also sends (a busy owner sends back to back) holds what it hears until its
 * send is done, so listening has a connection of its own. The two are one link: if either is
 * lost both are retried with backoff; when they are back, `onResync` listeners hear that
 * messages may have been missed.
 */
export function createPostgresBus(options: PostgresBusOptions): Bus & { ready: Promise<void> } {
  const channel = options.channel ?? 'parley_bus';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`invalid bus channel ${channel}`);
  const listeners = new BusListeners();
  const log = options.log;
  /** The connection that listens; `sender` sends. Both set while the bus is up. */
  let client: pg.Client | undefined;
  let sender: pg.Client | undefined;
  let up = false;
  let closed = false;
  let everUp = false;
  let detail: string | undefined = 'connecting';
  let retryMs = options.retryMinMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let readyResolve: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    readyResolve = resolve;
  });

  const status = (): BusStatus => ({
    kind: 'postgres',
    up,
    via: up ? 'postgres' : 'none',
    ...(detail && !up ? { detail } : {}),
  });
  const setUp = (value: boolean, why?: string) => {
    if (up === value) return;
    up = value;
    detail = why;
    listeners.status(status());
  };

  const batcher = createBatcher(async (payloads) => {
    if (!up || !sender) return;
    try {
      await sender.query('select pg_notify($1, p) from unnest($2::text[]) as p', [
        channel,
        payloads,
      ]);
    } catch (error) {
      log?.('warn', 'the PostgreSQL bus could not send', error);
    }
  }, MAX_PAYLOAD);

  const lost = (error: unknown) => {
    if (closed) return;
    const current = [client, sender];
    client = undefined;
    sender = undefined;
    for (const connection of current) {
      connection?.removeAllListeners('notification');
      connection?.removeAllListeners('end');
      connection?.end().catch(() => {});
    }
    if (up) log?.('warn', 'the PostgreSQL bus is down: reconnecting', error);
    setUp(false, error instanceof Error ? error.message : 'connection lost');
    schedule();
  };

  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, options.retryMaxMs ?? 5_000);
  };

  const open = (name: string) => {
    const connection = new (loadPg().Client)({
      connectionString: options.url,
      application_name: name,
    });
    // Only the link in use is retried: a connection this bus already let go may still report.
    const current = () => connection === client || connection === sender;
    connection.on('error', (error) => current() && lost(error));
    connection.on('end', () => current() && lost(new Error('connection ended')));
    return connection;
  };

  const connect = async () => {
    const name = options.applicationName ?? 'parley-bus';
    const [next, nextSender] = [open(name), open(`${name}:send`.slice(0, 63))];
    try {
      await Promise.all([next.connect(), nextSender.connect()]);
      next.on('notification', (note) => {
        if (note.channel === channel && note.payload)
          listeners.deliver(parseMessages(note.payload), log);
      });
      await next.query(`listen ${channel}`);
    } catch (error) {
      for (const connection of [next, nextSender]) {
        connection.removeAllListeners('end');
        connection.end().catch(() => {});
      }
      if (!closed) {
        detail = error instanceof Error ? error.message : 'could not connect';
        schedule();
      }
      return;
    }
    if (closed) {
      await Promise.all([next.end(), nextSender.end()]).catch(() => {});
      return;
    }
    client = next;
    sender = nextSender;
    retryMs = options.retryMinMs ?? 100;
    setUp(true);
    readyResolve();
    if (everUp) {
      log?.('info', 'the PostgreSQL bus is back');
      listeners.resync();
    }
    everUp = true;
  };
  void connect();

  return {
    kind: 'postgres',
    ready,
    publish: (message) => {
      if (!closed) batcher.push(message);
    },
    subscribe: (listener) => listeners.subscribe(listener),
    onResync: (listener) => listeners.onResync(listener),
    onStatus: (listener) => listeners.onStatus(listener),
    status,
    async close() {
      if (closed) return;
      await batcher.drain();
      closed = true;
      clearTimeout(timer);
      const current = [client, sender];
      client = undefined;
      sender = undefined;
      up = false;
      await Promise.all(
        current.map(async (connection) => {
          if (!connection) return;
          connection.removeAllListeners();
          connection.on('error', () => {});
          await connection.end().catch(() => {});
        }),
      );
    },
  };
}

/** node-postgres, loaded by the PostgreSQL bus when it connects (a PGlite server never does). */
function loadPg(): typeof pg {
  return createRequire(import.meta.url)('pg') as typeof pg;
}
