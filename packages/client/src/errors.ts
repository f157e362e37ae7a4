import type { api, HttpErrorCode } from '@parley/protocol';

/**
 * The `code` of an API error: one of the table's HTTP codes (@parley/protocol's ERROR_CODES:
 * the API's own and the store's), or `http.<status>` when the answer was not problem+json
 * (a proxy's error page). Client and server are released together, so a code outside the
 * table means a newer server: `errorCodeInfo(code)` is then undefined.
 */
export type ParleyApiErrorCode = HttpErrorCode | `http.${number}`;

/**
 * The API answered with an error (problem+json). `code` is stable and typed: branch on it
 * (`auth.invalid_token`, `agent.unavailable`, `store.conflict`, …); `detail` is for people.
 */
export class ParleyApiError extends Error {
  override readonly name = 'ParleyApiError';
  readonly status: number;
  readonly code: ParleyApiErrorCode;
  readonly problem: api.Problem;
  constructor(problem: api.Problem) {
    super(problem.detail ?? problem.title);
    this.status = problem.status;
    this.code = problem.code as ParleyApiErrorCode;
    this.problem = problem;
  }
  /** Field-level validation problems (`body.name: …`), if any. */
  get fieldErrors(): { path: string; message: string }[] {
    return this.problem.errors ?? [];
  }
}

/** The server could not be reached, or a stream could not be resumed. */
export class ParleyConnectionError extends Error {
  override readonly name = 'ParleyConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Builds the error for a non-2xx response (problem+json, or whatever the server sent). */
export async function errorFromResponse(response: Response): Promise<ParleyApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<api.Problem>;
    if (typeof body.code === 'string' && typeof body.status === 'number')
      return new ParleyApiError(body as api.Problem);
  } catch {
    // Not JSON: a proxy's error page, for example.
  }
  return new ParleyApiError({
    type: 'about:blank',
    title: response.statusText || 'Error',
    status: response.status,
    code: `http.${response.status}`,
    detail: text.slice(0, 500) || `HTTP ${response.status}`,
  });
}
