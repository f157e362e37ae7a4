import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ParleyError } from '@parley/protocol';
import { errorFromBodyText } from './error-body.ts';
import type { RequestSignal } from './request-signal.ts';
import { retryAfterFromHeaders } from './retry-after.ts';
import { transportError } from './transport-error.ts';

export interface PostJsonOptions {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** The attempt's signal (caller's abort + time limits). */
  request: RequestSignal;
  /** Called when the response headers arrive (time to first byte). */
  onHeaders?: () => void;
  /** Response headers that carry the provider's request id, first match wins. */
  requestIdHeaders?: readonly string[];
}

/** Reads response headers by name, case-insensitively (a `Headers` is one). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** A provider's answer: its status and headers, and its body to read once. */
export interface ProviderResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: HeaderReader;
  /** The body's bytes; leaving the loop early lets the connection go. */
  readonly body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

export type PostJsonResult =
  | { ok: true; response: ProviderResponse; requestId: string | undefined }
  | { ok: false; error: ParleyError };

/**
 * Connections to providers are kept open between calls: a burst of runs reuses them instead of
 * connecting (and, over TLS, handshaking) once per call. Node's agents close an idle one before
 * the provider's `Keep-Alive: timeout` would. With `NODE_USE_ENV_PROXY=1` they go through
 * `HTTPS_PROXY` / `HTTP_PROXY` (except `NO_PROXY` hosts), as Node's own clients do.
 */
const proxyEnv = process.env.NODE_USE_ENV_PROXY === '1' ? { ...process.env } : undefined;
const agents = {
  'http:': new HttpAgent({ keepAlive: true, scheduling: 'lifo', proxyEnv }),
  'https:': new HttpsAgent({ keepAlive: true, scheduling: 'lifo', proxyEnv }),
};

/**
 * POSTs JSON with Node's HTTP client (a quarter of `fetch`'s CPU per call, measured: the model
 * call is on every run's path to its first token) and classifies every failure: a failed
 * request (network, abort, time limit) and an HTTP error status, whose body and headers
 * (`retry-after`, request id, `x-should-retry`) become a typed ParleyError. A 2xx response is
 * returned unread.
 */
export async function postJson(options: PostJsonOptions): Promise<PostJsonResult> {
  let response: ProviderResponse;
  try {
    response = await post(
      options.url,
      options.headers,
      JSON.stringify(options.body),
      options.request.signal,
    );
  } catch (thrown) {
    return {
      ok: false,
      error: transportError(thrown, options.request, 'connect', options.provider),
    };
  }
  // The headers are the provider's first byte: from here on the stall limit applies.
  options.request.touch();
  options.onHeaders?.();
  const requestId = firstHeader(response.headers, options.requestIdHeaders ?? []);
  if (response.ok) return { ok: true, response, requestId };

  let text = '';
  try {
    text = await response.text();
  } catch (thrown) {
    if (options.request.reason)
      return {
        ok: false,
        error: transportError(thrown, options.request, 'body', options.provider),
      };
  }
  const retryAfter = retryAfterFromHeaders(response.headers);
  const shouldRetry = response.headers.get('x-should-retry')?.trim().toLowerCase();
  return {
    ok: false,
    error: errorFromBodyText(text, {
      provider: options.provider,
      status: response.status,
      ...(retryAfter ? { retryAfterMs: retryAfter.ms } : {}),
      ...(requestId ? { requestId } : {}),
      ...(shouldRetry === 'true' || shouldRetry === 'false'
        ? { shouldRetry: shouldRetry === 'true' }
        : {}),
    }),
  };
}

export function firstHeader(headers: HeaderReader, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headers.get(name);
    if (value) return value;
  }
  return undefined;
}

/** Joins default and caller headers case-insensitively (the caller wins). */
export function mergeHeaders(
  ...sets: (Record<string, string | undefined> | undefined)[]
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const set of sets)
    for (const [name, value] of Object.entries(set ?? {}))
      if (value !== undefined) merged[name.toLowerCase()] = value;
  return merged;
}

/** Sends the request; resolves with the response once its headers are in. */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<ProviderResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const agent = agents[target.protocol as keyof typeof agents];
    if (!agent) throw new TypeError(`unsupported protocol ${target.protocol} in ${url}`);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      target,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        signal,
      },
      (message) => resolve(providerResponse(message)),
    );
    request.on('error', reject);
    request.end(body);
  });
}

function providerResponse(message: IncomingMessage): ProviderResponse {
  const status = message.statusCode ?? 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get(name) {
        const value = message.headers[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(', ') : value;
      },
    },
    body: releasing(message),
    async text() {
      let text = '';
      message.setEncoding('utf8');
      for await (const chunk of message) text += chunk;
      return text;
    },
  };
}

/**
 * The body's chunks. A reader that stops early (an SSE stream's `[DONE]`) hands the connection
 * back to the pool when every byte has arrived (the next call can take it at once), and closes
 * it otherwise. An iterator, not a generator: no extra turn per chunk.
 */
function releasing(message: IncomingMessage): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      // Not destroyed on an early return: `return` below decides (the socket may be reused).
      const chunks = message.iterator({ destroyOnReturn: false });
      return {
        next: () => chunks.next(),
        async return() {
          await chunks.return?.();
          if (!message.complete) message.destroy();
          else if (!message.readableEnded) await drained(message);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Reads what is left of a complete response (its last bytes are here): the socket is free after. */
function drained(message: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    message.once('end', resolve).once('close', resolve).resume();
  });
}
