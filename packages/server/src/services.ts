import type { Bus } from '@parley/cluster';
import type { Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import type { FailureLimiter } from './auth/failure-limiter.ts';
import type { OperatorCodes } from './auth/operator-code.ts';
import type { TokenCache } from './auth/token-cache.ts';
import type { ChannelManager } from './channels/manager.ts';
import type { Invalidator } from './cluster/invalidation.ts';
import type { PluginSwitches } from './cluster/plugin-switches.ts';
import type { ServerConfig } from './config.ts';
import type { Detector } from './detect/detector.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { RunManager } from './runs/run-manager.ts';
import type { TrustService } from './trust/service.ts';

/** What route handlers use: one instance per server, built by buildApp(). */
export interface Services {
  config: ServerConfig;
  store: Store;
  /** The cluster's bus: doorbells of stored events, commands to runs, cache invalidation. */
  bus: Bus;
  runs: RunManager;
  /** The agents' chat channels (Telegram, Slack, …): started on deploy (docs/channels.md). */
  channels: ChannelManager;
  /** Trust operations: the clock, the SLA breach scheduler (docs/trust.md). */
  trust: TrustService;
  metrics: Metrics;
  detector: Detector;
  log: FastifyBaseLogger;
  /** Failed sign-ins and token checks, per client address. */
  authFailures: FailureLimiter;
  /** Failed sign-ins per account (stops slow password guessing spread over addresses). */
  accountFailures: FailureLimiter;
  /** The one-time code that confirms an instance operator (multi-user). */
  operatorCodes: OperatorCodes;
  /** Recent successful token checks (cleared when tokens or roles change). */
  tokenCache: TokenCache;
  /** Drops cached tokens, agents and keys here and on every instance (through the bus). */
  invalidator: Invalidator;
  /** The plugin kill switch: stored, applied on every instance. */
  pluginSwitches: PluginSwitches;
  /** The local owner's id in single-user mode. */
  localOwnerId?: string;
}
