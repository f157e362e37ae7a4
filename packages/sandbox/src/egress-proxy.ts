import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/*
 * The only way out of a sandboxed plugin's process: an HTTP proxy in the parent, on loopback
 * (and, when the child runs in its own network namespace, on a Unix socket the child forwards
 * to). Node's fetch tunnels every request, http or https, through CONNECT when
 * NODE_USE_ENV_PROXY is set, so the proxy sees host and port for each connection, never a path
 * or a body. A host the plugin did not declare is refused (403) and audited; an allowed one is
 * audited as a request and connected through.
 */

export interface EgressDecision {
  host: string;
  port: number;
  allowed: boolean;
}

export interface EgressProxyOptions {
  /** Declared hosts: `api.example.com`, `api.example.com:8443`, `*.example.com`. */
  allow: readonly string[];
  /** Called for every connection attempt, allowed or refused. */
  onDecision: (decision: EgressDecision) => void;
  /**
   * Opens the outbound connection (default net.connect). The server passes one that
   * reaches public addresses only in multi-user mode.
   */
  connect?: (host: string, port: number) => Socket;
  /** Also listen on this Unix socket path (for a child in its own network namespace). */
  socketPath?: string;
}

export interface EgressProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

function parseAuthority(authority: string, defaultPort: number) {
  const m = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return undefined;
  return { host: m[1]!.toLowerCase(), port: m[2] ? Number(m[2]) : defaultPort };
}

/**
 * Whether host:port matches a declared network permission, by the rules ctx.fetch applies in
 * process (packages/core plugin-host): `host` allows any port, `host:port` that port only,
 * `*.example.com` any subdomain (not the apex).
 */
export function targetAllowed(allow: readonly string[], host: string, port: number): boolean {
  const target = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allow.some((pattern) => {
    const [patternHost = '', patternPort] = pattern.toLowerCase().split(/:(?=\d+$)/);
    if (patternPort !== undefined && Number(patternPort) !== port) return false;
    if (patternHost.startsWith('*.'))
      return target.endsWith(patternHost.slice(1)) && target.length > patternHost.length - 1;
    return target === patternHost;
  });
}

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const open = options.connect ?? ((host: string, port: number) => connect({ host, port }));
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  const decide = (host: string, port: number) => {
    const allowed = targetAllowed(options.allow, host, port);
    options.onDecision({ host, port, allowed });
    return allowed;
  };

  const handler = (server: Server) => {
    server.on('connection', track);
    // CONNECT host:port: a tunnel (fetch uses this for http and https).
    server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      const target = parseAuthority(req.url ?? '', 443);
      if (!target || !decide(target.host, target.port)) {
        client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const upstream = open(target.host, target.port);
      track(upstream);
      upstream.once('connect', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => {
        if (!client.writableEnded)
          client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      });
      client.on('error', () => upstream.destroy());
    });
    // Only tunnels: the child's fetch always uses CONNECT, and node:http is not available to
    // plugins, so a plain proxied request is not something a plugin can legitimately send.
    server.on('request', (_req, res) => {
      res.writeHead(405, { allow: 'CONNECT' }).end();
    });
    return server;
  };

  const tcp = handler(createServer());
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(0, '127.0.0.1', () => resolve());
  });
  const servers: Server[] = [tcp];
  if (options.socketPath) {
    const unix = handler(createServer());
    await new Promise<void>((resolve, reject) => {
      unix.once('error', reject);
      unix.listen(options.socketPath, () => resolve());
    });
    servers.push(unix);
  }
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}
