import type { StreamErrorCode, UnifiedFinishReason, Usage } from '@parley/protocol';

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
