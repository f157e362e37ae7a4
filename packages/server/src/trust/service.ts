import type { Store } from '@parley/store';
import {
  computeTrustMetrics,
  createConversationTicketing,
  createSlaScheduler,
  listScamSignals,
  type SlaScheduler,
  scamVerdictsPerDay,
  type UserMessage,
} from '@parley/trust';
import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import { createLabelBounds } from '../metrics/labels.ts';
import { createTrustGauges } from './gauges.ts';

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
  // Support channels are names callers choose: bounded like every chosen label (labels.ts).
  const gauges = createTrustGauges(options.registry, createLabelBounds());
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
    gauges.setScamToday(workspaceId, today);
  }

  async function refreshGauges(workspaceId: string, at: Date) {
    const m = await options.store.withWorkspace(workspaceId, (scope) =>
      computeTrustMetrics(scope, {
        since: new Date(at.getTime() - gaugeWindowDays * DAY_MS),
        now: at,
      }),
    );
    const weekAgo = new Date(at.getTime() - 7 * DAY_MS);
    const recent = await options.store.withWorkspace(workspaceId, (scope) =>
      scope.support.listBreaches({ since: weekAgo, limit: 1_000 }),
    );
    gauges.setSupport(workspaceId, m, recent);
    const day = at.toISOString().slice(0, 10);
    gauges.setScamToday(
      workspaceId,
      m.scamVerdictsPerDay.find((d) => d.day === day),
    );
  }

  const scheduler = createSlaScheduler({
    store: options.store,
    now,
    intervalMs: options.checkIntervalMs ?? 60_000,
    onBreach: (workspaceId, breach) => {
      gauges.countBreach(breach);
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
      gauges.countScamVerdict(workspaceId, verdict);
    },
  };
}
