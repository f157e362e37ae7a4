import swagger from '@fastify/swagger';
import { type Bus, createClusterBus } from '@parley/cluster';
import type { Store } from '@parley/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { authenticate } from './auth/authenticate.ts';
import { createFailureLimiter } from './auth/failure-limiter.ts';
import { createOperatorCodes } from './auth/operator-code.ts';
import { createTokenCache } from './auth/token-cache.ts';
import { createChannelManager } from './channels/manager.ts';
import { FIRST_PARTY_CONNECTORS } from './channels/registry.ts';
import { clusterCounters } from './cluster/counters.ts';
import { createInvalidator } from './cluster/invalidation.ts';
import { createPluginSwitches } from './cluster/plugin-switches.ts';
import type { ServerConfig } from './config.ts';
import { createDetector } from './detect/detector.ts';
import { registerDashboard } from './http/dashboard.ts';
import { fastifyOptions } from './http/fastify-options.ts';
import { OPENAPI_OPTIONS } from './http/openapi.ts';
import { registerRoutes } from './http/register.ts';
import { registerProblemHandlers, registerResponseHooks } from './http/response-hooks.ts';
import { boundShutdown } from './http/shutdown.ts';
import { createMetrics } from './metrics/metrics.ts';
import { ROUTES } from './routes/index.ts';
import { publicFetch } from './runs/public-fetch.ts';
import { createRunManager } from './runs/run-manager.ts';
import { WEAK_MODE_WARNING } from './runs/sandbox-report.ts';
import { secretDestinations } from './runs/secret-destinations.ts';
import type { Services } from './services.ts';
import { registerRequestTracing } from './telemetry/request-tracing.ts';
import { createTracing } from './telemetry/tracing.ts';
import { createTrustService } from './trust/service.ts';

export interface AppOptions {
  config: ServerConfig;
  store: Store;
  /** The local owner (single-user mode), from bootstrapSingleUser(). */
  localOwnerId?: string;
  /** The cluster's bus; default: PostgreSQL's (and Redis when configured), in-process on PGlite. */
  bus?: Bus;
  /** A pino logger or Fastify logger options; default: none (tests). */
  logger?: FastifyBaseLogger | boolean | Record<string, unknown>;
  /** Overrides for tests (thresholds, linger times). */
  tuning?: {
    authFailureLimit?: number;
    probeThreshold?: number;
    decryptThreshold?: number;
    runLingerMs?: number;
    orphanAfterMs?: number;
    /** The trust clock (SLA, status overdue) and how often the breach check runs. */
    now?: () => Date;
    slaCheckMs?: number;
    /** Least time between two edits of a channel's streamed answer (tests). */
    channelEditIntervalMs?: number;
    /** How long a channel listener's cluster lease lasts without renewal (tests). */
    channelLeaseMs?: number;
    /** Channels may reach private addresses in multi-user mode (tests: loopback stand-ins). */
    channelPrivateNetwork?: boolean;
  };
}

export type ParleyApp = FastifyInstance & { services: Services };

/**
 * Builds the HTTP server: authentication on every request, the route table, problem+json
 * errors, security headers, metrics, and a clean shutdown that lets runs end and flushes
 * their logs. Does not listen: the caller does (main.js, tests).
 */
