import { z } from 'zod';

/* Liveness and readiness (GET /healthz, GET /readyz), for load balancers and `parley doctor`. */

export const HealthSchema = z.object({ ok: z.literal(true) });

export const ReadinessSchema = z.object({
  ok: z.literal(true),
  database: z.enum(['pglite', 'postgres']),
  dbMs: z.number(),
  /** How the cluster bus carries messages; a down bus does not make the instance unready. */
  bus: z.object({
    kind: z.enum(['local', 'postgres', 'redis']),
    up: z.boolean(),
    via: z.enum(['local', 'postgres', 'redis', 'none']),
    detail: z.string().optional(),
  }),
});
