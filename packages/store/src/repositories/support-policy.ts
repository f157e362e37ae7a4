import { api } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { supportSlaPolicies } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { parse } from '../validation.ts';
import type { TicketPriority } from './support.ts';

/* The support inbox's first-response targets, per priority, per workspace. */

const { TICKET_PRIORITIES } = api;

/** The first-response target when a workspace set none for a priority. */
export const DEFAULT_FIRST_RESPONSE_HOURS = 48;

export function supportPolicy(ctx: ScopeContext) {
  const ws = ctx.workspaceId;
  const policy = {
    /** First-response hours per priority (48 where the workspace set nothing). */
    async getPolicy(): Promise<Record<TicketPriority, number>> {
      const rows = await ctx.tx
        .select()
        .from(supportSlaPolicies)
        .where(eq(supportSlaPolicies.workspaceId, ws));
      const policy = Object.fromEntries(
        TICKET_PRIORITIES.map((p) => [p, DEFAULT_FIRST_RESPONSE_HOURS]),
      ) as Record<TicketPriority, number>;
      for (const row of rows) policy[row.priority as TicketPriority] = row.firstResponseHours;
      return policy;
    },

    /** The first-response hours of one priority (48 where the workspace set nothing). */
    async getPolicyHours(priority: TicketPriority): Promise<number> {
      const p = parse(z.enum(TICKET_PRIORITIES), priority, 'priority');
      const [row] = await ctx.tx
        .select({ hours: supportSlaPolicies.firstResponseHours })
        .from(supportSlaPolicies)
        .where(and(eq(supportSlaPolicies.workspaceId, ws), eq(supportSlaPolicies.priority, p)));
      return row?.hours ?? DEFAULT_FIRST_RESPONSE_HOURS;
    },

    /** Sets the first-response target of priorities; applies to tickets created afterwards. */
    async setPolicy(input: Partial<Record<TicketPriority, number>>) {
      const hours = z.number().int().min(1).max(8_760);
      const value = parse(
        z.object(Object.fromEntries(TICKET_PRIORITIES.map((p) => [p, hours.optional()]))).strict(),
        input,
        'SLA policy',
      ) as Partial<Record<TicketPriority, number>>;
      for (const [priority, firstResponseHours] of Object.entries(value)) {
        if (firstResponseHours === undefined) continue;
        await ctx.tx
          .insert(supportSlaPolicies)
          .values({ workspaceId: ws, priority, firstResponseHours })
          .onConflictDoUpdate({
            target: [supportSlaPolicies.workspaceId, supportSlaPolicies.priority],
            set: { firstResponseHours, updatedAt: sql`now()` },
          });
      }
      await ctx.audit({
        action: 'support.policy_update',
        targetType: 'support_sla_policy',
        metadata: { firstResponseHours: value },
      });
      return policy.getPolicy();
    },
  };
  return policy;
}
