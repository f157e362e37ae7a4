import { api } from '@parley/protocol';
import { and, asc, desc, eq, gte, inArray, isNull, lte, ne, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
import {
  supportSlaPolicies,
  supportTicketEvents,
  supportTickets,
  type TICKET_EVENT_KINDS,
} from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { limitSchema, parse, parseId, text } from '../validation.ts';
import { notFound } from './common.ts';

/** The API's (@parley/protocol). */
const { TICKET_PRIORITIES, TICKET_STATUSES } = api;

/*
 * The support inbox and its first-response SLA, modelled on Zendesk's metric events: the
 * ticket's event log (`activate`, `pause`, `fulfill`, `breach`, `reopen`, `message`, …) is the
 * record every metric is derived from; the ticket row carries a projection of the clock
 * (`first_response_due_at` while it runs, `sla_remaining_seconds` while it is paused) so the
 * breach check is one indexed query. Every method that moves the clock takes `now`, so tests
 * (and the scheduler) decide what time it is.
 */

export type Ticket = typeof supportTickets.$inferSelect;
export type TicketEvent = typeof supportTicketEvents.$inferSelect;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
export type TicketEventKind = (typeof TICKET_EVENT_KINDS)[number];

/** The first-response target when a workspace set none for a priority. */
export const DEFAULT_FIRST_RESPONSE_HOURS = 48;

const OPEN_STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending'];
const DONE_STATUSES: readonly TicketStatus[] = ['solved', 'closed'];
const HOUR_MS = 3_600_000;

const ChannelSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be a short lower-case name such as discord or email');

const NewTicketSchema = z
  .object({
    subject: text(300, 1),
    channel: ChannelSchema,
    requester: text(320, 1),
    priority: z.enum(TICKET_PRIORITIES).default('normal'),
    assignee: text(200, 1).optional(),
    externalKey: text(300, 1).optional(),
    /** The requester's first message. */
    body: text(20_000, 1).optional(),
  })
  .strict();

const TicketPatchSchema = z
  .object({
    status: z.enum(TICKET_STATUSES).optional(),
    priority: z.enum(TICKET_PRIORITIES).optional(),
    assignee: text(200, 1).nullable().optional(),
  })
  .strict();

const MessageSchema = z
  .object({
    direction: z.enum(['inbound', 'outbound']),
    body: text(20_000, 1),
  })
  .strict();

function actorLabel(ctx: ScopeContext): string {
  const actor = ctx.options.actor ?? { type: 'system' as const };
  return actor.id ? `${actor.type}:${actor.id}` : actor.type;
}

function when(now: unknown): Date {
  return parse(z.date(), now, 'now');
}

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

export function supportRepository(ctx: ScopeContext) {
  const ws = ctx.workspaceId;

  async function event(
    ticketId: string,
    at: Date,
    kind: TicketEventKind,
    extra: {
      direction?: 'inbound' | 'outbound';
      body?: string;
      data?: Record<string, unknown>;
    } = {},
    actor = actorLabel(ctx),
  ): Promise<void> {
    await ctx.tx.insert(supportTicketEvents).values({
      workspaceId: ws,
      ticketId,
      at,
      kind,
      actor,
      direction: extra.direction ?? null,
      body: extra.body ?? null,
      data: extra.data ?? {},
    });
  }

  async function locked(ticketId: string): Promise<Ticket> {
    const id = parseId(ticketId, 'ticket id');
    const [row] = await ctx.tx
      .select()
      .from(supportTickets)
      .where(and(eq(supportTickets.workspaceId, ws), eq(supportTickets.id, id)))
      .for('update');
    if (!row) throw notFound('ticket', id);
    return row;
  }

  async function save(ticket: Ticket, patch: Partial<Ticket>, now: Date): Promise<Ticket> {
    const [row] = await ctx.tx
      .update(supportTickets)
      .set({ ...patch, updatedAt: now })
      .where(and(eq(supportTickets.workspaceId, ws), eq(supportTickets.id, ticket.id)))
      .returning();
    return row!;
  }

  async function policyHours(priority: TicketPriority): Promise<number> {
    const [row] = await ctx.tx
      .select({ hours: supportSlaPolicies.firstResponseHours })
      .from(supportSlaPolicies)
      .where(
        and(eq(supportSlaPolicies.workspaceId, ws), eq(supportSlaPolicies.priority, priority)),
      );
    return row?.hours ?? DEFAULT_FIRST_RESPONSE_HOURS;
  }

  /** Stops the first-response clock for good (`fulfill`), unless it already was. */
  function fulfilled(ticket: Ticket, now: Date): Partial<Ticket> | undefined {
    if (ticket.firstRespondedAt) return undefined;
    return { firstRespondedAt: now, firstResponseDueAt: null, slaRemainingSeconds: null };
  }

  /** Moves the ticket to `to`, with the SLA events the move implies. */
  async function transition(ticket: Ticket, to: TicketStatus, now: Date, reason: string) {
    const from = ticket.status as TicketStatus;
    if (from === to) return ticket;
    const patch: Partial<Ticket> = { status: to };
    await event(ticket.id, now, 'status', { data: { from, to, reason } });
    if (DONE_STATUSES.includes(from) && OPEN_STATUSES.includes(to)) {
      await event(ticket.id, now, 'reopen', { data: { from } });
    }
    const clockOpen = !ticket.firstRespondedAt;
    if (clockOpen && to === 'pending' && ticket.firstResponseDueAt) {
      // Waiting on the requester: the clock stops and keeps what is left.
      const remaining = Math.max(
        0,
        Math.round((ticket.firstResponseDueAt.getTime() - now.getTime()) / 1000),
      );
      Object.assign(patch, { firstResponseDueAt: null, slaRemainingSeconds: remaining });
      await event(ticket.id, now, 'pause', { data: { remainingSeconds: remaining } });
    } else if (
      clockOpen &&
      from === 'pending' &&
      (to === 'new' || to === 'open') &&
      ticket.slaRemainingSeconds !== null
    ) {
      const due = new Date(now.getTime() + ticket.slaRemainingSeconds * 1000);
      Object.assign(patch, { firstResponseDueAt: due, slaRemainingSeconds: null });
      await event(ticket.id, now, 'activate', {
        data: { resumed: true, dueAt: due.toISOString() },
      });
    } else if (clockOpen && DONE_STATUSES.includes(to)) {
      // Solved without a reply: the clock stops; it counts as the first response.
      Object.assign(patch, fulfilled(ticket, now));
      await event(ticket.id, now, 'fulfill', { data: { by: to } });
    }
    return save(ticket, patch, now);
  }

  const repo = {
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
      return repo.getPolicy();
    },

    /** Opens a ticket: the first-response clock starts now (`activate`). */
    async createTicket(input: z.input<typeof NewTicketSchema>, now: Date): Promise<Ticket> {
      const v = parse(NewTicketSchema, input, 'ticket');
      const at = when(now);
      const slaHours = await policyHours(v.priority);
      const due = new Date(at.getTime() + slaHours * HOUR_MS);
      const [ticket] = await ctx.tx
        .insert(supportTickets)
        .values({
          workspaceId: ws,
          subject: v.subject,
          channel: v.channel,
          requester: v.requester,
          priority: v.priority,
          assignee: v.assignee ?? null,
          externalKey: v.externalKey ?? null,
          slaHours,
          firstResponseDueAt: due,
          createdAt: at,
          updatedAt: at,
        })
        .returning();
      await event(ticket!.id, at, 'activate', {
        data: { slaHours, dueAt: due.toISOString(), priority: v.priority },
      });
      if (v.body) {
        await event(ticket!.id, at, 'message', { direction: 'inbound', body: v.body }, 'requester');
      }
      return ticket!;
    },

    async getTicket(ticketId: string): Promise<Ticket | undefined> {
      const id = parseId(ticketId, 'ticket id');
      const [row] = await ctx.tx
        .select()
        .from(supportTickets)
        .where(and(eq(supportTickets.workspaceId, ws), eq(supportTickets.id, id)));
      return row;
    },

    /** The latest ticket of a connector thread that is not closed, if any. */
    async getThreadTicket(channel: string, externalKey: string): Promise<Ticket | undefined> {
      const v = parse(
        z.object({ channel: ChannelSchema, externalKey: text(300, 1) }),
        { channel, externalKey },
        'thread',
      );
      const [row] = await ctx.tx
        .select()
        .from(supportTickets)
        .where(
          and(
            eq(supportTickets.workspaceId, ws),
            eq(supportTickets.channel, v.channel),
            eq(supportTickets.externalKey, v.externalKey),
            ne(supportTickets.status, 'closed'),
          ),
        )
        .orderBy(desc(supportTickets.createdAt))
        .limit(1);
      return row;
    },

    /** Newest first; `status: 'active'` means new, open or pending. */
    async listTickets(
      options: { status?: TicketStatus | 'active'; channel?: string; limit?: number } = {},
    ): Promise<Ticket[]> {
      const v = parse(
        z.object({
          status: z.enum([...TICKET_STATUSES, 'active']).optional(),
          channel: ChannelSchema.optional(),
          limit: limitSchema.default(100),
        }),
        options,
        'list options',
      );
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

    /** The ticket's event log, oldest first. */
    async listEvents(ticketId: string): Promise<TicketEvent[]> {
      const id = parseId(ticketId, 'ticket id');
      return ctx.tx
        .select()
        .from(supportTicketEvents)
        .where(and(eq(supportTicketEvents.workspaceId, ws), eq(supportTicketEvents.ticketId, id)))
        .orderBy(asc(supportTicketEvents.at), asc(supportTicketEvents.seq));
    },

    /** Changes status, priority or assignee, recording each change and its SLA effect. */
    async updateTicket(
      ticketId: string,
      input: z.input<typeof TicketPatchSchema>,
      now: Date,
    ): Promise<Ticket> {
      const v = parse(TicketPatchSchema, input, 'ticket change');
      const at = when(now);
      let ticket = await locked(ticketId);
      if (v.priority && v.priority !== ticket.priority) {
        await event(ticket.id, at, 'priority', { data: { from: ticket.priority, to: v.priority } });
        ticket = await save(ticket, { priority: v.priority }, at);
      }
      if (v.assignee !== undefined && v.assignee !== ticket.assignee) {
        await event(ticket.id, at, 'assign', { data: { from: ticket.assignee, to: v.assignee } });
        ticket = await save(ticket, { assignee: v.assignee }, at);
      }
      if (v.status) ticket = await transition(ticket, v.status, at, 'update');
      return ticket;
    },

    /**
     * A message on the ticket. The first outbound one fulfils the first response (and moves a
     * new ticket to open); an inbound one wakes a pending ticket and reopens a solved one.
     */
    async addMessage(
      ticketId: string,
      input: z.input<typeof MessageSchema>,
      now: Date,
    ): Promise<Ticket> {
      const v = parse(MessageSchema, input, 'message');
      const at = when(now);
      let ticket = await locked(ticketId);
      const actor = v.direction === 'inbound' ? 'requester' : actorLabel(ctx);
      await event(ticket.id, at, 'message', { direction: v.direction, body: v.body }, actor);
      if (v.direction === 'outbound') {
        const patch = fulfilled(ticket, at);
        if (patch) {
          await event(ticket.id, at, 'fulfill', { data: { by: 'reply' } });
          ticket = await save(ticket, patch, at);
        }
        if (ticket.status === 'new') ticket = await transition(ticket, 'open', at, 'reply');
      } else if (ticket.status !== 'open' && ticket.status !== 'new') {
        ticket = await transition(ticket, 'open', at, 'requester_message');
      } else {
        ticket = await save(ticket, {}, at);
      }
      return ticket;
    },

    /**
     * The path connectors and agents use: a support request on a channel thread adds to that
     * thread's latest ticket that is not closed, or opens a new one.
     */
    async openOrUpdate(
      input: z.input<typeof NewTicketSchema> & { externalKey: string; body: string },
      now: Date,
    ): Promise<{ ticket: Ticket; created: boolean }> {
      const v = parse(NewTicketSchema, input, 'support request');
      const existing = v.externalKey
        ? await repo.getThreadTicket(v.channel, v.externalKey)
        : undefined;
      if (existing) {
        const ticket = await repo.addMessage(
          existing.id,
          { direction: 'inbound', body: v.body ?? v.subject },
          now,
        );
        return { ticket, created: false };
      }
      return { ticket: await repo.createTicket(input, now), created: true };
    },

    /**
     * Records a `breach` for every ticket whose first-response deadline passed by `now` (at
     * the deadline itself, not at the time of the check). Idempotent: a ticket breaches once.
     */
    async detectBreaches(now: Date): Promise<BreachRow[]> {
      const at = when(now);
      const due = await ctx.tx
        .select()
        .from(supportTickets)
        .where(
          and(
            eq(supportTickets.workspaceId, ws),
            lte(supportTickets.firstResponseDueAt, at),
            isNull(supportTickets.slaBreachedAt),
            isNull(supportTickets.firstRespondedAt),
          ),
        )
        .for('update', { skipLocked: true });
      const breaches: BreachRow[] = [];
      for (const ticket of due) {
        const deadline = ticket.firstResponseDueAt!;
        await event(
          ticket.id,
          deadline,
          'breach',
          { data: { slaHours: ticket.slaHours, detectedAt: at.toISOString() } },
          'system',
        );
        await ctx.tx
          .update(supportTickets)
          .set({ slaBreachedAt: deadline })
          .where(and(eq(supportTickets.workspaceId, ws), eq(supportTickets.id, ticket.id)));
        breaches.push({
          ticketId: ticket.id,
          at: deadline,
          subject: ticket.subject,
          channel: ticket.channel,
          priority: ticket.priority,
          requester: ticket.requester,
          assignee: ticket.assignee,
          slaHours: ticket.slaHours,
        });
      }
      return breaches;
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
  return repo;
}
