export * as api from './api/index.ts';
export {
  assertConformance,
  type ConformanceOptions,
  type ConformanceRule,
  checkConformance,
  type Violation,
} from './conformance.ts';
export { carriesContent } from './content.ts';
export {
  CORE_ERROR_CODES,
  type CoreErrorCode,
  PROVIDER_ERROR_CODES,
  type ProviderErrorCode,
  SANDBOX_ERROR_CODES,
  type SandboxErrorCode,
} from './error-codes/libraries.ts';
export { STORE_ERROR_CODES, type StoreErrorCode } from './error-codes/store.ts';
export {
  ERROR_CODES,
  type ErrorCode,
  type ErrorCodeInfo,
  type ErrorLayer,
  errorCodeInfo,
  type HttpErrorCode,
  isErrorCode,
  type LibraryErrorCode,
  RETIRED_ERROR_CODES,
  type RetiredErrorCode,
} from './error-codes/table.ts';
export {
  type ParleyError,
  ParleyErrorSchema,
  STREAM_ERROR_CODES,
  type StreamErrorCode,
  StreamErrorCodeSchema,
  streamError,
} from './errors.ts';
export * from './events.ts';
export { EXAMPLE_STREAM } from './example-stream.ts';
export {
  type FinishReason,
  FinishReasonSchema,
  type UnifiedFinishReason,
  UnifiedFinishReasonSchema,
} from './finish-reason.ts';
export {
  type ChildRunState,
  initialStreamState,
  type MessagePart,
  type ReasoningPart,
  reasoningOf,
  reduceEvent,
  reduceEvents,
  refusalOf,
  type StepState,
  type StreamState,
  type TextPart,
  type ToolCallPart,
  type ToolCallStatus,
  textOf,
  toolCallsOf,
  usageOf,
} from './reducer.ts';
export {
  ALL_PERMISSIONS,
  INVITABLE_ROLES,
  type InvitableRole,
  PERMISSIONS,
  type Permission,
  ROLE_PERMISSIONS,
  WORKSPACE_ROLES,
  type WorkspaceRole,
} from './roles.ts';
export {
  type EndedRunStatus,
  RUN_STATUS_NAMES,
  type RunStatus,
  runStatusOf,
} from './run-status.ts';
export {
  createSseDecoder,
  type ReadSseOptions,
  readSse,
  type SseBody,
  type SseDecoder,
  type SseHandlers,
  type SseMessage,
} from './sse/decode.ts';
export {
  encodeComment,
  encodeEvent,
  eventJson,
  HEARTBEAT_FRAME,
  HEARTBEAT_INTERVAL_MS,
  SSE_HEADERS,
} from './sse/encode.ts';
export { parseEventFrame, readParleyEvents, StreamDecodeError } from './sse/read-events.ts';
export {
  createEventStamper,
  type EventStamper,
  type StamperOptions,
  wasStamped,
} from './stamper.ts';
export { addUsage, emptyUsage, type Usage, UsageSchema } from './usage.ts';
export { STREAM_VERSION, STREAM_VERSION_HEADER } from './version.ts';
