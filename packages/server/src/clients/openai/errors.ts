import type { HttpProblem } from '../../http/problem.ts';

/**
 * OpenAI's error body: what the `openai` SDKs read to raise their typed errors (the class
 * comes from the HTTP status; `type`, `code` and `param` are kept on the error).
 * @see https://platform.openai.com/docs/guides/error-codes
 */
export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** The Chat Completions surface answers errors in OpenAI's shape instead of problem+json. */
export const OPENAI_PREFIX = '/openai/';
export const isOpenAiPath = (url: string) => url.startsWith(OPENAI_PREFIX);

/** OpenAI's codes where OpenAI has one for the same failure; otherwise Parley's stable code. */
const CODES: Record<string, string> = {
  'auth.required': 'invalid_api_key',
  'auth.invalid_token': 'invalid_api_key',
  // The only thing these routes look up by name is the model (an agent).
  'resource.not_found': 'model_not_found',
  'request.rate_limited': 'rate_limit_exceeded',
  'auth.rate_limited': 'rate_limit_exceeded',
};

/** OpenAI's error `type` for a status. */
function typeOf(status: number): string {
  if (status === 403) return 'permission_error';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The `code` an error with this Parley code carries on the OpenAI surface. */
export const openAiCodeOf = (code: string): string => CODES[code] ?? code;

/** A problem as OpenAI's error body: the same status, message and a code SDKs know. */
export function openAiErrorOf(problem: HttpProblem): OpenAiError {
  const field = problem.extra.errors?.[0]?.path.replace(/^body\.?/, '');
  const param = problem.code === 'resource.not_found' ? 'model' : field || null;
  return {
    error: {
      message: problem.message,
      type: typeOf(problem.status),
      param,
      code: openAiCodeOf(problem.code),
    },
  };
}
