import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the loopback server received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
  /** Resolves when the client closed the connection or the response finished. */
  closed: Promise<void>;
}

export type Handler = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

/**
 * A real `node:http` server on 127.0.0.1 and an ephemeral port (port 0): adapters are tested
 * through their actual fetch and SSE code, not a fetch mock.
 */
export async function startLoopbackServer(handler: Handler) {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((incoming, response) => {
    const closed = new Promise<void>((resolve) => {
      response.once('close', () => resolve());
    });
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const request: ReceivedRequest = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        headers: incoming.headers,
        body,
        json,
        closed,
      };
      requests.push(request);
      Promise.resolve(handler(request, response)).catch(() => response.destroy());
    });
  });
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    /** The API root an adapter is given, with its version segment. */
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    /** TCP connections accepted so far, and those still open. */
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type LoopbackServer = Awaited<ReturnType<typeof startLoopbackServer>>;
