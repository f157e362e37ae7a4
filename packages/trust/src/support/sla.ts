import type { NewTicketEvent, Ticket, TicketChange, TicketStatus } from '@parley/store';

/*
 * The first-response SLA as a state machine, modelled on Zendesk's metric events: opening a
 * ticket starts the clock (`activate`); waiting on the requester (pending) stops it and keeps
 * what is left (`pause`); the requester answering resumes it (`activate`, resumed); the first
 * reply, or solving without one, stops it for good (`fulfill`); a solved ticket moved back is a
 * `reopen`. Pure: each function says what to write, given a ticket and `now`; the support desk
 * (desk.ts) writes it in the caller's transaction.
 */

export const OPEN_STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending'];
export const DONE_STATUSES: readonly TicketStatus[] = ['solved', 'closed'];
const HOUR_MS = 3_600_000;

/** What one step of the machine writes: a change of the ticket row and events for its log. */
export interface SlaStep {
  change: TicketChange;
  events: NewTicketEvent[];
}

/** The deadline of a ticket opened at `now` with a target of `slaHours`. */
export function firstResponseDue(now: Date, slaHours: number): Date {
  return new Date(now.getTime() + slaHours * HOUR_MS);
}

/** Stops the first-response clock for good, unless it already was. */
export function fulfil(ticket: Ticket, now: Date): TicketChange | undefined {
  if (ticket.firstRespondedAt) return undefined;
  return { firstRespondedAt: now, firstResponseDueAt: null, slaRemainingSeconds: null };
}

/** Moving the ticket to `to`: the status change and the SLA events the move implies. */
export function transition(
  ticket: Ticket,
  to: TicketStatus,
  now: Date,
  reason: string,
): SlaStep | undefined {
  const from = ticket.status as TicketStatus;
  if (from === to) return undefined;
  const events: NewTicketEvent[] = [{ at: now, kind: 'status', data: { from, to, reason } }];
  if (DONE_STATUSES.includes(from) && OPEN_STATUSES.includes(to)) {
    events.push({ at: now, kind: 'reopen', data: { from } });
  }
  const clock = clockOnTransition(ticket, from, to, now);
  return {
    change: { status: to, ...clock?.change },
    events: [...events, ...(clock?.events ?? [])],
  };
}

/** What a status change does to a first-response clock that is still open. */
function clockOnTransition(
  ticket: Ticket,
  from: TicketStatus,
  to: TicketStatus,
  now: Date,
): SlaStep | undefined {
  if (ticket.firstRespondedAt) return undefined;
  if (to === 'pending' && ticket.firstResponseDueAt) {
    // Waiting on the requester: the clock stops and keeps what is left.
    const remaining = Math.max(
      0,
      Math.round((ticket.firstResponseDueAt.getTime() - now.getTime()) / 1000),
    );
    return {
      change: { firstResponseDueAt: null, slaRemainingSeconds: remaining },
      events: [{ at: now, kind: 'pause', data: { remainingSeconds: remaining } }],
    };
  }
  if (
    from === 'pending' &&
    (to === 'new' || to === 'open') &&
    ticket.slaRemainingSeconds !== null
  ) {
    const due = new Date(now.getTime() + ticket.slaRemainingSeconds * 1000);
    return {
      change: { firstResponseDueAt: due, slaRemainingSeconds: null },
      events: [{ at: now, kind: 'activate', data: { resumed: true, dueAt: due.toISOString() } }],
    };
  }
  if (DONE_STATUSES.includes(to)) {
    // Solved without a reply: the clock stops; it counts as the first response.
    return {
      change: fulfil(ticket, now) ?? {},
      events: [{ at: now, kind: 'fulfill', data: { by: to } }],
    };
  }
  return undefined;
}
