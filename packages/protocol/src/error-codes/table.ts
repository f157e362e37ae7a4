import { API_ERROR_CODES, type ApiErrorCode } from '../api/problem.ts';
import { STREAM_ERROR_CODES, type StreamErrorCode } from '../errors.ts';
import {
  CORE_ERROR_CODES,
  type CoreErrorCode,
  PROVIDER_ERROR_CODES,
  type ProviderErrorCode,
  SANDBOX_ERROR_CODES,
  type SandboxErrorCode,
} from './libraries.ts';
import { STORE_ERROR_CODES, type StoreErrorCode } from './store.ts';

/*
 * The one error-code table: every code any layer of Parley gives its callers, where it comes
 * from, its HTTP status where it has one, whether retrying can help, and what it means. The
 * families stay where their layer's code reads them (stream codes in ../errors.ts, the API's
 * in ../api/problem.ts, the store's and the libraries' beside this file); this table is their
 * union, and scripts/error-codes.test.ts keeps it equal to docs/api.md and docs/streaming.md
 * and fails on a code nothing produces. Names are `area.what`, except the stream's codes,
 * which are single words inside a stream's `error` (their area is the stream). A retired code
 * is never reused.
 */

/** Where a code comes from. */
export type ErrorLayer = 'stream' | 'api' | 'store' | 'core' | 'sandbox' | 'providers';

export interface ErrorCodeInfo {
  layer: ErrorLayer;
  /** The HTTP status of a problem+json answer with this code; absent for codes not sent over HTTP. */
  status?: number;
  /** Whether the same request may succeed later (by default: an occurrence may say otherwise). */
  retryable: boolean;
  summary: string;
}

/** Codes on HTTP answers: retrying helps only when the server said to wait (429, 503). */
const retryableStatus = (status: number) => status === 429 || status === 503;

function family<C extends string>(
  layer: ErrorLayer,
  codes: Record<C, { status?: number; retryable?: boolean; summary?: string; title?: string }>,
): Record<C, ErrorCodeInfo> {
  const entries = Object.entries(codes) as [
    C,
    { status?: number; retryable?: boolean; summary?: string; title?: string },
  ][];
  return Object.fromEntries(
    entries.map(([code, info]) => [
      code,
      {
        layer,
        ...(info.status !== undefined ? { status: info.status } : {}),
        retryable: info.retryable ?? (info.status !== undefined && retryableStatus(info.status)),
        summary: info.summary ?? info.title ?? '',
      },
    ]),
  ) as Record<C, ErrorCodeInfo>;
}

/** Every code that reaches a client over HTTP: the API's own and the store's, passed through. */
export type HttpErrorCode = ApiErrorCode | StoreErrorCode;
/** Every code the libraries throw to their callers (`error.code`). */
export type LibraryErrorCode = CoreErrorCode | SandboxErrorCode | ProviderErrorCode;
/** Every live code of every layer. */
export type ErrorCode = StreamErrorCode | HttpErrorCode | LibraryErrorCode;

export const ERROR_CODES: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  ...family('stream', STREAM_ERROR_CODES),
  ...family('api', API_ERROR_CODES),
  ...family('store', STORE_ERROR_CODES),
  ...family('sandbox', SANDBOX_ERROR_CODES),
  ...family('providers', PROVIDER_ERROR_CODES),
  // Last: `agent.invalid_definition` is core's and the API's (the server answers it 1:1); its
  // HTTP status is the API's.
  ...family('core', CORE_ERROR_CODES),
  'agent.invalid_definition': {
    layer: 'core',
    status: API_ERROR_CODES['agent.invalid_definition'].status,
    retryable: false,
    summary: CORE_ERROR_CODES['agent.invalid_definition'].summary,
  },
};

export interface RetiredErrorCode {
  code: string;
  layer: ErrorLayer;
  /** The code that took its place, if one did. */
  replacedBy?: ErrorCode;
  why: string;
}

/** Codes no longer given, never to be reused in their layer. */
export const RETIRED_ERROR_CODES: readonly RetiredErrorCode[] = [
  {
    code: 'rate_limited',
    layer: 'api',
    replacedBy: 'request.rate_limited',
    why: 'Broke the `area.what` naming of API codes. The stream code `rate_limited` (a provider throttled a model call) is a different code and stays.',
  },
  {
    code: 'invalid_tool_args',
    layer: 'stream',
    why: 'Never produced: a tool call whose arguments cannot be parsed is a `tool_call.invalid` event, fed back to the model; the run goes on.',
  },
  {
    code: 'request.not_acceptable',
    layer: 'api',
    why: 'Never produced: every route answers JSON (runs also SSE) whatever Accept says.',
  },
  {
    code: 'route.method_not_allowed',
    layer: 'api',
    why: 'Never produced: a known path with another method is `route.not_found`.',
  },
];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** What a code means, or undefined for a code this version does not know (a newer server's). */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return isErrorCode(code) ? ERROR_CODES[code] : undefined;
}
