import { z } from 'zod';
import { ParleyErrorSchema } from './errors.ts';
import { FinishReasonSchema } from './finish-reason.ts';
import { UsageSchema } from './usage.ts';
import { STREAM_VERSION } from './version.ts';

/*
 * Parley Stream v1. Every event is an envelope ({ v, seq, runId, stepId?, t }) plus one payload
 * ({ type, ... }). Producers below the run loop (provider adapters) emit payloads only; the run
 * loop stamps the envelope (see stamper.ts). Within v1, fields and event types may be added,
 * never removed or renamed: clients ignore what they do not know.
 */

const id = z.string().min(1);
const ms = z.number().nonnegative();

// ── Payloads ────────────────────────────────────────────────────────────────────────────────

export const RunStartPayloadSchema = z.object({
  type: z.literal('run.start'),
  agentId: id,
  conversationId: id.optional(),
  /** Wall-clock start (ISO 8601); `t` on every event counts from here on a monotonic clock. */
  startedAt: z.iso.datetime({ offset: true }),
  /** Set when this stream is a replay that skips events up to and including this seq. */
  resumedAfter: z.number().int().nonnegative().optional(),
  /** The run's W3C trace id (32 hex digits): find the run's trace and log lines by it. */
  traceId: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
});

export const StepStartPayloadSchema = z.object({
  type: z.literal('step.start'),
  /** 0-based index of the model call within the run; a retried attempt keeps its index. */
  stepIndex: z.number().int().nonnegative(),
  provider: id,
  model: id,
  /** 1 for the first try; a retry or fallback after `step.reset` counts up. */
  attempt: z.number().int().positive(),
});

export const TextStartPayloadSchema = z.object({
  type: z.literal('text.start'),
  partId: id,
  /** `refusal` marks a provider's refusal channel (OpenAI `delta.refusal`); default is text. */
  kind: z.enum(['text', 'refusal']).optional(),
});
export const TextDeltaPayloadSchema = z.object({
  type: z.literal('text.delta'),
  partId: id,
  delta: z.string(),
});
export const TextEndPayloadSchema = z.object({
  type: z.literal('text.end'),
  partId: id,
});

export const ReasoningStartPayloadSchema = z.object({
  type: z.literal('reasoning.start'),
  partId: id,
  visibility: z.enum(['full', 'summary', 'encrypted', 'redacted']),
});
export const ReasoningDeltaPayloadSchema = z.object({
  type: z.literal('reasoning.delta'),
  partId: id,
  delta: z.string(),
});
export const ReasoningEndPayloadSchema = z.object({
  type: z.literal('reasoning.end'),
  partId: id,
  /**
   * Provider data that must be sent back verbatim on the next turn (Anthropic thinking
   * signatures, OpenRouter `reasoning_details`, encrypted reasoning). Opaque to clients.
   */
  replay: z
    .object({
      provider: id,
      signature: z.string().optional(),
      data: z.unknown().optional(),
    })
    .optional(),
});

export const ToolCallStartPayloadSchema = z.object({
  type: z.literal('tool_call.start'),
  toolCallId: id,
  name: z.string(),
  /** The provider's position for this call within the step (may start at 1). */
  index: z.number().int().nonnegative(),
});
export const ToolCallDeltaPayloadSchema = z.object({
  type: z.literal('tool_call.delta'),
  toolCallId: id,
  /** A raw piece of the JSON argument text; pieces concatenate to `argsText`. */
  argsDelta: z.string(),
});
export const ToolCallCompletePayloadSchema = z.object({
  type: z.literal('tool_call.complete'),
  toolCallId: id,
  name: z.string(),
  /** Parsed arguments (`{}` when the argument text was empty). */
  args: z.unknown(),
  /** The whole raw argument text, exactly the concatenation of the deltas. */
  argsText: z.string(),
});
export const ToolCallInvalidPayloadSchema = z.object({
  type: z.literal('tool_call.invalid'),
  toolCallId: id,
  name: z.string(),
  argsText: z.string(),
  /** Why the call was rejected: unparsable JSON, schema violation, unknown tool. */
  reason: z.string(),
});

