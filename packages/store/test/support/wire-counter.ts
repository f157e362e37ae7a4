import { createServer, Socket, connect as tcpConnect } from 'node:net';

/*
 * A TCP proxy in front of PostgreSQL that reads both directions of its wire protocol and
 * counts round trips: requests (a simple query 'Q', or an extended-protocol exchange ending
 * with a Sync 'S') sent while no earlier one awaits its answer (ReadyForQuery 'Z'). A request
 * pipelined behind another costs no wait of its own. Each round trip is a wait for the
 * database and a turn of the client's event loop: the store's hot paths are held to a count.
 */

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

export interface WireCounter {
  /** A postgres:// URL like `url`, through the proxy. */
  url: string;
  /** Round trips since the last reset: requests sent while none was awaiting its answer. */
  roundTrips(): number;
  /** Requests since the last reset (pipelined or not). */
  requests(): number;
  /**
   * System calls this process made to send to the proxy since the last reset (each socket
   * write or writev): what the kernel delivers merged cannot show how many there were.
   */
  writes(): number;
  /** The SQL sent since the last reset (simple queries and parsed statements), in order. */
  statements(): string[];
  reset(): void;
  close(): Promise<void>;
}

export async function createWireCounter(url: string): Promise<WireCounter> {
  const target = new URL(url);
  let trips = 0;
  let requests = 0;
  let sent: string[] = [];
  let writes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    // Requests of this connection not answered yet.
    let awaiting = 0;
    const request = () => {
      requests++;
      if (awaiting === 0) trips++;
      awaiting++;
    };
    const read = frontendReader((type, body) => {
      if (type === 'Q') {
        request();
        sent.push(cString(body, 0));
      } else if (type === 'P') {
        // Parse: the statement's name, then its text.
        const nameEnd = body.indexOf(0);
        sent.push(cString(body, nameEnd + 1));
      } else if (type === 'S') request();
    });
    const answers = backendReader((type) => {
      if (type === 'Z' && awaiting > 0) awaiting--;
    });
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      read(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      answers(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const unwatch = watchWrites(port, () => writes++);
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return {
    url: proxied.toString(),
    roundTrips: () => trips,
    requests: () => requests,
    writes: () => writes,
    statements: () => [...sent],
    reset() {
      trips = 0;
      requests = 0;
      writes = 0;
      sent = [];
    },
    async close() {
      unwatch();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Counts writes to 127.0.0.1:`port` from this process. Every socket write (corked or not,
 * one buffer or several) reaches the system through net.Socket's _writeGeneric.
 */
function watchWrites(port: number, onWrite: () => void): () => void {
  const proto = Socket.prototype as unknown as { _writeGeneric(...args: unknown[]): unknown };
  const original = proto._writeGeneric;
  if (typeof original !== 'function') throw new Error('net.Socket changed: no _writeGeneric');
  proto._writeGeneric = function (this: Socket, ...args: unknown[]) {
    if (this.remotePort === port) onWrite();
    return original.apply(this, args);
  };
  return () => {
    proto._writeGeneric = original;
  };
}

/** Splits a client's byte stream into messages: the untyped start-up ones, then typed ones. */
function frontendReader(onMessage: (type: string, body: Buffer) => void) {
  let buffer = Buffer.alloc(0);
  let started = false;
  return (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (!started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        // An SSL or GSS request is answered, then the start-up message follows.
        if (code !== SSL_REQUEST && code !== GSS_REQUEST) started = true;
        buffer = buffer.subarray(length);
        continue;
      }
      if (buffer.length < 5) return;
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) return;
      onMessage(String.fromCharCode(buffer[0]!), buffer.subarray(5, 1 + length));
      buffer = buffer.subarray(1 + length);
    }
  };
}

/** Splits the server's byte stream into typed messages (the client here never asks for SSL). */
function backendReader(onMessage: (type: string) => void) {
  let buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 5) {
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) return;
      onMessage(String.fromCharCode(buffer[0]!));
      buffer = buffer.subarray(1 + length);
    }
  };
}

function cString(body: Buffer, start: number): string {
  const end = body.indexOf(0, start);
  return body.toString('utf8', start, end < 0 ? body.length : end);
}
