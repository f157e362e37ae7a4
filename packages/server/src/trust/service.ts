import type { Store } from '@parley/store';
import {
  AGE_BANDS,
  computeTrustMetrics,
  createConversationTicketing,
  createSlaScheduler,
  listScamSignals,
  type SlaScheduler,
  scamVerdictsPerDay,
  type UserMessage,
} from '@parley/trust';
import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createLabelBounds } from '../metrics/labels.ts';

/*
 * Trust operations for one server, wired from @parley/trust: the clock (injectable), the SLA
 * breach scheduler, tickets from agent conversations, and the trust metrics as Prometheus
 * gauges labelled by workspace (refreshed by each scheduler pass, so at most one interval old).
 */

const DAY_MS = 86_400_000;

export interface TrustService {
  now(): Date;
  scheduler: SlaScheduler;
  /** The metrics window the gauges use (days). */
  gaugeWindowDays: number;
  /** An end user's message to an agent: may open or update a support ticket (agent-tickets.ts). */
  observeUserMessage(message: UserMessage): void;
  /** Resolves when the messages observed so far are handled. */
  settled(): Promise<void>;
  /**
   * A scam-guard verdict in a workspace: its gauge of today's verdicts exists from then on (0
   * until something is warned or blocked), counts this one at once, and is refreshed from the
   * stored signals by every scheduler pass.
   */
  observeScamVerdict(workspaceId: string, verdict: 'allow' | 'warn' | 'block'): void;
}