export const ToolResultPayloadSchema = z.object({
  type: z.literal('tool.result'),
  toolCallId: id,
  ok: z.boolean(),
  output: z.unknown().optional(),
  error: z.string().optional(),
  durationMs: ms,
});

export const ToolApprovalRequestedPayloadSchema = z.object({
  type: z.literal('tool.approval_requested'),
  toolCallId: id,
  approvalId: id,
  /** How long the run waits for a decision before treating it as denied. */
  timeoutMs: ms.optional(),
});

export const MemoryScopeSchema = z.object({
  workspaceId: id,
  agentId: id.optional(),
  userId: id.optional(),
  conversationId: id.optional(),
});
export type MemoryScope = z.infer<typeof MemoryScopeSchema>;

export const MemoryWritePayloadSchema = z.object({
  type: z.literal('memory.write'),
  memoryId: id,
  op: z.enum(['create', 'update', 'delete']),
  scope: MemoryScopeSchema,
  kind: z.string(),
  /** A short, human-readable description of what was stored (never a secret). */
  summary: z.string(),
  bytes: z.number().int().nonnegative(),
  cause: z.object({ toolCallId: id.optional() }).optional(),
});

export const MemoryRecallPayloadSchema = z.object({
  type: z.literal('memory.recall'),
  hits: z.array(z.object({ memoryId: id, score: z.number() })),
  /** vector: by embedding; fulltext: by words; hybrid: both, fused by reciprocal rank. */
  method: z.enum(['vector', 'hybrid', 'fulltext']).optional(),
  /** Why that method ran (no embedding model, vectors being rebuilt, …). */
  reason: z.string().max(500).optional(),
  latencyMs: ms,
});

/**
 * Knowledge-base chunks retrieved into the context for this run (docs/memory.md), best
 * first: each with its document (the source an answer cites), text, position and score.
 */
export const KnowledgeRetrievePayloadSchema = z.object({
  type: z.literal('knowledge.retrieve'),
  query: z.string(),
  /** vector: by embedding; fulltext: by words; hybrid: both, fused by reciprocal rank. */
  method: z.enum(['vector', 'hybrid', 'fulltext']),
  /** Why that method ran (no embedding model, another model's vectors, …). */
  reason: z.string().max(500).optional(),
  chunks: z.array(
    z.object({
      document: z.string(),
      documentId: id.optional(),
      text: z.string(),
      position: z.number().int().nonnegative(),
      heading: z.string().nullable().optional(),
      score: z.number(),
    }),
  ),
  latencyMs: ms,
});

export const UsagePayloadSchema = z.object({
  type: z.literal('usage'),
  usage: UsageSchema,
});

export const StepTimingSchema = z.object({
  /** Request sent → response headers. Absent when no response arrived. */
  ttfbMs: ms.optional(),
  /** Request sent → first content-bearing delta (text, reasoning or tool call). */
  ttftMs: ms.optional(),
  /** Request sent → first text delta. */
  ttftTextMs: ms.optional(),
  durationMs: ms,
  outputTokensPerSec: z.number().nonnegative().optional(),
  /** Retries spent inside this step before it produced output. */
  retries: z.number().int().nonnegative(),
});
export type StepTiming = z.infer<typeof StepTimingSchema>;

export const StepFinishPayloadSchema = z.object({
  type: z.literal('step.finish'),
  finishReason: FinishReasonSchema,
  usage: UsageSchema.optional(),
  timing: StepTimingSchema,
  providerRequestId: z.string().optional(),
  /** Present exactly when `finishReason.unified` is `error`. */
  error: ParleyErrorSchema.optional(),
});

export const StepResetPayloadSchema = z.object({
  type: z.literal('step.reset'),
  /**
   * Clients drop every part of this step; a new `step.start` with `attempt + 1` follows.
   * `failover`: the instance running the step stopped and another continues the run.
   */
  reason: z.enum(['retry', 'fallback', 'failover']),
  error: ParleyErrorSchema.optional(),
});

