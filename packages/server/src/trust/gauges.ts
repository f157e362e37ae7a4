import type { BreachRow } from '@parley/store';
import { AGE_BANDS, type ScamVerdictDay, type TrustMetrics } from '@parley/trust';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LabelBounds } from '../metrics/labels.ts';

/*
 * The trust metrics as Prometheus series, labelled by workspace: a counter of the breaches this
 * process recorded, and gauges set from a workspace's computed metrics (trust/service.ts
 * refreshes them on each scheduler pass).
 */

export type TrustGauges = ReturnType<typeof createTrustGauges>;

export function createTrustGauges(registry: Registry, bound: LabelBounds) {
  const registers = [registry];
  const ws = ['workspace'] as const;
  const breaches = new Counter({
    name: 'parley_support_sla_breaches_total',
    help: 'First-response SLA breaches recorded by this process, by channel and priority.',
    labelNames: ['channel', 'priority'],
    registers,
  });
  const firstResponse = new Gauge({
    name: 'parley_support_first_response_seconds',
    help: 'First-response time of tickets created in the last 30 days, p50 and p90 (pauses excluded).',
    labelNames: [...ws, 'quantile'],
    registers,
  });
  const withinSla = new Gauge({
    name: 'parley_support_within_sla_ratio',
    help: 'Share of settled first responses (last 30 days) that met the SLA.',
    labelNames: ws,
    registers,
  });
  const backlog = new Gauge({
    name: 'parley_support_open_tickets',
    help: 'Open tickets (new, open, pending) by age since creation.',
    labelNames: [...ws, 'age_band'],
    registers,
  });
  const oldest = new Gauge({
    name: 'parley_support_oldest_open_ticket_seconds',
    help: 'Age of the oldest open ticket.',
    labelNames: ws,
    registers,
  });
  const reopen = new Gauge({
    name: 'parley_support_reopen_ratio',
    help: 'Share of tickets solved in the last 30 days that were reopened.',
    labelNames: ws,
    registers,
  });
  const weekBreaches = new Gauge({
    name: 'parley_support_breaches_7d',
    help: 'First-response breaches in the last 7 days, by channel (from the event log).',
    labelNames: [...ws, 'channel'],
    registers,
  });
  const scam = new Gauge({
    name: 'parley_scam_guard_verdicts_today',
    help: 'Scam-guard verdicts today (UTC), from the security signals scam.link_warned / scam.link_blocked.',
    labelNames: [...ws, 'verdict'],
    registers,
  });

  /** A workspace's gauge set to a value, or removed while the value is unknown (null). */
  const set = (gauge: Gauge, labels: Record<string, string>, value: number | null) => {
    if (value === null) gauge.remove(labels);
    else gauge.set(labels, value);
  };

  return {
    /** One breach this process recorded. */
    countBreach(breach: BreachRow) {
      breaches.inc({
        channel: bound('channel', breach.channel),
        priority: bound('priority', breach.priority),
      });
    },

    /** Today's scam-guard verdicts of a workspace (0 when none). */
    setScamToday(workspace: string, today: ScamVerdictDay | undefined) {
      scam.set({ workspace, verdict: 'warn' }, today?.warned ?? 0);
      scam.set({ workspace, verdict: 'block' }, today?.blocked ?? 0);
    },

    /** One verdict counted at once (an `allow` creates the series at 0). */
    countScamVerdict(workspace: string, verdict: 'allow' | 'warn' | 'block') {
      for (const v of ['warn', 'block'] as const)
        scam.inc({ workspace, verdict: v }, v === verdict ? 1 : 0);
    },

    /** Every support gauge of a workspace from its metrics and last week's breaches. */
    setSupport(workspace: string, m: TrustMetrics, weekBreachRows: readonly BreachRow[]) {
      const support = m.support;
      set(firstResponse, { workspace, quantile: '0.5' }, support.firstResponse.p50Seconds);
      set(firstResponse, { workspace, quantile: '0.9' }, support.firstResponse.p90Seconds);
      set(withinSla, { workspace }, support.firstResponse.withinSlaRatio);
      for (const band of AGE_BANDS)
        backlog.set({ workspace, age_band: band.band }, support.backlog.byAgeBand[band.band]);
      oldest.set({ workspace }, support.backlog.oldest?.ageSeconds ?? 0);
      set(reopen, { workspace }, support.reopen.ratio);
      const perChannel = new Map<string, number>();
      for (const b of weekBreachRows) {
        const channel = bound('channel', b.channel);
        perChannel.set(channel, (perChannel.get(channel) ?? 0) + 1);
      }
      for (const [channel, count] of perChannel) weekBreaches.set({ workspace, channel }, count);
    },
  };
}