export function createTrustService(options: {
  store: Store;
  registry: Registry;
  log: FastifyBaseLogger;
  now?: () => Date;
  checkIntervalMs?: number;
  /** Single-user mode: the local owner's workspaces have the scam-guard gauge from start. */
  localOwnerId?: string;
}): TrustService {
  const now = options.now ?? (() => new Date());
  const registry = [options.registry];
  const ws = ['workspace'] as const;
  // Support channels are names callers choose: bounded like every chosen label (labels.ts).
  const bound = createLabelBounds();
  const breaches = new Counter({
    name: 'parley_support_sla_breaches_total',
    help: 'First-response SLA breaches recorded by this process, by channel and priority.',
    labelNames: ['channel', 'priority'],
    registers: registry,
  });
  const firstResponse = new Gauge({
    name: 'parley_support_first_response_seconds',
    help: 'First-response time of tickets created in the last 30 days, p50 and p90 (pauses excluded).',
    labelNames: [...ws, 'quantile'],
    registers: registry,
  });
  const withinSla = new Gauge({
    name: 'parley_support_within_sla_ratio',
    help: 'Share of settled first responses (last 30 days) that met the SLA.',
    labelNames: ws,
    registers: registry,
  });
  const backlog = new Gauge({
    name: 'parley_support_open_tickets',
    help: 'Open tickets (new, open, pending) by age since creation.',
    labelNames: [...ws, 'age_band'],
    registers: registry,
  });
  const oldest = new Gauge({
    name: 'parley_support_oldest_open_ticket_seconds',
    help: 'Age of the oldest open ticket.',
    labelNames: ws,
    registers: registry,
  });
  const reopen = new Gauge({
    name: 'parley_support_reopen_ratio',
    help: 'Share of tickets solved in the last 30 days that were reopened.',
    labelNames: ws,
    registers: registry,
  });
  const weekBreaches = new Gauge({
    name: 'parley_support_breaches_7d',
    help: 'First-response breaches in the last 7 days, by channel (from the event log).',
    labelNames: [...ws, 'channel'],
    registers: registry,
  });
  const scam = new Gauge({
    name: 'parley_scam_guard_verdicts_today',
    help: 'Scam-guard verdicts today (UTC), from the security signals scam.link_warned / scam.link_blocked.',
    labelNames: [...ws, 'verdict'],
    registers: registry,
  });
  const gaugeWindowDays = 30;
  // Workspaces whose scam guard ran in this process: refreshed with the ticket workspaces.
  const guarded = new Set<string>();
  async function scamWorkspaces(): Promise<Iterable<string>> {
    const own = options.localOwnerId
      ? (await options.store.system.workspaces.listForUser(options.localOwnerId)).map(
          (w) => w.workspaceId,
        )
      : [];
    return [...guarded, ...own];
  }
  /** Today's scam-guard verdicts of a workspace without tickets, from its stored signals. */
  async function refreshScam(workspaceId: string, at: Date) {
    const midnight = new Date(`${at.toISOString().slice(0, 10)}T00:00:00.000Z`);
    const signals = await options.store.withWorkspace(workspaceId, (scope) =>
      listScamSignals(scope, midnight),
    );
    const [today] = scamVerdictsPerDay(signals);
    scam.set({ workspace: workspaceId, verdict: 'warn' }, today?.warned ?? 0);
    scam.set({ workspace: workspaceId, verdict: 'block' }, today?.blocked ?? 0);
  }

  async function refreshGauges(workspaceId: string, at: Date) {
    const m = await options.store.withWorkspace(workspaceId, (scope) =>
      computeTrustMetrics(scope, {
        since: new Date(at.getTime() - gaugeWindowDays * DAY_MS),
        now: at,
      }),
    );
    const labels = { workspace: workspaceId };
    const set = (gauge: Gauge, value: number | null, extra: Record<string, string> = {}) => {
      if (value === null) gauge.remove({ ...labels, ...extra });
      else gauge.set({ ...labels, ...extra }, value);
    };
    set(firstResponse, m.support.firstResponse.p50Seconds, { quantile: '0.5' });
    set(firstResponse, m.support.firstResponse.p90Seconds, { quantile: '0.9' });
    set(withinSla, m.support.firstResponse.withinSlaRatio);
    for (const band of AGE_BANDS)
      backlog.set({ ...labels, age_band: band.band }, m.support.backlog.byAgeBand[band.band]);
    oldest.set(labels, m.support.backlog.oldest?.ageSeconds ?? 0);
    set(reopen, m.support.reopen.ratio);
    const weekAgo = new Date(at.getTime() - 7 * DAY_MS);
    const recent = await options.store.withWorkspace(workspaceId, (scope) =>
      scope.support.listBreaches({ since: weekAgo, limit: 1_000 }),
    );
    const perChannel = new Map<string, number>();
    for (const b of recent) {
      const channel = bound('channel', b.channel);
      perChannel.set(channel, (perChannel.get(channel) ?? 0) + 1);
    }
    for (const [channel, count] of perChannel) weekBreaches.set({ ...labels, channel }, count);
    const today = m.scamVerdictsPerDay.find((d) => d.day === at.toISOString().slice(0, 10));
    scam.set({ ...labels, verdict: 'warn' }, today?.warned ?? 0);
    scam.set({ ...labels, verdict: 'block' }, today?.blocked ?? 0);
  }

  const scheduler = createSlaScheduler({
    store: options.store,
    now,
    intervalMs: options.checkIntervalMs ?? 60_000,
    onBreach: (workspaceId, breach) => {
      breaches.inc({
        channel: bound('channel', breach.channel),
        priority: bound('priority', breach.priority),
      });
      options.log.warn(
        { workspaceId, ticketId: breach.ticketId, channel: breach.channel, at: breach.at },
        'support ticket breached its first-response SLA',
      );
    },
    onChecked: refreshGauges,
    onError: (error) => options.log.warn({ err: error }, 'the SLA check failed'),
    guardedWorkspaces: scamWorkspaces,
    onGuarded: refreshScam,
  });
  const ticketing = createConversationTicketing({ store: options.store, now, log: options.log });
  return {
    now,
    scheduler,
    gaugeWindowDays,
    observeUserMessage: ticketing.observe,
    settled: ticketing.settled,
    observeScamVerdict(workspaceId, verdict) {
      guarded.add(workspaceId);
      for (const v of ['warn', 'block'] as const)
        scam.inc({ workspace: workspaceId, verdict: v }, v === verdict ? 1 : 0);
    },
  };
}