export const RunTimingSchema = z.object({
  durationMs: ms,
  /** Run start → first content-bearing delta of the run. */
  ttftMs: ms.optional(),
  steps: z.number().int().nonnegative(),
});
export type RunTiming = z.infer<typeof RunTimingSchema>;

export const RunFinishPayloadSchema = z.object({
  type: z.literal('run.finish'),
  finishReason: FinishReasonSchema,
  usage: UsageSchema,
  timing: RunTimingSchema,
});
export const RunErrorPayloadSchema = z.object({
  type: z.literal('run.error'),
  error: ParleyErrorSchema,
  /** True when some output was streamed (and kept) before the error. */
  partial: z.boolean(),
});
/**
 * Events after `afterSeq` and before this one were shown live but never stored (events reach
 * clients before the log): their server stopped, or the run was ended through another server
 * while it streamed. They are not in the log, and their seqs are never used again, so this
 * event's seq jumps past every seq a client may have seen. A client that saw events after
 * `afterSeq` shows what the run kept by folding the log up to `afterSeq` again.
 */
export const RunGapPayloadSchema = z.object({
  type: z.literal('run.gap'),
  afterSeq: z.number().int().nonnegative(),
});

export const RunAbortPayloadSchema = z.object({
  type: z.literal('run.abort'),
  reason: z.enum(['cancelled', 'timeout', 'shutdown']),
  /** Who cancelled: a user id, a token id, `server`. */
  by: z.string().optional(),
});

/** A child run's event as it travels inside its parent's stream (see `RunChildPayloadSchema`). */
export interface NestedEvent {
  v: number;
  seq: number;
  runId: string;
  type: string;
  [field: string]: unknown;
}

/**
 * One event of a child run (an agent this run called as a tool, or handed the conversation
 * to), carried inside the parent's stream. `event` is the child's own event, with the child's
 * runId, seq and terminal: each child's events form a conforming stream of their own (the
 * conformance checker checks them as one). The child's run is stored apart as well (its
 * `parentRunId` is this run), so its log can be read on its own. docs/multi-agent.md.
 */
export const RunChildPayloadSchema = z.object({
  type: z.literal('run.child'),
  childRunId: id,
  /** The name of the agent the child run executes. */
  agent: z.string().min(1),
  /** The tool call of this run that started the child. */
  toolCallId: id.optional(),
  event: z.custom<NestedEvent>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as NestedEvent).type === 'string' &&
      typeof (value as NestedEvent).seq === 'number' &&
      typeof (value as NestedEvent).runId === 'string',
    { message: 'a child run event needs type, seq and runId' },
  ),
});

/** Every payload schema, keyed by wire type. */
export const PAYLOAD_SCHEMAS = {
  'run.start': RunStartPayloadSchema,
  'step.start': StepStartPayloadSchema,
  'text.start': TextStartPayloadSchema,
  'text.delta': TextDeltaPayloadSchema,
  'text.end': TextEndPayloadSchema,
  'reasoning.start': ReasoningStartPayloadSchema,
  'reasoning.delta': ReasoningDeltaPayloadSchema,
  'reasoning.end': ReasoningEndPayloadSchema,
  'tool_call.start': ToolCallStartPayloadSchema,
  'tool_call.delta': ToolCallDeltaPayloadSchema,
  'tool_call.complete': ToolCallCompletePayloadSchema,
  'tool_call.invalid': ToolCallInvalidPayloadSchema,
  'tool.result': ToolResultPayloadSchema,
  'tool.approval_requested': ToolApprovalRequestedPayloadSchema,
  'memory.write': MemoryWritePayloadSchema,
  'memory.recall': MemoryRecallPayloadSchema,
  'knowledge.retrieve': KnowledgeRetrievePayloadSchema,
  usage: UsagePayloadSchema,
  'step.finish': StepFinishPayloadSchema,
  'step.reset': StepResetPayloadSchema,
  'run.finish': RunFinishPayloadSchema,
  'run.error': RunErrorPayloadSchema,
  'run.gap': RunGapPayloadSchema,
  'run.abort': RunAbortPayloadSchema,
  'run.child': RunChildPayloadSchema,
} as const;

