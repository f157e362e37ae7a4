import { api } from '@parley/protocol';
import { and, asc, desc, eq, isNull, lte, ne } from 'drizzle-orm';
import { z } from 'zod';
import { supportTicketEvents, supportTickets, TICKET_EVENT_KINDS } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { parse, parseId, text } from '../validation.ts';
import { actorLabel, notFound } from './common.ts';
import { supportPolicy } from './support-policy.ts';
import { supportReports } from './support-reports.ts';
import { ChannelSchema } from './support-shapes.ts';

/** The API's (@parley/protocol). */
const { TICKET_PRIORITIES, TICKET_STATUSES } = api;

/*
 * The support inbox's data: tickets, their event log (`activate`, `pause`, `fulfill`, `breach`,
 * `reopen`, `message`, …) and the first-response policy per priority. The ticket row carries a
 * projection of the SLA clock (`first_response_due_at` while it runs, `sla_remaining_seconds`
 * while it is paused) so the breach check is one indexed query. What moves the clock (the SLA
 * state machine) is @parley/trust's support desk; this repository only reads and writes rows.
 */

export type Ticket = typeof supportTickets.$inferSelect;
export type TicketEvent = typeof supportTicketEvents.$inferSelect;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
export type TicketEventKind = (typeof TICKET_EVENT_KINDS)[number];

export { DEFAULT_FIRST_RESPONSE_HOURS } from './support-policy.ts';

const NewTicketSchema = z
  .object({
    subject: text(300, 1),
    channel: ChannelSchema,
    requester: text(320, 1),
    priority: z.enum(TICKET_PRIORITIES),
    assignee: text(200, 1).optional(),
    externalKey: text(300, 1).optional(),
    slaHours: z.number().int().min(1).max(8_760),
    firstResponseDueAt: z.date(),
  })
  .strict();

/** The columns a change may set: status, priority, assignee and the SLA clock's projection. */
const TicketChangeSchema = z
  .object({
    status: z.enum(TICKET_STATUSES).optional(),
    priority: z.enum(TICKET_PRIORITIES).optional(),
    assignee: text(200, 1).nullable().optional(),
    firstResponseDueAt: z.date().nullable().optional(),
    slaRemainingSeconds: z.number().int().min(0).nullable().optional(),
    firstRespondedAt: z.date().nullable().optional(),
  })
  .strict();

const EventSchema = z
  .object({
    at: z.date(),
    kind: z.enum(TICKET_EVENT_KINDS),
    /** Who: the scope's actor unless the requester (an inbound message) or the system. */
    actor: z.enum(['requester', 'system']).optional(),
    direction: z.enum(['inbound', 'outbound']).optional(),
    body: text(20_000, 1).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const ThreadSchema = z.object({ channel: ChannelSchema, externalKey: text(300, 1) });

export type NewTicketRow = z.input<typeof NewTicketSchema>;
export type TicketChange = z.input<typeof TicketChangeSchema>;
export type NewTicketEvent = z.input<typeof EventSchema>;

function when(now: unknown): Date {
  return parse(z.date(), now, 'now');
}

export function supportRepository(ctx: ScopeContext) {
  const ws = ctx.workspaceId;
  const ofTicket = (id: string) =>
    and(eq(supportTickets.workspaceId, ws), eq(supportTickets.id, id));

  const repo = {
    ...supportPolicy(ctx),

    /** Writes a new ticket row, created at `now`, its clock as the caller computed it. */
    async insertTicket(input: NewTicketRow, now: Date): Promise<Ticket> {
      const v = parse(NewTicketSchema, input, 'ticket');
      const at = when(now);
      const [ticket] = await ctx.tx
        .insert(supportTickets)
        .values({
          workspaceId: ws,
          ...v,
          assignee: v.assignee ?? null,
          externalKey: v.externalKey ?? null,
          createdAt: at,
          updatedAt: at,
        })
        .returning();
      return ticket!;
    },

    /** The ticket, locked until the transaction ends (a change reads, decides, then writes). */
    async lockTicket(ticketId: string): Promise<Ticket> {
      const id = parseId(ticketId, 'ticket id');
      const [row] = await ctx.tx.select().from(supportTickets).where(ofTicket(id)).for('update');
      if (!row) throw notFound('ticket', id);
      return row;
    },

    /** Sets some columns of a ticket and its `updatedAt` to `now`. */
    async saveTicket(ticketId: string, change: TicketChange, now: Date): Promise<Ticket> {
      const id = parseId(ticketId, 'ticket id');
      const v = parse(TicketChangeSchema, change, 'ticket change');
      const [row] = await ctx.tx
        .update(supportTickets)
        .set({ ...v, updatedAt: when(now) })
        .where(ofTicket(id))
        .returning();
      if (!row) throw notFound('ticket', id);
      return row;
    },

    /** Appends one event to a ticket's log. */
    async appendEvent(ticketId: string, input: NewTicketEvent): Promise<void> {
      const id = parseId(ticketId, 'ticket id');
      const v = parse(EventSchema, input, 'ticket event');
      await ctx.tx.insert(supportTicketEvents).values({
        workspaceId: ws,
        ticketId: id,
        at: v.at,
        kind: v.kind,
        actor: v.actor ?? actorLabel(ctx),
        direction: v.direction ?? null,
        body: v.body ?? null,
        data: v.data ?? {},
      });
    },

    async getTicket(ticketId: string): Promise<Ticket | undefined> {
      const id = parseId(ticketId, 'ticket id');
      const [row] = await ctx.tx.select().from(supportTickets).where(ofTicket(id));
      return row;
    },

    /** The latest ticket of a connector thread that is not closed, if any. */
    async getThreadTicket(channel: string, externalKey: string): Promise<Ticket | undefined> {
      const v = parse(ThreadSchema, { channel, externalKey }, 'thread');
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

    /** The ticket's event log, oldest first. */
    async listEvents(ticketId: string): Promise<TicketEvent[]> {
      const id = parseId(ticketId, 'ticket id');
      return ctx.tx
        .select()
        .from(supportTicketEvents)
        .where(and(eq(supportTicketEvents.workspaceId, ws), eq(supportTicketEvents.ticketId, id)))
        .orderBy(asc(supportTicketEvents.at), asc(supportTicketEvents.seq));
    },

    /**
     * Tickets whose first-response deadline passed by `now`, not yet breached nor answered,
     * locked (skipping rows another check holds) until the transaction ends.
     */
    async listDueTickets(now: Date): Promise<Ticket[]> {
      const at = when(now);
      return ctx.tx
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
    },

    /** Records when a ticket breached its first-response SLA (its deadline). */
    async markBreached(ticketId: string, at: Date): Promise<void> {
      const id = parseId(ticketId, 'ticket id');
      await ctx.tx
        .update(supportTickets)
        .set({ slaBreachedAt: when(at) })
        .where(ofTicket(id));
    },

    ...supportReports(ctx),
  };
  return repo;
}
