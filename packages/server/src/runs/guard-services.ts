import type { GuardServices } from '@parley/core';
import type { Store, TrustPageContent } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../metrics/metrics.ts';
import { workspaceTrust } from '../trust/guard-config.ts';

/** Whose verdicts the scam-guard gauge and counter count (the plugin catalogue's name). */
const SCAM_GUARD_PLUGIN = '@parley/plugin-scam-guard';

type ScamVerdict = 'allow' | 'warn' | 'block';
const isScamVerdict = (verdict: string): verdict is ScamVerdict =>
  verdict === 'allow' || verdict === 'warn' || verdict === 'block';

export interface GuardServicesWiring {
  store: Store;
  metrics: Metrics;
  log: FastifyBaseLogger;
  workspaceId: string;
  /** The workspace's trust page: its domains, links, brand tokens and blocklist reach guards. */
  trust: TrustPageContent;
  /** Told of every scam-guard verdict (the trust service's per-workspace gauge of today's). */
  onScamVerdict?: (workspaceId: string, verdict: ScamVerdict) => void;
}

/**
 * What the server gives the guards of one workspace's runs through the plugin host: the trust
 * page's facts, the workspace's security signals for what they raise, and the scam-guard
 * verdict counts. A signal that cannot be stored is logged: the run goes on, the model still
 * sees the guarded message.
 */
export function guardServices(wiring: GuardServicesWiring): GuardServices {
  const { store, metrics, log, workspaceId } = wiring;
  return {
    trust: workspaceTrust(wiring.trust),
    onVerdict: (verdict, source) => {
      if (source.plugin !== SCAM_GUARD_PLUGIN || !isScamVerdict(verdict)) return;
      metrics.scamVerdicts.inc({ verdict });
      wiring.onScamVerdict?.(workspaceId, verdict);
    },
    recordSignal: async (signal, source) => {
      try {
        await store.withWorkspace(
          workspaceId,
          (ws) =>
            ws.securitySignals.record({
              kind: signal.kind,
              severity: signal.severity,
              actor: { type: 'agent', id: source.agentId },
              details: {
                ...signal.details,
                runId: source.runId,
                conversationId: source.conversationId,
              },
            }),
          { actor: { type: 'system' } },
        );
        metrics.signals.inc({ kind: signal.kind, severity: signal.severity });
      } catch (error) {
        log.warn({ err: error, runId: source.runId }, `could not store a ${source.guard} signal`);
      }
    },
  };
}
