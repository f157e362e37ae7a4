import {
  type StreamErrorCode,
  StreamErrorCodeSchema,
  type UnifiedFinishReason,
  UnifiedFinishReasonSchema,
  type Usage,
  UsageSchema,
} from '@parley/protocol';
import { z } from 'zod';

/**
 * What the scripted model does in one model call. The scripted model is NOT a language
 * model: it plays these actions back, for tests, benchmarks and the offline demo.
 */
export type ScriptAction =
  /** Streams text, split into word-sized deltas unless `deltas` gives them. */
  | { type: 'text'; text: string; deltas?: string[] }
  | { type: 'refusal'; text: string }
  | { type: 'reasoning'; text: string; signature?: string }
  /**
   * A tool call. `args` is serialised to JSON; `argsText` sends raw (possibly broken) text
   * instead. The text is streamed in two deltas unless `deltas` gives them.
   */
  | {
      type: 'tool_call';
      name: string;
      args?: unknown;
      argsText?: string;
      deltas?: string[];
      id?: string;
    }
  | { type: 'delay'; ms: number }
  /** Waits until the request is cancelled (for cancellation tests). */
  | { type: 'hang' }
  /** Ends the attempt with a typed error (before or after output). */
  | {
      type: 'error';
      code: StreamErrorCode;
      message?: string;
      retryable?: boolean;
      retryAfterMs?: number;
    }
  | { type: 'finish'; reason?: UnifiedFinishReason; raw?: string; usage?: Partial<Usage> };

/** One model call's worth of actions. */
export type ScriptTurn = ScriptAction[];

/**
 * The same, as data (an agent.yaml may carry a script for the scripted provider). A test
 * keeps the schema and the type equal.
 */
export const ScriptActionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('text'),
    text: z.string(),
    deltas: z.array(z.string()).optional(),
  }),
  z.strictObject({ type: z.literal('refusal'), text: z.string() }),
  z.strictObject({
    type: z.literal('reasoning'),
    text: z.string(),
    signature: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('tool_call'),
    name: z.string().min(1),
    args: z.unknown().optional(),
    argsText: z.string().optional(),
    deltas: z.array(z.string()).optional(),
    id: z.string().min(1).optional(),
  }),
  z.strictObject({ type: z.literal('delay'), ms: z.number().int().min(0).max(600_000) }),
  z.strictObject({ type: z.literal('hang') }),
  z.strictObject({
    type: z.literal('error'),
    code: StreamErrorCodeSchema,
    message: z.string().optional(),
    retryable: z.boolean().optional(),
    retryAfterMs: z.number().int().nonnegative().optional(),
  }),
  z.strictObject({
    type: z.literal('finish'),
    reason: UnifiedFinishReasonSchema.optional(),
    raw: z.string().optional(),
    usage: UsageSchema.partial().optional(),
  }),
]);
export const ScriptTurnSchema = z.array(ScriptActionSchema);
