import { and, asc, count, countDistinct, gte, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
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

    /**
     * Agents created per new login: the people who signed up since `since` (all of them
     * without it), the agents they created in the same period, and how many created one.
     */
    async activation(options: { since?: Date } = {}): Promise<{
      newUsers: number;
      agentsCreated: number;
      usersWithAgent: number;
      agentsPerNewUser: number | null;
    }> {
      const since = parse(z.date().optional(), options.since, 'since');
      const from = since ? sql`and created_at >= ${since.toISOString()}::timestamptz` : sql``;
      const [row] = await deps.unscoped((tx) =>
        queryRows<{ users: number | string; agents: number | string; with_agent: number | string }>(
          tx,
          sql`with newcomers as (
                select distinct user_id from product_events
                 where name = 'signup' and user_id is not null ${from}
              ), created as (
                select user_id, count(*) as n from product_events
                 where name = 'agent_created' and user_id in (select user_id from newcomers) ${from}
                 group by user_id
              )
              select (select count(*) from newcomers) as users,
                     (select coalesce(sum(n), 0) from created) as agents,
                     (select count(*) from created) as with_agent`,
        ),
      );
      const newUsers = Number(row?.users ?? 0);
      const agentsCreated = Number(row?.agents ?? 0);
      return {
        newUsers,
        agentsCreated,
        usersWithAgent: Number(row?.with_agent ?? 0),
        agentsPerNewUser: newUsers ? agentsCreated / newUsers : null,
      };
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
