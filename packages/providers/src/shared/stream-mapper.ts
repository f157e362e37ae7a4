import type { FinishReason, ParleyError, StepEventPayload, Usage } from '@parley/protocol';

/** How a provider stream ended, as far as the mapper saw it. */
export interface StreamOutcome {
  /** Why the provider stopped; absent when the stream ended without saying (truncated). */
  finishReason?: FinishReason;
  /** An error the provider reported inside the stream (or a malformed event). */
  error?: ParleyError;
  usage?: Usage;
  /** The provider's id for the response (`chatcmpl-…`, `msg_…`, `resp_…`, `gen-…`). */
  responseId?: string;
}

/**
 * Maps one provider's decoded SSE events onto step-level payloads. One mapper per attempt.
 * Parts are closed by the mapper at the provider's block ends; whatever is still open when
 * the stream fails is closed by the driver (`stream-step.ts`).
 */
export interface StreamMapper {
  /** One SSE event (`event:` name and parsed `data:` JSON) → the payloads it produces. */
  push(event: string, data: unknown): StepEventPayload[];
  /** True once the provider signalled the end (or an error): no more bytes are needed. */
  readonly done: boolean;
  /** Called once at the end of the stream (EOF, `[DONE]`, `done`, or a failure). */
  end(): StreamOutcome;
}
