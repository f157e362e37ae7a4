import type { AgentDefinition, RunCapabilities } from '@parley/core';
import {
  createScamLinkGuard,
  GuardConfigSchema,
  SCAM_GUARD_PLUGIN,
  type Verdict,
} from '@parley/plugin-scam-guard';
import type { Store, TrustPageContent } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../metrics/metrics.ts';
import { guardConfigWithTrust } from '../trust/guard-config.ts';

export interface GuardWiring {
  store: Store;
  metrics: Metrics;
  log: FastifyBaseLogger;
  workspaceId: string;
  runId: string;
  agentId: string;
  conversationId: string;
  /** The workspace's trust page: its domains, links, brand tokens and blocklist join the config. */
  trust?: TrustPageContent;
  /** Told of every verdict (the trust service's per-workspace gauge of today's verdicts). */
  onVerdict?: (workspaceId: string, verdict: Verdict) => void;
}

/**
 * The run capabilities that put the scam-link guard in front of the model, for an agent that
 * lists @parley/plugin-scam-guard (configured by its `plugins[].config`; the plugin host has
 * validated it already). Every assessment is counted by verdict; a warned or blocked message
 * becomes a security signal of the workspace. A signal that cannot be stored is logged: the run
 * goes on, the model still sees the guarded message.
 */
export function inboundGuardCapabilities(
  agent: AgentDefinition,
  wiring: GuardWiring,
): Pick<RunCapabilities, 'inboundGuard' | 'recordSignal'> {
  const ref = agent.plugins.find((plugin) => plugin.name === SCAM_GUARD_PLUGIN);
  if (!ref) return {};
  const { store, metrics, log, workspaceId } = wiring;
  return {
    inboundGuard: createScamLinkGuard(
      guardConfigWithTrust(GuardConfigSchema.parse(ref.config), wiring.trust),
      {
        onAssessment: (assessment) => {
          metrics.scamVerdicts.inc({ verdict: assessment.verdict });
          wiring.onVerdict?.(workspaceId, assessment.verdict);
        },
      },
    ),
    recordSignal: async (signal) => {
      try {
        await store.withWorkspace(
          workspaceId,
          (ws) =>
            ws.securitySignals.record({
              kind: signal.kind,
              severity: signal.severity,
              actor: { type: 'agent', id: wiring.agentId },
              details: {
                ...signal.details,
                runId: wiring.runId,
                conversationId: wiring.conversationId,
              },
            }),
          { actor: { type: 'system' } },
        );
        metrics.signals.inc({ kind: signal.kind, severity: signal.severity });
      } catch (error) {
        log.warn({ err: error, runId: wiring.runId }, 'could not store a scam-guard signal');
      }
    },
  };
}
