import { ParleyApiError, ParleyConnectionError } from '@parley/client';

/** What went wrong, in words for people, and what kind of trouble it is (for styling). */
export interface Trouble {
  kind: 'offline' | 'rate_limited' | 'auth' | 'forbidden' | 'invalid' | 'unavailable' | 'other';
  title: string;
  detail: string;
  /** Fields the server named (`body.email`), with their messages. */
  fields: { path: string; message: string }[];
}

function isOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

export function describeError(error: unknown): Trouble {
  if (error instanceof ParleyConnectionError || (error instanceof TypeError && isOffline()))
    return {
      kind: 'offline',
      title: isOffline() ? 'You are offline' : 'The server does not answer',
      detail: isOffline()
        ? 'Check your connection; this page retries when you try again.'
        : 'Parley could not be reached. Is the server running?',
      fields: [],
    };
  if (error instanceof ParleyApiError) {
    const fields = error.fieldErrors;
    const detail = error.problem.detail ?? error.message;
    if (error.status === 429) {
      const wait = error.problem.retryAfterMs;
      return {
        kind: 'rate_limited',
        title: 'Too many requests',
        detail: wait ? `${detail} Try again in ${Math.ceil(wait / 1000)} s.` : detail,
        fields,
      };
    }
    if (error.status === 401)
      return { kind: 'auth', title: 'Please sign in again', detail, fields };
    if (error.status === 403) return { kind: 'forbidden', title: 'Not allowed', detail, fields };
    if (error.code === 'agent.unavailable')
      return { kind: 'unavailable', title: 'The agent cannot run yet', detail, fields };
    if (error.status === 400 || error.status === 422 || error.status === 409)
      return { kind: 'invalid', title: 'Please check the form', detail, fields };
    if (error.status >= 500)
      return {
        kind: 'other',
        title: 'The server had a problem',
        detail: error.problem.requestId ? `${detail} (request ${error.problem.requestId})` : detail,
        fields,
      };
    return { kind: 'other', title: 'Something went wrong', detail, fields };
  }
  return {
    kind: 'other',
    title: 'Something went wrong',
    detail: error instanceof Error ? error.message : String(error),
    fields: [],
  };
}

/** The server's message for one field (`body.password` → "use at least 12 characters"). */
export function fieldError(trouble: Trouble | null, field: string): string | undefined {
  return trouble?.fields.find((f) => f.path === field || f.path.endsWith(`.${field}`))?.message;
}
