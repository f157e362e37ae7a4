import type { Bus } from '@parley/cluster';
import type { EmbeddingModelRef, RunAbortReason, SecretDestinationPolicy } from '@parley/core';
import type { McpPolicy } from '@parley/mcp';
import type { Run, ScopeOptions, Store, WorkspaceScope } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import type { Detector } from '../detect/detector.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import { createAgentCalls } from './agent-calls.ts';
import { createAgentResolver } from './agent-resolver.ts';
import { createDoorbell } from './doorbell.ts';
import { embeddingOfModel, runEmbedding, secretsOfModel } from './embedder.ts';
import type { LiveRun } from './live-run.ts';
import { createModelKeys } from './model-keys.ts';
import type { ModelTimeouts } from './models.ts';
import { closeAfterLostLog, closeOrphanedRun } from './orphan-close.ts';
import { createOwnership } from './ownership.ts';
import { createProvisioner } from './provision.ts';
import { createRunControl } from './run-control.ts';
import { createRunExecutor } from './run-executor.ts';
import { createRunStarter } from './run-start.ts';
import { createRunTakeover } from './run-takeover.ts';
import { createRunTools } from './run-tools.ts';
import { hasEnded } from './stored-run.ts';
import { createWorkspaceBatcher } from './workspace-batcher.ts';

export { findAgent } from './agent-resolver.ts';
export type { GivenConversation } from './run-executor.ts';
export type { StartRun } from './run-start.ts';
export { hasEnded, lastStoredEvent } from './stored-run.ts';

export interface RunManagerOptions {
  store: Store;
  metrics: Metrics;
  detector: Detector;
  log: FastifyBaseLogger;
  /** The cluster's bus: doorbells for followers on other instances, commands to runs. */
  bus: Bus;
  /** This instance's name: the owner of the runs it executes. */
  instanceId: string;
  /** How long a run's lease lasts without a heartbeat (PostgreSQL; default 6 s). */
  leaseMs?: number;
  /** Persist every event for resume (default), or only the terminal one (benchmarks). */
  eventLog: boolean;
  /** Where runs' spans go, when tracing is on (OTEL_EXPORTER_OTLP_*). */
  tracing?: Tracing | undefined;
  /** How long runs wait for a model unless its agent says (default 60 s first byte, 120 s stall). */
  modelTimeouts?: ModelTimeouts;
  /** How long a finished run stays in memory for late subscribers (default 30 s). */
  lingerMs?: number;
  /** Where secrets may go: model keys, MCP bearer tokens (checked at every run). */
  destinations: SecretDestinationPolicy;
  /** A running run without a lease whose log has not moved for this long is orphaned. */
  orphanAfterMs?: number;
  /** Plugins reach public internet addresses only (multi-user mode: see public-fetch.ts). */
  publicNetworkOnly?: boolean;
  /** Plugins an operator disabled: runs of agents using one are refused (422). */
  disabledPlugins?: readonly string[];
  /** Told of each run started for an end user (`userId`), after its rows exist (support tickets). */
  onUserMessage?: (message: {
    workspaceId: string;
    conversationId: string;
    userId: string;
    text: string;
  }) => void;
  /** Told of each scam-guard verdict in a workspace (the trust service's gauge). */
  onScamVerdict?: (workspaceId: string, verdict: 'allow' | 'warn' | 'block') => void;
  /** Where community plugins are installed (PARLEY_PLUGINS_DIR): each runs in a sandbox. */
  pluginsDir?: string;
  /** Which MCP servers agents may use (default: any, as in single-user mode). */
  mcp?: McpPolicy;
  /** Where community plugins and stdio MCP programs run (default: the OS sandbox). */
  sandbox?: 'os' | 'weak';
  /** Host variables stdio MCP servers get besides the base set (PARLEY_MCP_ENV). */
  mcpEnv?: readonly string[];
}

/** How many of a run's latest shown events a new follower on another instance is sent. */
const RECENT_EVENTS = 200;

/**
 * Starts runs, keeps the live ones, and ends them cleanly: each run's events go to the event
 * log (group commit) and become visible to subscribers once stored, and ring the cluster's
 * bus so followers on other instances read them at once. Cancel and approvals reach a live
 * run directly, or through the bus from any instance. On PostgreSQL each running run holds a
 * lease: when its instance dies, or hands it over on SIGTERM, another instance continues it.
 */