export type ParleyEventType = keyof typeof PAYLOAD_SCHEMAS;
export const EVENT_TYPES = Object.keys(PAYLOAD_SCHEMAS) as ParleyEventType[];

/** Events that end a run; exactly one of them closes every run stream. */
export const TERMINAL_TYPES = ['run.finish', 'run.error', 'run.abort'] as const;
export type TerminalEventType = (typeof TERMINAL_TYPES)[number];

/** Events that belong to one model call and carry its `stepId`. */
export const STEP_TYPES = [
  'step.start',
  'text.start',
  'text.delta',
  'text.end',
  'reasoning.start',
  'reasoning.delta',
  'reasoning.end',
  'tool_call.start',
  'tool_call.delta',
  'tool_call.complete',
  'tool_call.invalid',
  'usage',
  'step.finish',
  'step.reset',
] as const satisfies readonly ParleyEventType[];
export type StepEventType = (typeof STEP_TYPES)[number];

export const ParleyEventPayloadSchema = z.discriminatedUnion('type', [
  RunStartPayloadSchema,
  StepStartPayloadSchema,
  TextStartPayloadSchema,
  TextDeltaPayloadSchema,
  TextEndPayloadSchema,
  ReasoningStartPayloadSchema,
  ReasoningDeltaPayloadSchema,
  ReasoningEndPayloadSchema,
  ToolCallStartPayloadSchema,
  ToolCallDeltaPayloadSchema,
  ToolCallCompletePayloadSchema,
  ToolCallInvalidPayloadSchema,
  ToolResultPayloadSchema,
  ToolApprovalRequestedPayloadSchema,
  MemoryWritePayloadSchema,
  MemoryRecallPayloadSchema,
  KnowledgeRetrievePayloadSchema,
  UsagePayloadSchema,
  StepFinishPayloadSchema,
  StepResetPayloadSchema,
  RunFinishPayloadSchema,
  RunErrorPayloadSchema,
  RunGapPayloadSchema,
  RunAbortPayloadSchema,
  RunChildPayloadSchema,
]);
export type ParleyEventPayload = z.infer<typeof ParleyEventPayloadSchema>;

// ── Envelope ────────────────────────────────────────────────────────────────────────────────

