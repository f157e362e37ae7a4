import { z } from 'zod';

/**
 * Every HTTP error body: RFC 9457 problem details with a stable `code` that clients branch on
 * (the `title` and `detail` are for people and may change). Validation problems list fields.
 */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  code: z.string(),
  detail: z.string().optional(),
  /** The request path that failed. */
  instance: z.string().optional(),
  /** One entry per invalid field: `body.name`, `query.limit`, `header.last-event-id`, … */
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** For 429 and 503: how long to wait before trying again. */
  retryAfterMs: z.number().int().nonnegative().optional(),
  requestId: z.string().optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The HTTP API's own codes. Store codes (`store.*`) pass through unchanged; docs/api.md lists
 * both with their statuses and a test keeps that table equal to this one. All layers' codes
 * together, with the retired ones, are the error-code table (../error-codes/table.ts).
 */
export const API_ERROR_CODES = {
  'request.invalid': { status: 400, title: 'The request is invalid.' },
  'request.malformed_json': { status: 400, title: 'The body is not valid JSON.' },
  'request.invalid_text': {
    status: 400,
    title: 'Text the database cannot store (NUL or an unpaired surrogate).',
  },
  'request.too_large': { status: 413, title: 'The body is too large.' },
  'request.uri_too_long': { status: 414, title: 'The URL is too long.' },
  'request.headers_too_large': { status: 431, title: 'The request headers are too large.' },
  'request.unsupported_media_type': { status: 415, title: 'Send application/json.' },
  'request.rate_limited': { status: 429, title: 'Too many requests; wait and try again.' },
  'route.not_found': { status: 404, title: 'No such route.' },
  'auth.required': { status: 401, title: 'Sign in or send a bearer token.' },
  'auth.invalid_token': { status: 401, title: 'The bearer token is not valid.' },
  'auth.invalid_credentials': { status: 401, title: 'Wrong email or password.' },
  'auth.forbidden': { status: 403, title: 'You may not do this here.' },
  'auth.csrf': { status: 403, title: 'Cross-site request refused.' },
  'auth.signup_closed': { status: 403, title: 'Sign-up is off on this server.' },
  'auth.rate_limited': { status: 429, title: 'Too many attempts; wait and try again.' },
  'auth.operator_code_invalid': {
    status: 403,
    title: 'The operator code is wrong or was used already.',
  },
  'resource.not_found': { status: 404, title: 'Not found.' },
  'resource.conflict': { status: 409, title: 'The request conflicts with the current state.' },
  'agent.invalid_definition': { status: 422, title: 'The agent definition is invalid.' },
  'agent.not_deployed': { status: 409, title: 'The agent has no deployed version yet.' },
  'agent.unavailable': { status: 422, title: 'The agent cannot run with this configuration.' },
  'channel.token_refused': {
    status: 422,
    title: 'The chat platform refused the bot token.',
  },
  'agent.secret_destination': {
    status: 422,
    title: 'The agent would send a secret where this server does not allow it.',
  },
  'run.not_running': { status: 409, title: 'The run has ended.' },
  'run.resume_beyond_log': {
    status: 409,
    title: 'Last-Event-ID is past the end of the run’s stored log.',
  },
  'run.approval_not_pending': { status: 404, title: 'No approval is waiting for this call.' },
  'server.unavailable': { status: 503, title: 'The server is starting or stopping.' },
  'server.internal': { status: 500, title: 'Something went wrong on the server.' },
} as const satisfies Record<string, { status: number; title: string }>;
export type ApiErrorCode = keyof typeof API_ERROR_CODES;
