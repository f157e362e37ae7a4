import { z } from 'zod';

/**
 * Every error code a stream can carry (`run.error`, `step.finish.error`, `step.reset.error`).
 * Codes are stable: a retired code is never reused. `retryable` is the default classification;
 * an adapter may say otherwise for one occurrence (e.g. an in-band error after output was sent).
 */
export const STREAM_ERROR_CODES = {
  rate_limited: { retryable: true, summary: 'The provider throttled the request.' },
  overloaded: { retryable: true, summary: 'The provider is temporarily over capacity.' },
  quota_exhausted: {
    retryable: false,
    summary: 'Credits, quota or a spend limit are used up; retrying will not help.',
  },
  auth: { retryable: false, summary: 'The provider rejected the credentials.' },
  permission: { retryable: false, summary: 'The credentials may not use this model or feature.' },
  invalid_request: { retryable: false, summary: 'The provider rejected the request as malformed.' },
  context_length: {
    retryable: false,
    summary: 'The prompt is longer than the model accepts.',
  },
  content_filter: { retryable: false, summary: 'The provider refused the content.' },
  model_not_found: { retryable: false, summary: 'The model name is unknown to the provider.' },
  provider_error: { retryable: true, summary: 'The provider failed with a server error.' },
  invalid_response: {
    retryable: false,
    summary: 'The provider answered with something that is not a valid stream.',
  },
  network: { retryable: true, summary: 'The connection to the provider failed.' },
  timeout: { retryable: true, summary: 'The provider did not answer in time.' },
  truncated_stream: {
    retryable: true,
    summary: 'The provider stream ended without a finish reason.',
  },
  cancelled: {
    retryable: false,
    summary: 'The caller cancelled the request (AbortSignal); a run reports this as run.abort.',
  },
  internal: { retryable: false, summary: 'Parley itself failed; the message says where.' },
  run_lost: {
    retryable: false,
    summary:
      'The instance running the run stopped and no other could continue it (its agent or version is gone).',
  },
  agent_forbidden: {
    retryable: false,
    summary: 'The caller may not run the agent this run tried to call or hand off to.',
  },
  agent_depth_exceeded: {
    retryable: false,
    summary: 'Agents calling agents went deeper than the run tree allows (docs/multi-agent.md).',
  },
  agent_child_limit: {
    retryable: false,
    summary: 'The run started more child runs than one run may.',
  },
  agent_token_budget: {
    retryable: false,
    summary: 'The run and its child runs used more tokens than their shared budget.',
  },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type StreamErrorCode = keyof typeof STREAM_ERROR_CODES;

export const StreamErrorCodeSchema = z.enum(
  Object.keys(STREAM_ERROR_CODES) as [StreamErrorCode, ...StreamErrorCode[]],
);

/** A typed, retry-classified error as it travels inside the stream. */
export const ParleyErrorSchema = z.object({
  code: StreamErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
  /** How long to wait before a retry, from the provider's headers when it said. */
  retryAfterMs: z.number().int().nonnegative().optional(),
  httpStatus: z.number().int().optional(),
  provider: z.string().optional(),
  /** The provider's own error code or type (`insufficient_quota`, `overloaded_error`). */
  providerCode: z.string().optional(),
  providerRequestId: z.string().optional(),
});
export type ParleyError = z.infer<typeof ParleyErrorSchema>;

/** Builds a ParleyError with the code's default retry classification. */
export function streamError(
  code: StreamErrorCode,
  message: string,
  extra: Partial<Omit<ParleyError, 'code' | 'message'>> = {},
): ParleyError {
  return { code, message, retryable: STREAM_ERROR_CODES[code].retryable, ...extra };
}