export const EnvelopeSchema = z.object({
  v: z.literal(STREAM_VERSION),
  /** 1-based, gap-free within a run except right before a `run.gap`; also the SSE `id:`. */
  seq: z.number().int().positive(),
  runId: id,
  /** The model call this event belongs to; present on every step-level event. */
  stepId: id.optional(),
  /** Milliseconds since run start on the producer's monotonic clock. */
  t: ms,
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

function withEnvelope<S extends z.ZodRawShape>(payload: z.ZodObject<S>) {
  return EnvelopeSchema.extend(payload.shape);
}

export const ParleyEventSchema = z.discriminatedUnion('type', [
  withEnvelope(RunStartPayloadSchema),
  withEnvelope(StepStartPayloadSchema),
  withEnvelope(TextStartPayloadSchema),
  withEnvelope(TextDeltaPayloadSchema),
  withEnvelope(TextEndPayloadSchema),
  withEnvelope(ReasoningStartPayloadSchema),
  withEnvelope(ReasoningDeltaPayloadSchema),
  withEnvelope(ReasoningEndPayloadSchema),
  withEnvelope(ToolCallStartPayloadSchema),
  withEnvelope(ToolCallDeltaPayloadSchema),
  withEnvelope(ToolCallCompletePayloadSchema),
  withEnvelope(ToolCallInvalidPayloadSchema),
  withEnvelope(ToolResultPayloadSchema),
  withEnvelope(ToolApprovalRequestedPayloadSchema),
  withEnvelope(MemoryWritePayloadSchema),
  withEnvelope(MemoryRecallPayloadSchema),
  withEnvelope(KnowledgeRetrievePayloadSchema),
  withEnvelope(UsagePayloadSchema),
  withEnvelope(StepFinishPayloadSchema),
  withEnvelope(StepResetPayloadSchema),
  withEnvelope(RunFinishPayloadSchema),
  withEnvelope(RunErrorPayloadSchema),
  withEnvelope(RunGapPayloadSchema),
  withEnvelope(RunAbortPayloadSchema),
  withEnvelope(RunChildPayloadSchema),
]);

/** One Parley Stream v1 event as it travels on the wire. */
export type ParleyEvent = z.infer<typeof ParleyEventSchema>;
/** The event of one wire type, e.g. `EventOf<'text.delta'>`. */
export type EventOf<T extends ParleyEventType> = Extract<ParleyEvent, { type: T }>;
/** The payload of one wire type, without the envelope. */
export type PayloadOf<T extends ParleyEventType> = Extract<ParleyEventPayload, { type: T }>;
/** What a provider adapter yields: the step-level payloads. */
export type StepEventPayload = PayloadOf<StepEventType>;

export type RunStartEvent = EventOf<'run.start'>;
export type StepStartEvent = EventOf<'step.start'>;
export type TextStartEvent = EventOf<'text.start'>;
export type TextDeltaEvent = EventOf<'text.delta'>;
export type TextEndEvent = EventOf<'text.end'>;
export type ReasoningStartEvent = EventOf<'reasoning.start'>;
export type ReasoningDeltaEvent = EventOf<'reasoning.delta'>;
export type ReasoningEndEvent = EventOf<'reasoning.end'>;
export type ToolCallStartEvent = EventOf<'tool_call.start'>;
export type ToolCallDeltaEvent = EventOf<'tool_call.delta'>;
export type ToolCallCompleteEvent = EventOf<'tool_call.complete'>;
export type ToolCallInvalidEvent = EventOf<'tool_call.invalid'>;
export type ToolResultEvent = EventOf<'tool.result'>;
export type ToolApprovalRequestedEvent = EventOf<'tool.approval_requested'>;
export type MemoryWriteEvent = EventOf<'memory.write'>;
export type MemoryRecallEvent = EventOf<'memory.recall'>;
export type KnowledgeRetrieveEvent = EventOf<'knowledge.retrieve'>;
export type UsageEvent = EventOf<'usage'>;
export type StepFinishEvent = EventOf<'step.finish'>;
export type StepResetEvent = EventOf<'step.reset'>;
export type RunFinishEvent = EventOf<'run.finish'>;
export type RunErrorEvent = EventOf<'run.error'>;
export type RunGapEvent = EventOf<'run.gap'>;
export type RunAbortEvent = EventOf<'run.abort'>;
export type RunChildEvent = EventOf<'run.child'>;
export type TerminalEvent = EventOf<TerminalEventType>;

/** The product brief's names for the same things. */
export type StreamChunk = ParleyEvent;
export type ToolCallDelta = ToolCallDeltaEvent;

// ── Guards ──────────────────────────────────────────────────────────────────────────────────

const terminalTypes: ReadonlySet<string> = new Set(TERMINAL_TYPES);
const stepTypes: ReadonlySet<string> = new Set(STEP_TYPES);

export function isParleyEvent(value: unknown): value is ParleyEvent {
  return ParleyEventSchema.safeParse(value).success;
}
export function isTerminalEvent(event: { type: string }): event is TerminalEvent {
  return terminalTypes.has(event.type);
}
export function isStepEventType(type: string): type is StepEventType {
  return stepTypes.has(type);
}
export function isKnownEventType(type: string): type is ParleyEventType {
  return Object.hasOwn(PAYLOAD_SCHEMAS, type);
}
