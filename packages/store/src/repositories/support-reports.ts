import { api } from '@parley/protocol';
import { and, asc, desc, eq, gte, inArray, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
import { supportTicketEvents, supportTickets } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { limitSchema, parse } from '../validation.ts';
import type { Ticket, TicketEvent, TicketStatus } from './support.ts';
import { ChannelSchema, OPEN_STATUSES } from './support-shapes.ts';

/*
 * What the support inbox's reports read: the breaches, the tickets and events the metrics are
 * computed from (@parley/trust), and the inbound messages' normalised words.
 */

const { TICKET_STATUSES } = api;

const ListTicketsSchema = z.object({
  status: z.enum([...TICKET_STATUSES, 'active']).optional(),
  channel: ChannelSchema.optional(),
  limit: limitSchema.default(100),
});

export interface BreachRow {
  ticketId: string;
  at: Date;
  subject: string;
  channel: string;
  priority: string;
  requester: string;
  assignee: string | null;
  slaHours: number;
}

export function supportReports(ctx: ScopeContext) {
  const ws = ctx.workspaceId;
  return {
    /** Newest first; `status: 'active'` means new, open or pending. */
    async listTickets(
      options: { status?: TicketStatus | 'active'; channel?: string; limit?: number } = {},
    ): Promise<Ticket[]> {
      const v = parse(ListTicketsSchema, options, 'list options');
      return ctx.tx
        .select()
        .from(supportTickets)
        .where(
          and(
            eq(supportTickets.workspaceId, ws),
            v.status === 'active'
              ? inArray(supportTickets.status, [...OPEN_STATUSES])
              : v.status
                ? eq(supportTickets.status, v.status)
                : undefined,
            v.channel ? eq(supportTickets.channel, v.channel) : undefined,
          ),
        )
        .orderBy(desc(supportTickets.createdAt), desc(supportTickets.id))
        .limit(v.limit);
    },

    /** Breach events since a time, newest first, with their ticket. */
    async listBreaches(options: { since?: Date; limit?: number } = {}): Promise<BreachRow[]> {
      const v = parse(
        z.object({ since: z.date().default(new Date(0)), limit: limitSchema.default(100) }),
        options,
        'list options',
      );
      const rows = await ctx.tx
        .select({ event: supportTicketEvents, ticket: supportTickets })
        .from(supportTicketEvents)
        .innerJoin(
          supportTickets,
          and(
            eq(supportTickets.workspaceId, supportTicketEvents.workspaceId),
            eq(supportTickets.id, supportTicketEvents.ticketId),
          ),
        )
        .where(
          and(
            eq(supportTicketEvents.workspaceId, ws),
            eq(supportTicketEvents.kind, 'breach'),
            gte(supportTicketEvents.at, v.since),
          ),
        )
        .orderBy(desc(supportTicketEvents.at), desc(supportTicketEvents.seq))
        .limit(v.limit);
      return rows.map(({ event: e, ticket: t }) => ({
        ticketId: t.id,
        at: e.at,
        subject: t.subject,
        channel: t.channel,
        priority: t.priority,
        requester: t.requester,
        assignee: t.assignee,
        slaHours: t.slaHours,
      }));
    },

    /**
     * What the metrics are computed from: tickets created since `since` or still active, and
     * every event of those tickets (bounded by `limit` tickets, newest first).
     */
    async listMetricsData(options: {
      since: Date;
      limit?: number;
    }): Promise<{ tickets: Ticket[]; events: TicketEvent[]; truncated: boolean }> {
      const v = parse(
        z.object({ since: z.date(), limit: z.number().int().min(1).max(50_000).default(10_000) }),
        options,
        'metrics options',
      );
      const tickets = await ctx.tx
        .select()
        .from(supportTickets)
        .where(
          and(
            eq(supportTickets.workspaceId, ws),
            or(
              gte(supportTickets.createdAt, v.since),
              inArray(supportTickets.status, [...OPEN_STATUSES]),
              gte(supportTickets.updatedAt, v.since),
            ),
          ),
        )
        .orderBy(desc(supportTickets.createdAt))
        .limit(v.limit + 1);
      const truncated = tickets.length > v.limit;
      if (truncated) tickets.pop();
      const ids = tickets.map((t) => t.id);
      const events =
        ids.length === 0
          ? []
          : await ctx.tx
              .select()
              .from(supportTicketEvents)
              .where(
                and(
                  eq(supportTicketEvents.workspaceId, ws),
                  inArray(supportTicketEvents.ticketId, ids),
                ),
              )
              .orderBy(asc(supportTicketEvents.at), asc(supportTicketEvents.seq));
      return { tickets, events, truncated };
    },

    /**
     * Inbound support messages since a time with their normalised words: PostgreSQL's English
     * full-text configuration stems them and drops stop words, so "How do I migrate my
     * tokens?" and "how to migrate tokens" both become `migrat token`.
     */
    async listInboundTerms(options: {
      since: Date;
      limit?: number;
    }): Promise<{ ticketId: string; body: string; terms: string[] }[]> {
      const v = parse(
        z.object({ since: z.date(), limit: z.number().int().min(1).max(20_000).default(5_000) }),
        options,
        'options',
      );
      const rows = await queryRows<{ ticket_id: string; body: string; terms: string[] }>(
        ctx.tx,
        sql`select ticket_id, body, tsvector_to_array(to_tsvector('english', body)) as terms
              from support_ticket_events
             where workspace_id = ${ws} and kind = 'message' and direction = 'inbound'
               and at >= ${v.since.toISOString()}::timestamptz
             order by at desc limit ${v.limit}`,
      );
      return rows.map((r) => ({ ticketId: r.ticket_id, body: r.body, terms: r.terms }));
    },
  };
}
