import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { classifyAddress, isPublicAddress } from '@parley/core';

/*
 * The fetch plugins get on a multi-user server: public internet addresses only. An agent's
 * plugin configuration (the HTTP plugin's allow-list) is written by any member who may deploy,
 * and a scripted model calls tools with any arguments, so without this a member could read
 * what the server's network reaches and they do not: cloud metadata (169.254.169.254), the
 * database, other internal services, Parley's own loopback-only /metrics.
 *
 * The address is checked where the connection is made (the socket's DNS lookup), so a host
 * name that resolves to a private address, or that changes its answer between a check and the
 * connection (DNS rebinding), is refused too. Redirects are not followed here: the plugin host
 * checks and follows each hop itself.
 */

export class NonPublicAddressError extends Error {
  override readonly name = 'NonPublicAddressError';
  readonly code = 'plugin.non_public_address';
  constructor(host: string, address: string) {
    super(
      address === host
        ? `${host} is not a public internet address: plugins on a multi-user server reach public addresses only`
        : `${host} resolves to ${address}, which is not a public internet address: plugins on a multi-user server reach public addresses only`,
    );
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function checkedLookup(isAllowed: (address: string) => boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      // One private answer refuses the host: a mixed answer is how rebinding attacks start.
      const refused = addresses.find((a) => !isAllowed(a.address));
      if (refused) return callback(new NonPublicAddressError(hostname, refused.address), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

const DECODERS: Record<string, (() => NodeJS.ReadWriteStream) | undefined> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

function toResponse(res: IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const status = res.statusCode ?? 502;
  const empty = method === 'HEAD' || status === 204 || status === 205 || status === 304;
  if (empty) {
    res.resume();
    return new Response(null, { status, statusText: res.statusMessage ?? '', headers });
  }
  // As fetch does: the body arrives decoded.
  let body: Readable = res;
  const decoder = DECODERS[(headers.get('content-encoding') ?? '').trim().toLowerCase()];
  if (decoder) {
    body = res.pipe(decoder()) as unknown as Readable;
    res.on('error', (error) => body.destroy(error));
    headers.delete('content-encoding');
    headers.delete('content-length');
  }
  return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
    status,
    statusText: res.statusMessage ?? '',
    headers,
  });
}

/**
 * A `fetch` (http and https) that connects to allowed addresses only (default: public ones)
 * and never follows redirects (the caller checks each hop).
 */
export function createPublicFetch(
  options: { isAllowed?: (address: string) => boolean } = {},
): typeof fetch {
  const isAllowed = options.isAllowed ?? isPublicAddress;
  const lookup = checkedLookup(isAllowed);
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError(`fetch: ${url.protocol} URLs are not supported here`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Address literals never reach the lookup: check them here.
    if (classifyAddress(host) && !isAllowed(host)) throw new NonPublicAddressError(host, host);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(new Headers(init.headers));
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : Buffer.from(await new Response(init.body).arrayBuffer());
    init.signal?.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        {
          method,
          headers,
          lookup: lookup as never,
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => resolve(toResponse(res, method)),
      );
      request.on('error', reject);
      request.end(body);
    });
  }) as typeof fetch;
}

/** Public addresses only: what plugins get on a multi-user server. */
export const publicFetch: typeof fetch = createPublicFetch();

/**
 * A TCP connection to a public address only (the egress proxy of sandboxed plugins on a
 * multi-user server): the same check as publicFetch, where the socket resolves the host.
 */
export function connectPublic(host: string, port: number): Socket {
  const literal = host.replace(/^\[|\]$/g, '');
  // Any form of address (`[::ffff:127.0.0.1]`, `0x7f.1`): a name is checked at its lookup.
  if (classifyAddress(literal) && !isPublicAddress(literal)) {
    const socket = new Socket();
    queueMicrotask(() => socket.destroy(new NonPublicAddressError(host, literal)));
    return socket;
  }
  return connect({ host: literal, port, lookup: checkedLookup(isPublicAddress) as never });
}
