import { AgentDefinitionError } from '@parley/agent-file';
import { AgentConfigError, CoreError } from '@parley/core';
import { api } from '@parley/protocol';
import { isStoreError, STORE_ERROR_CODES } from '@parley/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isOpenAiPath, openAiErrorOf } from '../clients/openai/errors.ts';

type FieldIssue = { path: string; message: string };
/** Our codes and the store's, which pass through unchanged. */
export type ProblemCode = api.ApiErrorCode | keyof typeof STORE_ERROR_CODES;

/**
 * An error the API answers with: a stable code, its HTTP status, a message for people and,
 * for validation problems, the fields. Route handlers throw it; the error handler renders it.
 */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  readonly status: number;
  readonly code: ProblemCode;
  readonly extra: { errors?: FieldIssue[]; retryAfterMs?: number; status?: number };
  constructor(
    code: ProblemCode,
    detail?: string,
    extra: { errors?: FieldIssue[]; retryAfterMs?: number; status?: number } = {},
  ) {
    const known =
      (api.API_ERROR_CODES as Record<string, { status: number; title: string }>)[code] ??
      (STORE_ERROR_CODES as Record<string, { status: number }>)[code];
    super(detail ?? (known && 'title' in known ? String(known.title) : code));
    this.code = code;
    this.extra = extra;
    this.status = extra.status ?? known?.status ?? 500;
  }
}

export const notFound = (what: string) =>
  new HttpProblem('resource.not_found', `${what} was not found.`);

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** Zod issues as `body.name`-style paths. */
export function fieldIssues(error: z.ZodError, prefix: string): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

/** Maps anything thrown inside a request to a problem (without leaking internals). */
export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (isStoreError(error)) {
    const issues = error.issues?.map((i) => ({ path: i.path, message: i.message }));
    return new HttpProblem(error.code, error.message, issues ? { errors: issues } : {});
  }
  if (error instanceof AgentDefinitionError) {
    return new HttpProblem('agent.invalid_definition', error.message, {
      errors: error.issues.map((i) => ({
        path: i.path ? `definition.${i.path}` : 'definition',
        message: i.message,
      })),
    });
  }
  if (error instanceof AgentConfigError) return new HttpProblem('agent.unavailable', error.message);
  if (error instanceof CoreError) return new HttpProblem('agent.unavailable', error.message);
  if (error instanceof z.ZodError)
    return new HttpProblem('request.invalid', 'The request is invalid.', {
      errors: fieldIssues(error, ''),
    });
  const e = error as { statusCode?: number; code?: string; validation?: unknown[] };
  // Fastify's own errors: bad JSON, body too large, wrong content type, schema validation.
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new HttpProblem('request.unsupported_media_type', 'Send the body as application/json.');
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new HttpProblem('request.too_large', 'The body is larger than this route accepts.');
  if (
    e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    (e.statusCode === 400 && error instanceof SyntaxError)
  )
    return new HttpProblem('request.malformed_json', 'The body is not valid JSON.');
  if (e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return new HttpProblem('request.invalid', 'The Content-Length header is wrong.');
  if (e.statusCode === 429) return new HttpProblem('request.rate_limited');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new HttpProblem('request.invalid', 'The request is invalid.', { status: e.statusCode });
  }
  return new HttpProblem('server.internal', 'Something went wrong on the server.');
}

export function problemBody(problem: HttpProblem, request: FastifyRequest): api.Problem {
  return {
    type: `https://parley.dev/problems/${problem.code.replace('.', '/')}`,
    title: TITLES[problem.status] ?? 'Error',
    status: problem.status,
    code: problem.code,
    detail: problem.message,
    instance: request.url.split('?')[0] ?? request.url,
    requestId: request.id,
    ...(problem.extra.errors ? { errors: problem.extra.errors } : {}),
    ...(problem.extra.retryAfterMs !== undefined
      ? { retryAfterMs: problem.extra.retryAfterMs }
      : {}),
  };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: HttpProblem) {
  reply.header('x-request-id', request.id);
  if (problem.extra.retryAfterMs !== undefined)
    reply.header('retry-after', Math.max(1, Math.ceil(problem.extra.retryAfterMs / 1000)));
  // The OpenAI-compatible routes answer in OpenAI's error shape, so its SDKs raise typed errors.
  if (isOpenAiPath(request.url))
    return reply
      .code(problem.status)
      .type('application/json')
      .serializer(JSON.stringify)
      .send(openAiErrorOf(problem));
  return reply
    .code(problem.status)
    .type(api.PROBLEM_CONTENT_TYPE)
    .serializer(JSON.stringify)
    .send(problemBody(problem, request));
}