export async function buildApp(options: AppOptions): Promise<ParleyApp> {
  const { config, store } = options;
  const tuning = options.tuning ?? {};
  const logger = options.logger ?? false;
  const app = Fastify(fastifyOptions(config, logger));
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const bus = options.bus ?? clusterBus(config, store, app.log);
  const metrics = createMetrics();
  const counters = clusterCounters(config, store, app.log);
  const detector = createDetector({
    store,
    counters,
    onSignal: (kind, severity) => metrics.signals.inc({ kind, severity }),
    onError: (error) => app.log.warn({ err: error }, 'could not record a security signal'),
    ...(tuning.probeThreshold ? { probeThreshold: tuning.probeThreshold } : {}),
    ...(tuning.decryptThreshold ? { decryptThreshold: tuning.decryptThreshold } : {}),
  });
  // Said at every start, so nobody runs the weak mode without knowing it.
  if (config.sandbox === 'weak') app.log.warn(WEAK_MODE_WARNING);
  // OpenTelemetry only when an exporter is configured (docs/observability.md).
  const tracing = await createTracing(process.env, {
    captureContent: config.otelCaptureContent,
  });
  if (tracing) app.log.info({ target: tracing.target }, 'tracing: runs are exported over OTLP');
  const services: Services = {
    config,
    store,
    bus,
    metrics,
    detector,
    log: app.log,
    runs: createRunManager({
      store,
      metrics,
      detector,
      log: app.log,
      bus,
      instanceId: config.instanceId,
      leaseMs: config.runLeaseMs,
      eventLog: config.eventLog,
      tracing,
      modelTimeouts: config.modelTimeouts,
      destinations: secretDestinations(config),
      publicNetworkOnly: config.multiUser,
      disabledPlugins: config.disabledPlugins,
      // An end user's message may open or update a support ticket (docs/trust.md).
      onUserMessage: (message) => services.trust.observeUserMessage(message),
      onScamVerdict: (workspaceId, verdict) =>
        services.trust.observeScamVerdict(workspaceId, verdict),
      ...(config.pluginsDir ? { pluginsDir: config.pluginsDir } : {}),
      mcp: config.multiUser
        ? {
            stdioCommands: config.mcpCommands,
            httpHosts: 'public',
            hosts: config.mcpHosts,
            paths: config.mcpPaths,
          }
        : { stdioCommands: 'any', httpHosts: 'any', hosts: [], paths: 'any' },
      sandbox: config.sandbox,
      mcpEnv: config.mcpEnv,
      ...(tuning.runLingerMs !== undefined ? { lingerMs: tuning.runLingerMs } : {}),
      ...(tuning.orphanAfterMs !== undefined ? { orphanAfterMs: tuning.orphanAfterMs } : {}),
    }),
    authFailures: createFailureLimiter({
      name: 'address',
      limit: tuning.authFailureLimit ?? 10,
      windowMs: 60_000,
      blockMs: 60_000,
      onBlock: (ip, failures) => detector.authFailureBurst(ip, failures, 'token'),
      counters,
      bus,
    }),
    tokenCache: createTokenCache(),
    channels: createChannelManager({
      store,
      runs: () => services.runs,
      log: app.log,
      connectors: FIRST_PARTY_CONNECTORS,
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      ...(tuning.channelEditIntervalMs !== undefined
        ? { editIntervalMs: tuning.channelEditIntervalMs }
        : {}),
      ...(tuning.channelLeaseMs ? { leaseMs: tuning.channelLeaseMs } : {}),
      // A member writes apiRoot: on a multi-user server it reaches public addresses only.
      ...(config.multiUser && !tuning.channelPrivateNetwork ? { fetch: publicFetch } : {}),
    }),
    invalidator: createInvalidator(bus, {
      tokens: { clear: () => services.tokenCache.clear() },
      // A deploy or a new token reaches the agents' channels too (docs/channels.md).
      runs: {
        forgetAgents: (workspaceId) => {
          services.runs.forgetAgents(workspaceId);
          void services.channels.reconcile(workspaceId);
        },
        forgetSecrets: (workspaceId) => {
          services.runs.forgetSecrets(workspaceId);
          void services.channels.reconcile(workspaceId);
        },
      },
      log: app.log,
    }),
    pluginSwitches: createPluginSwitches({ store, bus, runs: () => services.runs, log: app.log }),
    operatorCodes: createOperatorCodes({ config, store, log: app.log, detector }),
    trust: createTrustService({
      store,
      registry: metrics.registry,
      log: app.log,
      ...(tuning.now ? { now: tuning.now } : {}),
      ...(tuning.slaCheckMs ? { checkIntervalMs: tuning.slaCheckMs } : {}),
      ...(options.localOwnerId ? { localOwnerId: options.localOwnerId } : {}),
    }),
    accountFailures: createFailureLimiter({
      name: 'account',
      limit: 10,
      windowMs: 15 * 60_000,
      blockMs: 15 * 60_000,
      onBlock: (email, failures) => detector.accountFailureBurst(email, failures),
      counters,
      bus,
    }),
    ...(options.localOwnerId ? { localOwnerId: options.localOwnerId } : {}),
  };
  await services.operatorCodes.prepare();
  // Switches operators set on any instance, before this one serves a run.
  await services.pluginSwitches.load();
  app.decorate('services', services);
  app.decorateRequest('principal', null as never);
  app.decorateRequest('grant', undefined);

  // First: every later log line of the request carries its trace id.
  registerRequestTracing(app, tracing);
  app.addHook('onRequest', async (request) => {
    request.principal = await authenticate(request, services);
  });
  registerResponseHooks(app, services);

  const dashboard = await registerDashboard(app, config.dashboardDir);
  registerProblemHandlers(app, dashboard);

  await app.register(swagger, OPENAPI_OPTIONS);
  registerRoutes(app, ROUTES, services);

  registerLifecycle(app, services, { counters, tracing, shutdownGraceMs: config.shutdownGraceMs });
  return app as unknown as ParleyApp;
}

/**
 * PostgreSQL: the bus other instances of the cluster share (Redis too when configured).
 * PGlite: one process owns the data directory, so the bus stays in this process.
 */
function clusterBus(config: ServerConfig, store: Store, log: FastifyBaseLogger): Bus {
  const databaseUrl = store.kind === 'postgres' ? config.databaseUrl : undefined;
  return createClusterBus({
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(databaseUrl && config.redisUrl ? { redisUrl: config.redisUrl } : {}),
    log: (level, message, error) => log[level]({ err: error, bus: true }, message),
  });
}

/**
 * What starts with the server and what it closes: the SLA check, run ownership and channels
 * once ready; on close, runs end first (their logs flushed), then channels, the trust
 * service, the detector, the counters, the bus and the tracer.
 */
function registerLifecycle(
  app: FastifyInstance,
  services: Services,
  parts: {
    counters: { close(): Promise<void> };
    tracing: { shutdown(): Promise<void> } | undefined;
    shutdownGraceMs: number;
  },
): void {
  const { counters, tracing } = parts;
  const { detector, bus } = services;
  // The breach check catches up on deadlines that passed while no server ran, then repeats.
  app.addHook('onReady', async () => {
    services.trust.scheduler.start();
    // Renew this instance's run leases and continue runs other instances left.
    services.runs.startOwnership();
    // The agents' chat channels start with the server (docs/channels.md).
    void services.channels.startAll();
  });
  boundShutdown(app, services.runs, parts.shutdownGraceMs);
  app.addHook('onClose', async () => {
    await services.channels.stop();
    await services.trust.scheduler.stop();
    await services.trust.settled();
    await detector.flush();
    await counters.close();
    // After the runs: their last doorbells and the handoff of their leases go out first.
    await bus.close();
    // After the runs too: their last spans are sent.
    await tracing?.shutdown();
  });
}
