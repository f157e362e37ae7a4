import { and, asc, count, countDistinct, gte, sql } from 'drizzle-orm';
import { z } from 'zod';
import { productEvents } from '../schema/index.ts';
import { jsonLimit, parse, uuidSchema } from '../validation.ts';
import type { SystemDeps } from './deps.ts';

/** The product funnel, in order (DESIGN.md §6). */
export const FUNNEL_STEPS = [
  'signup',
  'agent_created',
  'provider_selected',
  'first_run',
  'deployed',
] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];

const ProductEventSchema = z.object({
  name: z.enum(FUNNEL_STEPS),
  userId: uuidSchema.optional(),
  /** Counts and labels only (`{ provider: 'openai' }`), never content, never secrets. */
  props: z
    .record(z.string(), z.union([z.string().max(100), z.number(), z.boolean()]))
    .superRefine(jsonLimit(4_000))
    .optional(),
});

export function productEventsSystem(deps: SystemDeps) {
  return {
    async record(input: z.input<typeof ProductEventSchema>): Promise<void> {
      const value = parse(ProductEventSchema, input, 'product event');
      await deps.unscoped((tx) =>
        tx.insert(productEvents).values({
          name: value.name,
          userId: value.userId ?? null,
          props: (value.props ?? {}) as Record<string, unknown>,
        }),
      );
    },

    /** How many distinct users reached each step (events without a user count as events). */
    async funnel(
      options: { since?: Date } = {},
    ): Promise<{ step: FunnelStep; users: number; events: number }[]> {
      const since = parse(z.date().optional(), options.since, 'since');
      const rows = await deps.unscoped((tx) =>
        tx
          .select({
            name: productEvents.name,
            users: countDistinct(productEvents.userId),
            events: count(),
          })
          .from(productEvents)
          .where(and(since ? gte(productEvents.at, since) : undefined, sql`true`))
          .groupBy(productEvents.name)
          .orderBy(asc(productEvents.name)),
      );
      const byName = new Map(rows.map((r) => [r.name, r]));
      return FUNNEL_STEPS.map((step) => ({
        step,
        users: Number(byName.get(step)?.users ?? 0),
        events: Number(byName.get(step)?.events ?? 0),
      }));
    },
  };
}
