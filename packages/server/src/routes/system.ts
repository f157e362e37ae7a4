import { createHash, timingSafeEqual } from 'node:crypto';
import { api } from '@parley/protocol';
import { z } from 'zod';
import { isLoopback } from '../config.ts';
import { HttpProblem } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Compares without leaking how much of the secret matched. */
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** Liveness, readiness, the OpenAPI document and Prometheus metrics. */
export const systemRoutes = [
  defineRoute({
    method: 'GET',
    url: '/healthz',
    operationId: 'health',
    summary: 'Liveness: the process answers.',
    tag: 'system',
    access: { kind: 'public' },
    responses: { 200: api.HealthSchema },
    handler: async () => ({ ok: true as const }),
  }),
  defineRoute({
    method: 'GET',
    url: '/readyz',
    operationId: 'ready',
    summary:
      'Readiness: the database answers and the schema is current; how the cluster bus carries messages.',
    tag: 'system',
    access: { kind: 'public' },
    responses: { 200: api.ReadinessSchema },
    handler: async ({ services }) => {
      try {
        const dbMs = await services.store.ping();
        // A down bus does not make the instance unready: followers of other instances' runs
        // poll the log instead (slower), and the detail says so.
        const bus = services.bus.status();
        return { ok: true as const, database: services.store.kind, dbMs, bus };
      } catch {
        throw new HttpProblem('server.unavailable', 'The database does not answer.', {
          retryAfterMs: 1_000,
        });
      }
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/openapi.json',
    operationId: 'openapi',
    summary: 'This API, as an OpenAPI 3 document.',
    tag: 'system',
    access: { kind: 'public' },
    responses: { 200: z.record(z.string(), z.unknown()) },
    handler: async ({ request }) => request.server.swagger() as unknown as Record<string, unknown>,
  }),
  defineRoute({
    method: 'GET',
    url: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics (text format). Beyond loopback it needs PARLEY_METRICS_TOKEN.',
    tag: 'system',
    access: { kind: 'public' },
    // Prometheus text, not JSON: no schema to serialise with.
    responses: { 200: null },
    handler: async ({ request, reply, services }) => {
      if (!isLoopback(request.ip)) {
        const expected = services.config.metricsToken;
        const given = request.headers['x-metrics-token'];
        if (!expected || typeof given !== 'string' || !sameSecret(given, expected))
          throw new HttpProblem(
            'auth.required',
            'Metrics beyond loopback need the X-Metrics-Token header (PARLEY_METRICS_TOKEN).',
          );
      }
      reply.type(services.metrics.registry.contentType);
      return services.metrics.registry.metrics();
    },
  }),
];
