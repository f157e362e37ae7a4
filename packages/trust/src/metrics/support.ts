import type { Ticket, TicketEvent } from '@parley/store';

/*
 * Support metrics, derived from the tickets' event logs only (Zendesk's metric-event model):
 * nothing here reads a counter that could drift from the log. Pure functions of their input
 * and `now`, so a hand-computed example can pin them (test/trust-metrics.test.ts).
 *
 *  - first response: from the ticket's first `activate` to its `fulfill`, minus the time the
 *    clock was paused (`pause` → next `activate`). Calendar hours, not business hours.
 *  - within SLA: of the tickets created in the window whose first response is settled
 *    (fulfilled, or breached), the share fulfilled without a `breach`.
 *  - percentiles: linear interpolation between closest ranks (PostgreSQL's percentile_cont).
 *  - backlog: tickets new, open or pending, by age since creation (never since the last touch).
 *  - reopen rate: of the tickets solved or closed in the window, the share with a `reopen`.
 */

const DAY_MS = 86_400_000;
const ACTIVE = new Set(['new', 'open', 'pending']);
const DONE = new Set(['solved', 'closed']);

export const AGE_BANDS = [
  { band: '0-1d', maxMs: DAY_MS },
  { band: '1-3d', maxMs: 3 * DAY_MS },
  { band: '3-7d', maxMs: 7 * DAY_MS },
  { band: '>7d', maxMs: Number.POSITIVE_INFINITY },
] as const;
export type AgeBand = (typeof AGE_BANDS)[number]['band'];

export interface SupportMetrics {
  since: string;
  until: string;
  ticketsCreated: number;
  firstResponse: {
    /** Tickets with a first response (fulfilled) in the window. */
    count: number;
    p50Seconds: number | null;
    p90Seconds: number | null;
    /** fulfilled without breach ÷ (fulfilled + breached); null when nothing is settled. */
    withinSlaRatio: number | null;
    breached: number;
  };
  /** Breach events per ISO week (its Monday, UTC) and channel. */
  breachesByWeek: { week: string; channel: string; count: number }[];
  backlog: {
    open: number;
    byAgeBand: Record<AgeBand, number>;
    oldest: { ticketId: string; ageSeconds: number; subject: string } | null;
    p90AgeSeconds: number | null;
  };
  reopen: { solved: number; reopened: number; ratio: number | null };
}

/** percentile_cont: linear interpolation between the closest ranks of the sorted values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** The Monday (UTC) of the ISO week `at` falls in, as YYYY-MM-DD. */
export function weekOf(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const offset = (day.getUTCDay() + 6) % 7; // Monday = 0
  return new Date(day.getTime() - offset * DAY_MS).toISOString().slice(0, 10);
}

interface Replay {
  firstResponseMs?: number;
  breached: boolean;
  solvedAt?: Date;
  reopened: boolean;
}

/** Walks one ticket's events in order and measures its first-response clock. */
export function replayTicket(events: readonly TicketEvent[]): Replay {
  let started: Date | undefined;
  let pausedSince: Date | undefined;
  let pausedMs = 0;
  const out: Replay = { breached: false, reopened: false };
  for (const e of events) {
    switch (e.kind) {
      case 'activate':
        if (!started) started = e.at;
        else if (pausedSince) {
          pausedMs += e.at.getTime() - pausedSince.getTime();
          pausedSince = undefined;
        }
        break;
      case 'pause':
        if (started && out.firstResponseMs === undefined) pausedSince = e.at;
        break;
      case 'fulfill':
        if (started && out.firstResponseMs === undefined) {
          const end = pausedSince ?? e.at; // fulfilled while paused: the clock stopped at the pause
          out.firstResponseMs = end.getTime() - started.getTime() - pausedMs;
        }
        break;
      case 'breach':
        out.breached = true;
        break;
      case 'reopen':
        out.reopened = true;
        break;
      case 'status':
        if (DONE.has(String(e.data.to)) && !out.solvedAt) out.solvedAt = e.at;
        break;
    }
  }
  return out;
}

export function computeSupportMetrics(input: {
  tickets: readonly Ticket[];
  events: readonly TicketEvent[];
  since: Date;
  now: Date;
}): SupportMetrics {
  const { since, now } = input;
  const byTicket = new Map<string, TicketEvent[]>();
  for (const e of input.events) {
    const list = byTicket.get(e.ticketId) ?? [];
    list.push(e);
    byTicket.set(e.ticketId, list);
  }
  const inWindow = (at: Date) => at >= since && at <= now;

  const responses: number[] = [];
  let settled = 0;
  let within = 0;
  let breached = 0;
  let created = 0;
  let solved = 0;
  let reopened = 0;
  for (const ticket of input.tickets) {
    const replay = replayTicket(byTicket.get(ticket.id) ?? []);
    if (inWindow(ticket.createdAt)) {
      created++;
      if (replay.firstResponseMs !== undefined) responses.push(replay.firstResponseMs);
      if (replay.breached) breached++;
      if (replay.firstResponseMs !== undefined || replay.breached) {
        settled++;
        if (!replay.breached) within++;
      }
    }
    if (replay.solvedAt && inWindow(replay.solvedAt)) {
      solved++;
      if (replay.reopened) reopened++;
    }
  }

  const weeks = new Map<string, { week: string; channel: string; count: number }>();
  const channelOf = new Map(input.tickets.map((t) => [t.id, t.channel]));
  for (const e of input.events) {
    if (e.kind !== 'breach' || !inWindow(e.at)) continue;
    const week = weekOf(e.at);
    const channel = channelOf.get(e.ticketId) ?? 'unknown';
    const key = `${week}\u0000${channel}`;
    const entry = weeks.get(key) ?? { week, channel, count: 0 };
    entry.count++;
    weeks.set(key, entry);
  }

  const byAgeBand = Object.fromEntries(AGE_BANDS.map((b) => [b.band, 0])) as Record<
    AgeBand,
    number
  >;
  const ages: number[] = [];
  let oldest: SupportMetrics['backlog']['oldest'] = null;
  for (const ticket of input.tickets) {
    if (!ACTIVE.has(ticket.status)) continue;
    const ageMs = Math.max(0, now.getTime() - ticket.createdAt.getTime());
    ages.push(ageMs);
    byAgeBand[AGE_BANDS.find((b) => ageMs < b.maxMs)!.band]++;
    if (!oldest || ageMs / 1000 > oldest.ageSeconds)
      oldest = { ticketId: ticket.id, ageSeconds: ageMs / 1000, subject: ticket.subject };
  }

  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  return {
    since: since.toISOString(),
    until: now.toISOString(),
    ticketsCreated: created,
    firstResponse: {
      count: responses.length,
      p50Seconds: seconds(percentile(responses, 0.5)),
      p90Seconds: seconds(percentile(responses, 0.9)),
      withinSlaRatio: settled === 0 ? null : within / settled,
      breached,
    },
    breachesByWeek: [...weeks.values()].sort(
      (a, b) => a.week.localeCompare(b.week) || a.channel.localeCompare(b.channel),
    ),
    backlog: {
      open: ages.length,
      byAgeBand,
      oldest,
      p90AgeSeconds: seconds(percentile(ages, 0.9)),
    },
    reopen: { solved, reopened, ratio: solved === 0 ? null : reopened / solved },
  };
}
