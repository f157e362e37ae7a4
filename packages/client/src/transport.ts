import { errorFromResponse, ParleyConnectionError } from './errors.ts';

export interface ClientOptions {
  /** The server, e.g. `http://127.0.0.1:4000`. */
  baseUrl: string;
  /** An API token (`prl_…`). Without it, requests carry the browser's session cookie. */
  token?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Extra headers on every request (never put the token here: use `token`). */
  headers?: Record<string, string>;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** One HTTP exchange with the API: auth header, JSON in and out, problem+json → ParleyApiError. */
export function createTransport(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);

  const url = (path: string, query?: Query) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${base}${path}${qs ? `?${qs}` : ''}`;
  };

  async function raw(
    method: string,
    path: string,
    request: RequestOptions = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers, ...request.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url(path, request.query), {
        method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
        ...(options.token ? {} : { credentials: 'same-origin' as const }),
      });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      throw new ParleyConnectionError(
        `Cannot reach Parley at ${base}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  return {
    base,
    raw,
    async json<T>(method: string, path: string, request: RequestOptions = {}): Promise<T> {
      const response = await raw(method, path, {
        ...request,
        headers: { accept: 'application/json', ...request.headers },
      });
      if (response.status === 204) return undefined as T;
      return (await response.json()) as T;
    },
  };
}

export type Transport = ReturnType<typeof createTransport>;
