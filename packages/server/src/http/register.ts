import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import { actorOf } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import { authorize } from './authorize.ts';
import { checkRequestValues } from './body-check.ts';
import type { Grant, RouteContext, RouteSpec } from './route.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    grant: Grant | undefined;
  }
  interface FastifyContextConfig {
    /** The route's spec, for hooks (metrics labels, the authorization matrix). */
    spec?: RouteSpec;
  }
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

function context(
  spec: RouteSpec,
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
): RouteContext<unknown, unknown, unknown> {
  const grant = () => {
    if (!request.grant) throw new Error(`route ${spec.operationId} has no workspace grant`);
    return request.grant;
  };
  const userAgent = request.headers['user-agent']?.slice(0, 1_000);
  const scope = {
    actor: actorOf(request.principal),
    ip: request.ip,
    requestId: request.id,
    ...(userAgent ? { userAgent } : {}),
  };
  return {
    request,
    reply,
    params: request.params,
    query: request.query,
    body: request.body,
    principal: request.principal,
    services,
    grant,
    scope,
    inWorkspace: (fn) => services.store.withWorkspace(grant().workspaceId, fn, scope),
  };
}

/**
 * Registers the route table: zod schemas for validation, serialization and the OpenAPI
 * document; authorization before validation (so a stranger learns nothing from a 400), then
 * the checks every body and query gets (body-check.ts); the first listed response status as
 * the default.
 */
export function registerRoutes(
  app: FastifyInstance,
  routes: readonly RouteSpec[],
  services: Services,
) {
  const raw: Parameters<FastifyInstance['route']>[0][] = [];
  for (const spec of routes) {
    // 204 has no body, hence no schema.
    const responses = Object.fromEntries(
      Object.entries(spec.responses).filter(([, schema]) => schema !== null),
    );
    // The lowest code listed (JavaScript lists integer keys in ascending order, whatever order
    // they were written in): a route that answers another on some paths sets it itself.
    const defaultStatus = Number(Object.keys(spec.responses)[0]);
    const options: Parameters<FastifyInstance['route']>[0] = {
      method: spec.method,
      url: spec.url,
      bodyLimit: spec.bodyLimit ?? DEFAULT_BODY_LIMIT,
      config: { spec },
      schema: {
        operationId: spec.operationId,
        summary: spec.summary,
        ...(spec.description ? { description: spec.description } : {}),
        tags: [spec.tag],
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { querystring: spec.query } : {}),
        ...(spec.body ? { body: spec.body } : {}),
        response: responses,
        ...(spec.access.kind === 'public' ? { security: [] } : {}),
      },
      preValidation: async (request) => {
        request.grant = await authorize(
          spec.access,
          request.principal,
          request.params as Record<string, unknown>,
          request,
          services,
        );
        // Before the schema: text the database cannot store, and nesting that would overflow it.
        checkRequestValues({ body: request.body, query: request.query });
      },
      handler: async (request, reply) => {
        reply.code(defaultStatus);
        const result = await spec.handler(context(spec, request, reply, services));
        if (reply.sent) return reply;
        if (reply.statusCode === 204) return reply.send();
        return result;
      },
    };
    if (spec.rawBody) raw.push(options);
    else app.route(options);
  }
  // Routes that read the body as sent: in a scope of their own, whose one parser keeps text.
  if (raw.length > 0)
    app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) =>
        done(null, body),
      );
      for (const options of raw) scope.route(options);
    });
}
