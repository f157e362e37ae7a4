import type { FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { invalidationsFor } from '../cluster/invalidation.ts';
import type { Services } from '../services.ts';
import { isDashboardPath } from './dashboard.ts';
import { HttpProblem, sendProblem, toProblem } from './problem.ts';

/*
 * What every response gets: caches invalidated before the caller hears it is done, security
 * headers, the request metric; errors and unknown routes as problem+json (the dashboard's
 * index.html for its own paths when it is served).
 */

const VALIDATION_PREFIX: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

export function registerResponseHooks(app: FastifyInstance, services: Services): void {
  const { metrics } = services;
  app.addHook('onSend', async (request, reply, payload) => {
    // Whatever narrows what a token may do, changes an agent or a key is dropped from this
    // process's caches before the caller hears that it is done, and from every other
    // instance's when the bus brings it (cluster/invalidation.ts).
    if (request.grant) services.invalidator.seen(request.grant.workspaceId);
    for (const invalidation of invalidationsFor({
      operation: request.routeOptions.config.spec?.operationId,
      method: request.method,
      status: reply.statusCode,
      workspaceId: request.grant?.workspaceId,
    }))
      services.invalidator.invalidate(invalidation);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-resource-policy', 'same-origin');
    // The dashboard's files carry their own policy.
    if (!reply.hasHeader('content-security-policy'))
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('x-request-id', request.id);
    if (reply.statusCode >= 400 && !reply.hasHeader('cache-control'))
      reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.http.observe(
      {
        method: request.method,
        // The route table's own templates (or 'unmatched'): a fixed set, never a caller's text.
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}

export function registerProblemHandlers(
  app: FastifyInstance,
  dashboard: { served: boolean },
): void {
  app.setErrorHandler((error, request, reply) => {
    let problem: HttpProblem;
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = VALIDATION_PREFIX[error.validationContext ?? 'body'] ?? 'body';
      problem = new HttpProblem('request.invalid', 'The request is invalid.', {
        errors: error.validation.map((v) => ({
          path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
          message: v.message ?? 'is invalid',
        })),
      });
    } else {
      problem = toProblem(error);
    }
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, request, problem);
  });
  app.setNotFoundHandler((request, reply) => {
    if (dashboard.served && request.method === 'GET' && isDashboardPath(request.url))
      return reply.sendFile('index.html');
    return sendProblem(
      reply,
      request,
      new HttpProblem(
        'route.not_found',
        `There is no route ${request.method} ${request.url.split('?')[0]}.`,
      ),
    );
  });
}
