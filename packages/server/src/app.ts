import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import { type Bus, createClusterBus } from '@parley/cluster';
import type { Store } from '@parley/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { authenticate } from './auth/authenticate.ts';
import { createFailureLimiter } from './auth/failure-limiter.ts';
import { createOperatorCodes } from './auth/operator-code.ts';
import { createTokenCache } from './auth/token-cache.ts';
import { createChannelManager } from './channels/manager.ts';
import { FIRST_PARTY_CONNECTORS } from './channels/registry.ts';
import { clusterCounters } from './cluster/counters.ts';
import { createInvalidator, invalidationsFor } from './cluster/invalidation.ts';
import { createPluginSwitches } from './cluster/plugin-switches.ts';
import type { ServerConfig } from './config.ts';
import { createDetector } from './detect/detector.ts';
import { isDashboardPath, registerDashboard } from './http/dashboard.ts';
import { HttpProblem, sendProblem, toProblem } from './http/problem.ts';
import { registerRoutes } from './http/register.ts';
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

const VALIDATION_PREFIX: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

/**
 * Builds the HTTP server: authentication on every request, the route table, problem+json
 * errors, security headers, metrics, and a clean shutdown that lets runs end and flushes
 * their logs. Does not listen: the caller does (main.js, tests).
 */
export async function buildApp(options: AppOptions): Promise<ParleyApp> {
  const { config, store } = options;
  const tuning = options.tuning ?? {};
  const logger = options.logger ?? false;
  const app = Fastify({
    ...(typeof logger === 'object' && 'child' in logger
      ? { loggerInstance: logger as FastifyBaseLogger }
      : { logger: logger as boolean | Record<string, unknown> }),
    // The proxy in front is one hop: its own X-Forwarded-For entry (the last) is the client.
    // Trusting every hop would take the first entry, which any client writes itself (a forged
    // `X-Forwarded-For: 127.0.0.1` would pass for loopback, and rate limits and audit
    // addresses would be whatever the client says).
    trustProxy: config.behindTlsProxy ? (_address: string, hop: number) => hop === 0 : false,
    bodyLimit: 1024 * 1024,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    routerOptions: { maxParamLength: 500 },
    return503OnClosing: true,
    // Every route's schemas are zod's (the compilers set below): without these factories Fastify
    // loads its default ajv and fast-json-stringify compilers (~100 modules) at every start.
    // (Fastify types the factories for ajv; it only calls what they return, per route.)
    schemaController: {
      compilersFactory: {
        buildValidator: (() => validatorCompiler) as never,
        buildSerializer: (() => serializerCompiler) as never,
      },
    },
    forceCloseConnections: 'idle',
    // Requests refused before routing (a malformed percent escape, an overlong path parameter)
    // get problem+json like everything else.
    frameworkErrors: (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      const problem =
        status === 414
          ? new HttpProblem('request.uri_too_long', 'The URL is too long.')
          : new HttpProblem('request.invalid', `The URL is not valid: ${error.message}.`, {
              status: status >= 400 && status < 500 ? status : 400,
            });
      void sendProblem(reply, request, problem);
    },
    // Requests Node's HTTP parser refuses (raw non-ASCII bytes in the path, a broken header)
    // never reach Fastify: answer them here, in the same format.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy();
      const code = (error as { code?: string }).code;
      const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({
        type: `https://parley.dev/problems/request/${status === 431 ? 'headers_too_large' : 'invalid'}`,
        title: status === 431 ? 'Request header fields too large' : 'Bad request',
        status,
        code: status === 431 ? 'request.headers_too_large' : 'request.invalid',
        detail: 'The HTTP request could not be parsed.',
      });
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n${body}`,
      );
    },
  });
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
  app.addHook('onSend', async (request, reply, payload) => {
    // Whatever narrows what a token may do, changes an agent or a key is dropped from this
    // process's caches before the caller hears that it is done, and from every other
    // instance's when the bus brings it (cluster/invalidation.ts).
    if (request.grant) services.invalidator.seen(request.grant.workspaceId);
    for (const invalidation of invalidationsFor({
      operation: request.routeOptions.config.spec?.operationId,
      method: request.method,
      status: reply.statusCode,
      workspaceId: request.grant?.workspaceId,
    }))
      services.invalidator.invalidate(invalidation);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-resource-policy', 'same-origin');
    // The dashboard's files carry their own policy.
    if (!reply.hasHeader('content-security-policy'))
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('x-request-id', request.id);
    if (reply.statusCode >= 400 && !reply.hasHeader('cache-control'))
      reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.http.observe(
      {
        method: request.method,
        // The route table's own templates (or 'unmatched'): a fixed set, never a caller's text.
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error, request, reply) => {
    let problem: HttpProblem;
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = VALIDATION_PREFIX[error.validationContext ?? 'body'] ?? 'body';
      problem = new HttpProblem('request.invalid', 'The request is invalid.', {
        errors: error.validation.map((v) => ({
          path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
          message: v.message ?? 'is invalid',
        })),
      });
    } else {
      problem = toProblem(error);
    }
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, request, problem);
  });
  const dashboard = await registerDashboard(app, config.dashboardDir);
  app.setNotFoundHandler((request, reply) => {
    if (dashboard.served && request.method === 'GET' && isDashboardPath(request.url))
      return reply.sendFile('index.html');
    return sendProblem(
      reply,
      request,
      new HttpProblem(
        'route.not_found',
        `There is no route ${request.method} ${request.url.split('?')[0]}.`,
      ),
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley API',
        version: '1',
        description:
          'Workspaces, agents, secrets and runs. Runs stream Parley Stream v1 over SSE (docs/streaming.md). Errors are application/problem+json with a stable code (docs/api.md).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token (prl_…).' },
          session: { type: 'apiKey', in: 'cookie', name: 'parley_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  registerRoutes(app, ROUTES, services);

  // The breach check catches up on deadlines that passed while no server ran, then repeats.
  app.addHook('onReady', async () => {
    services.trust.scheduler.start();
    // Renew this instance's run leases and continue runs other instances left.
    services.runs.startOwnership();
    // The agents' chat channels start with the server (docs/channels.md).
    void services.channels.startAll();
  });
  boundShutdown(app, services.runs, config.shutdownGraceMs);
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