export function createRunManager(options: RunManagerOptions) {
  const { store, metrics, detector, log, bus } = options;
  const lingerMs = options.lingerMs ?? 30_000;
  const orphanAfterMs = options.orphanAfterMs ?? 10 * 60_000;
  const leaseMs = options.leaseMs ?? 6_000;
  const live = new Map<string, LiveRun>();
  /** Live runs whose row is stored, so their lease exists (renewed by the heartbeat). */
  const leased = new Set<string>();
  const batcher = createWorkspaceBatcher(store);
  const tools = createRunTools(options);
  const modelKeys = createModelKeys({ store, detector });
  const provision = createProvisioner({
    tools,
    modelKeys,
    destinations: options.destinations,
    modelTimeouts: options.modelTimeouts,
  });
  const agents = createAgentResolver(batcher);
  // Agents calling agents: child runs and handoffs (docs/multi-agent.md).
  const agentCalls = createAgentCalls({ store, batcher, agents, start: (input) => start(input) });
  // A follower elsewhere starts from what this instance has shown of the run lately, and
  // from everything shown that its log does not hold yet (a follower cannot read that: a
  // run's first write round may store its row and first events a second late).
  const doorbell = createDoorbell(bus, (runId) => {
    const run = live.get(runId);
    if (!run || run.handedOver) return [];
    const from = Math.min(run.storedSeq, run.visibleSeq - RECENT_EVENTS);
    return run.visibleAfter(from, run.visibleSeq - from);
  });
  const executor = createRunExecutor({
    store,
    batcher,
    doorbell,
    metrics,
    log,
    eventLog: options.eventLog,
    tracing: options.tracing,
    owner: store.kind === 'postgres' ? { instanceId: options.instanceId, leaseMs } : undefined,
    handOver: (run) => takeover.handOver(run),
    ended: (run, unstored) => {
      setTimeout(() => live.delete(run.id), run.handedOver ? 0 : lingerMs).unref();
      // Its lease is kept (renewed) until its row is closed: else another instance would
      // claim it after the lease and continue a run its clients saw end.
      if (unstored) closeUnstored(run);
      else leased.delete(run.id);
    },
  });
  let accepting = true;
  const clustered = store.kind === 'postgres';
  const start = createRunStarter({
    store,
    log,
    instanceId: options.instanceId,
    leaseMs,
    clustered,
    tracing: options.tracing,
    onUserMessage: options.onUserMessage,
    batcher,
    provision,
    agents,
    agentCalls: () => agentCalls,
    executor,
    live,
    leased,
    accepting: () => accepting,
  });

  // Cancel and approvals from any instance, and where another instance's run executes.
  const control = createRunControl({
    bus,
    instanceId: options.instanceId,
    store,
    doorbell,
    live,
    closeIfOrphaned,
  });

  const ownership = clustered
    ? createOwnership({
        store,
        instanceId: options.instanceId,
        leaseMs,
        log,
        heldRunIds: () => [...leased],
        onLost: (runId) => takeover.stopLost(runId),
        onClaimed: (claim) => takeover.continueRun(claim),
      })
    : undefined;
  // Failover: runs this instance stops without ending them, and runs it continues.
  const takeover = createRunTakeover({
    store,
    log,
    tracing: options.tracing,
    batcher,
    provision,
    executor,
    doorbell,
    live,
    leased,
    ownership,
  });

  /**
   * Closes a run that is `running` in the database but executes nowhere and holds no lease: on
   * PGlite (one process owns the data directory) any run not live here; on PostgreSQL one
   * without a lease (from before leases) whose log has been still for `orphanAfterMs`. Leased
   * runs are continued by the instance that claims them instead. Returns true if it closed it.
   */
  async function closeIfOrphaned(ws: WorkspaceScope, run: Run): Promise<boolean> {
    if (hasEnded(run) || live.has(run.id)) return false;
    if (store.kind !== 'pglite') {
      const stale = Date.now() - run.updatedAt.getTime() > orphanAfterMs;
      if (run.leaseExpiresAt || !stale) return false;
    }
    try {
      await closeOrphanedRun(ws, run);
      log.warn({ runId: run.id }, 'closed a run left running by a stopped server');
      doorbell.ring(run.id, Number.MAX_SAFE_INTEGER);
      return true;
    } catch (error) {
      // Another server closed it first.
      const code = (error as { code?: string }).code;
      if (code === 'store.run_closed' || code === 'store.seq_conflict') return false;
      throw error;
    }
  }

  /** Closes the row of a run whose log failed here, once the database answers (orphan-close.ts). */
  function closeUnstored(run: LiveRun) {
    closeAfterLostLog(store, run.id, run.workspaceId)
      .then(
        (closed) => {
          if (closed) log.warn({ runId: run.id }, 'closed a run whose event log had failed');
          doorbell.ring(run.id, Number.MAX_SAFE_INTEGER);
        },
        (error: unknown) =>
          log.error({ err: error, runId: run.id }, 'could not close a run whose log had failed'),
      )
      .finally(() => leased.delete(run.id));
  }

  return {
    start,
    closeIfOrphaned,
    doorbell,
    /** Plugins new runs may not use (the operator's list, changed at runtime). */
    disabledPlugins: tools.disabledPlugins,
    /** The plugins installed in PARLEY_PLUGINS_DIR (community tier unless the registry says). */
    installedPlugins: () => tools.installed(),
    /** Switches a plugin off: new runs refuse it, a community plugin's processes stop. */
    disablePlugin: (name: string) => tools.disable(name),

    get(runId: string): LiveRun | undefined {
      const run = live.get(runId);
      return run?.handedOver ? undefined : run;
    },

    /**
     * A run of this conversation executing here and not ended (a chat's active stream whose
     * row may not be stored yet); other instances' runs are found through the store.
     */
    activeIn(workspaceId: string, conversationId: string): LiveRun | undefined {
      for (const run of live.values())
        if (
          run.conversationId === conversationId &&
          run.workspaceId === workspaceId &&
          !run.closed &&
          !run.handedOver
        )
          return run;
      return undefined;
    },

    /** The workspace a live run belongs to (saves a lookup on the hot path). */
    workspaceOf(runId: string): string | undefined {
      return live.get(runId)?.workspaceId;
    },

    /** Where another instance's run executes, asked over the bus (run-control.ts). */
    locate: control.locate,

    /** Starts taking part in the cluster: lease renewals, and taking over stopped runs. */
    startOwnership() {
      ownership?.start();
    },

    /** Cancels a run, here or on the instance executing it (run-control.ts). */
    cancel: control.cancel,

    /** Answers a tool approval, here or on the instance executing it (run-control.ts). */
    decide: control.decide,

    /** Something in a workspace changed (an agent, a deploy, the trust page): runs read it anew. */
    forgetAgents(workspaceId: string) {
      agents.forget(workspaceId);
    },

    /**
     * The embedding model of an agent's deployed version (or draft), with its key: what
     * knowledge added for the agent is embedded with, the same as its runs' queries.
     */
    async embeddingFor(workspaceId: string, agentRef: string, scope: ScopeOptions) {
      const { definition } = await agents.resolve(workspaceId, agentRef, undefined);
      const keys = await modelKeys.forAgent(workspaceId, definition, scope);
      return runEmbedding(definition, keys);
    },

    /** The embedding of one model reference (a knowledge base's own), with its key. */
    async embeddingForModel(workspaceId: string, ref: EmbeddingModelRef, scope: ScopeOptions) {
      const keys = await modelKeys.forSecrets(workspaceId, secretsOfModel(ref), scope);
      return embeddingOfModel(ref, keys);
    },

    /** A workspace's secrets changed: decrypted keys kept for runs are dropped. */
    forgetSecrets(workspaceId: string) {
      modelKeys.forget(workspaceId);
      // Sandboxed plugins and MCP servers may hold the workspace's secrets: start them anew.
      void tools.forget(workspaceId);
    },

    /** Live runs (tests, metrics). */
    get size() {
      return [...live.values()].filter((r) => !r.closed).length;
    },

    /**
     * Stops taking runs. PostgreSQL: hands running runs over to the other instances at once
     * (their log flushed, their leases released), so a rolling deploy drops no chat. PGlite:
     * lets running ones finish for `graceMs`, then aborts the rest (reason shutdown). Waits
     * until every event log is flushed.
     */
    async shutdown(graceMs: number) {
      accepting = false;
      const all = () => executor.settled();
      await ownership?.stop();
      if (clustered) {
        const running = [...live.values()].filter((run) => !run.closed);
        for (const run of running) takeover.handOver(run);
        await all();
        const released = await ownership!
          .release(running.map((run) => run.id))
          .catch((error: unknown) => {
            log.error(
              { err: error },
              'could not hand runs over: they continue once their leases lapse',
            );
            return 0;
          });
        if (released > 0) log.info({ runs: released }, 'handed running runs to other instances');
      } else {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
        for (const run of live.values()) {
          if (!run.closed)
            run.controller.abort({ reason: 'shutdown', by: 'server' } satisfies RunAbortReason);
        }
        await all();
      }
      await tools.shutdown();
    },
  };
}

export type RunManager = ReturnType<typeof createRunManager>;
