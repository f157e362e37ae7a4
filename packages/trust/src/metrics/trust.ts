import type { api } from '@parley/protocol';
import type { WorkspaceScope } from '@parley/store';
import { groupRepeatedQuestions } from './repeated-questions.ts';
import { SCAM_SIGNAL_KINDS, scamVerdictsPerDay } from './scam-verdicts.ts';
import { computeSupportMetrics } from './support.ts';

/** GET …/trust/metrics: protocol's shape. */
export type TrustMetrics = api.TrustMetrics;

/** Every trust metric of one workspace over [since, now], from its event logs and signals. */
export async function computeTrustMetrics(
  ws: WorkspaceScope,
  window: { since: Date; now: Date },
): Promise<TrustMetrics> {
  const data = await ws.support.listMetricsData({ since: window.since });
  const signals = await listScamSignals(ws, window.since);
  const inbound = await ws.support.listInboundTerms({ since: window.since });
  return {
    support: computeSupportMetrics({ ...data, ...window }),
    scamVerdictsPerDay: scamVerdictsPerDay(signals),
    repeatedQuestions: groupRepeatedQuestions(inbound),
    truncated: data.truncated,
  };
}

/** The scam guard's warn and block signals of a workspace since a time (at most 1,000 each). */
export async function listScamSignals(ws: WorkspaceScope, since: Date) {
  const lists = await Promise.all(
    SCAM_SIGNAL_KINDS.map((kind) => ws.securitySignals.list({ kind, since, limit: 1_000 })),
  );
  return lists.flat();
}
