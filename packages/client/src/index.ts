// @parley/client: the typed Parley API client (Node and browsers: fetch only).
export * from './client.ts';
export {
  errorFromResponse,
  ParleyApiError,
  type ParleyApiErrorCode,
  ParleyConnectionError,
} from './errors.ts';
export { type RunActions, RunStream, type RunStreamOptions } from './run-stream.ts';
export type { ClientOptions } from './transport.ts';
