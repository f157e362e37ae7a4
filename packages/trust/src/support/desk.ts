import type {
  BreachRow,
  Ticket,
  TicketPriority,
  TicketStatus,
  WorkspaceScope,
} from '@parley/store';
import { firstResponseDue, fulfil, type SlaStep, transition } from './sla.ts';

/*
 * The support inbox's operations in one workspace: each reads the ticket (locked), asks the
 * SLA state machine (sla.ts) what to write, and writes it through the store, in the caller's
 * transaction. Every operation that moves the clock takes `now`, so tests (and the scheduler)
 * decide what time it is.
 */

export interface NewTicket {
  subject: string;
  channel: string;
  requester: string;
  priority?: TicketPriority;
  assignee?: string;
  /** The connector thread it belongs to (`support.open_ticket`). */
  externalKey?: string;
  /** The requester's first message. */
  body?: string;
}

export interface TicketUpdate {
  status?: TicketStatus;
  priority?: TicketPriority;
  assignee?: string | null;
}

export interface TicketMessage {
  direction: 'inbound' | 'outbound';
  body: string;
}

export type SupportDesk = ReturnType<typeof supportDesk>;

export function supportDesk(ws: WorkspaceScope) {
  const tickets = ws.support;

  async function apply(ticket: Ticket, step: SlaStep | undefined, now: Date): Promise<Ticket> {
    if (!step) return ticket;
    for (const event of step.events) await tickets.appendEvent(ticket.id, event);
    return tickets.saveTicket(ticket.id, step.change, now);
  }

  const desk = {
    /** Opens a ticket: the first-response clock starts now (`activate`). */
    async createTicket(input: NewTicket, now: Date): Promise<Ticket> {
      const priority = input.priority ?? 'normal';
      const slaHours = await tickets.getPolicyHours(priority);
      const due = firstResponseDue(now, slaHours);
      const { body, ...row } = input;
      const ticket = await tickets.insertTicket(
        { ...row, priority, slaHours, firstResponseDueAt: due },
        now,
      );
      await tickets.appendEvent(ticket.id, {
        at: now,
        kind: 'activate',
        data: { slaHours, dueAt: due.toISOString(), priority },
      });
      if (body !== undefined) {
        await tickets.appendEvent(ticket.id, {
          at: now,
          kind: 'message',
          actor: 'requester',
          direction: 'inbound',
          body,
        });
      }
      return ticket;
    },

    /** Changes status, priority or assignee, recording each change and its SLA effect. */
    async updateTicket(ticketId: string, input: TicketUpdate, now: Date): Promise<Ticket> {
      let ticket = await tickets.lockTicket(ticketId);
      if (input.priority && input.priority !== ticket.priority) {
        const data = { from: ticket.priority, to: input.priority };
        await tickets.appendEvent(ticket.id, { at: now, kind: 'priority', data });
        ticket = await tickets.saveTicket(ticket.id, { priority: input.priority }, now);
      }
      if (input.assignee !== undefined && input.assignee !== ticket.assignee) {
        const data = { from: ticket.assignee, to: input.assignee };
        await tickets.appendEvent(ticket.id, { at: now, kind: 'assign', data });
        ticket = await tickets.saveTicket(ticket.id, { assignee: input.assignee }, now);
      }
      if (input.status) {
        ticket = await apply(ticket, transition(ticket, input.status, now, 'update'), now);
      }
      return ticket;
    },

    /**
     * A message on the ticket. The first outbound one fulfils the first response (and moves a
     * new ticket to open); an inbound one wakes a pending ticket and reopens a solved one.
     */
    async addMessage(ticketId: string, message: TicketMessage, now: Date): Promise<Ticket> {
      let ticket = await tickets.lockTicket(ticketId);
      await tickets.appendEvent(ticket.id, {
        at: now,
        kind: 'message',
        ...(message.direction === 'inbound' ? { actor: 'requester' as const } : {}),
        direction: message.direction,
        body: message.body,
      });
      if (message.direction === 'outbound') {
        const change = fulfil(ticket, now);
        if (change) {
          const events = [{ at: now, kind: 'fulfill' as const, data: { by: 'reply' } }];
          ticket = await apply(ticket, { change, events }, now);
        }
        if (ticket.status === 'new')
          ticket = await apply(ticket, transition(ticket, 'open', now, 'reply'), now);
        return ticket;
      }
      if (ticket.status !== 'open' && ticket.status !== 'new') {
        return apply(ticket, transition(ticket, 'open', now, 'requester_message'), now);
      }
      return tickets.saveTicket(ticket.id, {}, now);
    },

    /**
     * The path connectors and agents use: a support request on a channel thread adds to that
     * thread's latest ticket that is not closed, or opens a new one.
     */
    async openOrUpdate(
      input: NewTicket & { externalKey: string; body: string },
      now: Date,
    ): Promise<{ ticket: Ticket; created: boolean }> {
      const existing = await tickets.getThreadTicket(input.channel, input.externalKey);
      if (existing) {
        const message = { direction: 'inbound' as const, body: input.body };
        return { ticket: await desk.addMessage(existing.id, message, now), created: false };
      }
      return { ticket: await desk.createTicket(input, now), created: true };
    },

    /**
     * Records a `breach` for every ticket whose first-response deadline passed by `now` (at
     * the deadline itself, not at the time of the check). Idempotent: a ticket breaches once.
     */
    async detectBreaches(now: Date): Promise<BreachRow[]> {
      const breaches: BreachRow[] = [];
      for (const ticket of await tickets.listDueTickets(now)) {
        const deadline = ticket.firstResponseDueAt!;
        await tickets.appendEvent(ticket.id, {
          at: deadline,
          kind: 'breach',
          actor: 'system',
          data: { slaHours: ticket.slaHours, detectedAt: now.toISOString() },
        });
        await tickets.markBreached(ticket.id, deadline);
        breaches.push(breachOf(ticket, deadline));
      }
      return breaches;
    },
  };
  return desk;
}

function breachOf(ticket: Ticket, at: Date): BreachRow {
  const { subject, channel, priority, requester, assignee, slaHours } = ticket;
  return { ticketId: ticket.id, at, subject, channel, priority, requester, assignee, slaHours };
}
