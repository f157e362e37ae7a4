import { randomUUID } from 'node:crypto';
import {
  type AgentDefinition,
  AgentDefinitionError,
  createRedactor,
  type PluginAuditEvent,
  type PluginHost,
  type RunAbortReason,
  runAgent,
  type SecretDestinationPolicy,
  validateAgentValue,
} from '@parley/core';
import type { McpPolicy } from '@parley/mcp';
import {
  type api,
  createEventStamper,
  isTerminalEvent,
  type ParleyEvent,
  streamError,
} from '@parley/protocol';
import type { ContentPart } from '@parley/providers';
import type {
  Agent,
  AgentVersion,
  Run,
  ScopeOptions,
  Store,
  TrustPageContent,
  WorkspaceScope,
} from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { type Principal, startedByOf, userIdOf } from '../auth/principal.ts';
import type { Detector } from '../detect/detector.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { trustContextProviders, withServerContext } from '../trust/context.ts';
import { createAgentCache } from './agent-cache.ts';
import { createCommunityPlugins } from './community-plugins.ts';
import { createEventLog } from './event-log.ts';
import { inboundGuardCapabilities } from './inbound-guard.ts';
import { LiveRun } from './live-run.ts';
import { type ModelTimeouts, modelFactory, modelSecrets } from './models.ts';
import { cancelRunElsewhere, closeOrphanedRun } from './orphan-close.ts';
import { hostForAgent, refuseDisabledPlugins } from './plugin-catalog.ts';
import { connectPublic, publicFetch } from './public-fetch.ts';
import { createSecretCache } from './secret-cache.ts';
import { checkSecretDestinations } from './secret-destinations.ts';
import { storeMemoryPort, storeRunPort } from './store-ports.ts';
import { createToolSources } from './tool-sources.ts';
import { createWorkspaceBatcher, runLanes } from './workspace-batcher.ts';

export interface RunManagerOptions {
  store: Store;
  metrics: Metrics;
  detector: Detector;
  log: FastifyBaseLogger;
  /** Persist every event for resume (default), or only the terminal one (benchmarks). */
  eventLog: boolean;
  /** How long runs wait for a model unless its agent says (default 60 s first byte, 120 s stall). */
  modelTimeouts?: ModelTimeouts;
  /** How long a finished run stays in memory for late subscribers (default 30 s). */
  lingerMs?: number;
  /** Where secrets may go: model keys, MCP bearer tokens (checked at every run). */
  destinations: SecretDestinationPolicy;
  /** A running run whose log has not moved for this long belongs to no live server (PostgreSQL). */
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

export interface StartRun {
  workspaceId: string;
  principal: Principal;
  scope: ScopeOptions;
  /** Agent id or name. */
  agent: string;
  body: api.StartRunRequest;
}

interface ResolvedAgent {
  agent: Agent;
  /** The version run; null for the draft. */
  version: AgentVersion | null;
  definition: AgentDefinition;
  trust: TrustPageContent;
  /** The workspace's first run (the funnel's first_run). */
  first: boolean;
}

/** Events whose payload may quote a provider's error message. */
const CARRIES_ERROR = new Set([
  'run.error',
  'step.finish',
  'step.reset',
  'tool.result',
  'tool_call.invalid',
]);
const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

/** Whether a stored run has ended (succeeded, failed or cancelled). */
export const hasEnded = (run: Run): boolean => ENDED.has(run.status);

/** The run's last stored event, if it has any. */
export async function lastStoredEvent(
  ws: WorkspaceScope,
  run: Run,
): Promise<ParleyEvent | undefined> {
  if (run.lastSeq === 0) return undefined;
  return (await ws.runs.listRunEvents(run.id, { afterSeq: run.lastSeq - 1 }))[0];
}

export async function findAgent(ws: WorkspaceScope, ref: string) {
  return z.uuid().safeParse(ref).success ? ws.agents.get(ref) : ws.agents.getByName(ref);
}

function toContent(input: api.StartRunRequest['input']): string | ContentPart[] {
  if (typeof input === 'string') return input;
  return input.map((part): ContentPart => {
    if (part.type === 'text') return part;
    const data = /^data:([^;,]+);base64,(.*)$/s.exec(part.url);
    return data
      ? { type: 'image', mediaType: data[1]!, data: data[2]! }
      : { type: 'image', url: part.url };
  });
}

/** The text parts of a run's input. */
function titleText(input: api.StartRunRequest['input']): string {
  return typeof input === 'string'
    ? input
    : input.map((p) => (p.type === 'text' ? p.text : '')).join(' ');
}

function titleOf(input: api.StartRunRequest['input']): string {
  const text = titleText(input);
  const line = text.replace(/\s+/g, ' ').trim();
  // By code point: a cut between a surrogate pair would leave text the database cannot store.
  const points = Array.from(line);
  return (points.length > 80 ? `${points.slice(0, 79).join('')}…` : line) || 'Conversation';
}

/**
 * Starts runs, keeps the live ones, and ends them cleanly: each run's events go to the event
 * log (group commit) and become visible to subscribers once stored. Cancel and approvals
 * reach a live run directly; a run left `running` by a server that died is closed with
 * `run.gap` and `run.abort` (reason shutdown) the first time anyone looks at it.
 */
export function createRunManager(options: RunManagerOptions) {
  const { store, metrics, detector, log } = options;
  const lingerMs = options.lingerMs ?? 30_000;
  const orphanAfterMs = options.orphanAfterMs ?? 10 * 60_000;
  const live = new Map<string, LiveRun>();
  const batcher = createWorkspaceBatcher(store);
  const modelKeys = createSecretCache();
  const agentCache = createAgentCache<ResolvedAgent>();
  /** Workspaces known to have had a run (the funnel's first_run is recorded once per workspace). */
  const workspacesWithRuns = new Set<string>();
  const executions = new Set<Promise<void>>();
  const disabledPlugins = new Set(options.disabledPlugins ?? []);
  let accepting = true;
  const sandbox = options.sandbox ?? 'os';
  const community = createCommunityPlugins({
    dir: options.pluginsDir,
    log,
    isolation: sandbox,
    ...(options.publicNetworkOnly ? { connect: connectPublic } : {}),
  });
  const toolSources = createToolSources({
    community,
    mcp: options.mcp ?? { stdioCommands: 'any', httpHosts: 'any', hosts: [] },
    sandbox,
    ...(options.publicNetworkOnly ? { connect: connectPublic } : {}),
    ...(options.mcpEnv ? { mcpEnv: options.mcpEnv } : {}),
  });

  /**
   * Reads a workspace secret for a plugin (declared secrets only; core checks that) or an MCP
   * server; what it reveals joins `seen`, the values the run redacts from all it shows.
   */
  const pluginSecrets =
    (workspaceId: string, run: { value: string }, scope: ScopeOptions, seen?: Set<string>) =>
    async (name: string) => {
      const value = await store.withWorkspace(
        workspaceId,
        async (ws) =>
          (await ws.secrets.get(name))
            ? ws.secrets.reveal(name, { purpose: 'plugin', runId: run.value })
            : undefined,
        scope,
      );
      if (value !== undefined) {
        detector.secretDecrypted(workspaceId, scope.ip);
        seen?.add(value);
      }
      return value;
    };

  /** Stores a plugin's audited action in the workspace's audit log; never fails the run. */
  function recordPluginAudit(
    workspaceId: string,
    runId: string | undefined,
    event: PluginAuditEvent & { kind?: string },
    scope: ScopeOptions,
  ) {
    store
      .withWorkspace(
        workspaceId,
        (ws) =>
          ws.audit.record({
            // A refusal is `plugin.denied`; secret reads and requests are what they are.
            ...(event.action === 'plugin.permission_denied'
              ? { action: 'plugin.denied', outcome: 'denied' as const }
              : { action: event.action, outcome: 'ok' as const }),
            targetType: 'plugin',
            targetId: event.plugin,
            ...(runId ? { runId } : {}),
            metadata: {
              resource: event.resource.slice(0, 200),
              tool: event.toolCallId,
              ...(event.kind ? { kind: event.kind } : {}),
            },
          }),
        scope,
      )
      .catch((error) => log.warn({ err: error }, 'could not audit a plugin action'));
  }

  function pluginHost(
    definition: AgentDefinition,
    workspaceId: string,
    run: { value: string },
    scope: ScopeOptions,
    runSecrets: Set<string>,
  ): PluginHost {
    refuseDisabledPlugins(definition, disabledPlugins);
    try {
      return hostForAgent(definition, {
        secrets: pluginSecrets(workspaceId, run, scope, runSecrets),
        redactValues: runSecrets,
        fetch: options.publicNetworkOnly ? publicFetch : globalThis.fetch,
        audit: (event) => recordPluginAudit(workspaceId, run.value, event, scope),
        log: (entry) => log[entry.level]({ plugin: entry.plugin, runId: run.value }, entry.message),
      });
    } catch (error) {
      if (error instanceof z.ZodError) {
        throw new AgentDefinitionError(
          error.issues.map((i) => ({
            path: `plugins.config.${i.path.join('.')}`,
            message: i.message,
          })),
        );
      }
      throw error;
    }
  }

  /**
   * The agent, the version to run and its validated definition, and the trust page: from the
   * cache (a chat's next turn), else read in the workspace's next group-commit round.
   */
  async function resolveAgent(workspaceId: string, input: StartRun): Promise<ResolvedAgent> {
    const { body } = input;
    const key = `${input.agent}\u0000${body.version ?? ''}`;
    const { value, loaded } = await agentCache.get(workspaceId, key, () =>
      readAgent(workspaceId, input),
    );
    // Whether this is the workspace's first run is known only to a read of the database.
    return { ...value, first: loaded && value.first };
  }

  async function readAgent(workspaceId: string, input: StartRun): Promise<ResolvedAgent> {
    const { body } = input;
    const found = await batcher.run(workspaceId, async (ws) => {
      const agent = await findAgent(ws, input.agent);
      if (!agent) throw notFound('Agent');
      // A version number, "draft", or by default the deployed version (the draft before any deploy).
      const version =
        body.version === 'draft' ? null : await ws.agents.getVersion(agent.id, body.version);
      const first =
        !workspacesWithRuns.has(workspaceId) && (await ws.runs.list({ limit: 1 })).length === 0;
      // The trust page: its canonical links reach the model (context) and the scam guard.
      const trust = (await ws.trust.getPage()).content;
      return { agent, version, first, trust };
    });
    const { agent, version, trust, first } = found;
    if (agent.archivedAt)
      throw new HttpProblem(
        'resource.conflict',
        `Agent ${agent.name} is archived: unarchive it to run it.`,
      );
    if (body.version !== undefined && body.version !== 'draft' && !version)
      throw notFound(`Version ${body.version} of ${agent.name}`);
    const source = version ? version.definition : agent.draft;
    if (!source) {
      throw new HttpProblem(
        'agent.not_deployed',
        body.version === 'draft'
          ? `Agent ${agent.name} has no draft.`
          : `Agent ${agent.name} has no deployed version or draft: deploy one first.`,
      );
    }
    const validation = validateAgentValue(source);
    if (!validation.ok) throw new AgentDefinitionError(validation.issues);
    return { agent, version, trust, definition: validation.definition, first };
  }

  async function start(input: StartRun): Promise<LiveRun> {
    if (!accepting)
      throw new HttpProblem('server.unavailable', 'The server is shutting down.', {
        retryAfterMs: 5_000,
      });
    const { workspaceId, principal, body, scope } = input;
    const userId = userIdOf(principal);
    // Ids are chosen here, so the model call can start while the rows are being written.
    const runId = randomUUID();
    const { agent, version, trust, definition, first } = await resolveAgent(workspaceId, input);
    checkSecretDestinations(definition, options.destinations);
    // Every secret value the run resolves (model keys, MCP and plugin secrets): redacted from
    // every tool result and error, whichever plugin or MCP server returned it.
    const runSecrets = new Set<string>();
    // Community plugins (sandboxed processes) and MCP servers, before anything is written.
    const tools = await toolSources.prepare(definition, {
      workspaceId,
      runId,
      scope,
      secret: pluginSecrets(workspaceId, { value: runId }, scope, runSecrets),
      audit: (event, owner, ownerScope) => recordPluginAudit(workspaceId, owner, event, ownerScope),
    });
    // The agent's plugins load before anything is written: a missing one is a 422.
    const plugins = withServerContext(
      tools.attach(pluginHost(definition, workspaceId, { value: runId }, scope, runSecrets)),
      trustContextProviders(trust),
    );
    let keys: Map<string, string>;
    let models: ReturnType<typeof modelFactory>;
    try {
      plugins.resolve(definition);
      keys = await modelKeysFor(workspaceId, definition, scope);
      // Throws when a key is missing.
      models = modelFactory(definition, keys, workspaceId, options.modelTimeouts);
    } catch (error) {
      await tools.close();
      throw error;
    }
    for (const value of [...tools.secrets, ...keys.values()]) runSecrets.add(value);
    workspacesWithRuns.add(workspaceId);

    const newConversation = !body.conversationId;
    const conversationId = body.conversationId ?? randomUUID();
    // Queued before any of the run's own writes (the batcher keeps order): its events,
    // messages and history reads come after these rows.
    const lanes = runLanes(runId, conversationId);
    const created = batcher.run({ workspaceId, lanes }, async (ws) => {
      if (body.conversationId) {
        const conversation = await ws.conversations.get(body.conversationId);
        if (!conversation || conversation.agentId !== agent.id) throw notFound('Conversation');
      }
      if (newConversation)
        await ws.conversations.create({
          id: conversationId,
          agentId: agent.id,
          title: titleOf(body.input),
          ...(body.userId ? { userId: body.userId } : {}),
          ...(userId ? { createdBy: userId } : {}),
        });
      return ws.runs.create({
        id: runId,
        agentId: agent.id,
        ...(version ? { agentVersionId: version.id } : {}),
        conversationId,
        provider: definition.model.provider,
        model: definition.model.model,
        startedBy: startedByOf(principal),
        ...(userId ? { createdBy: userId } : {}),
      });
    });
    const run = new LiveRun(runId, workspaceId, agent.id, conversationId);
    live.set(run.id, run);
    const execution = execute(run, {
      definition,
      models,
      plugins,
      body,
      scope,
      newConversation,
      secretValues: runSecrets,
      created,
      release: tools.close,
      trust,
    }).finally(() => executions.delete(execution));
    executions.add(execution);
    const stopUnstored = () => {
      // The run's row could not be stored: the model call stops, and its events, which need
      // the row, fail to store too; a client streaming it sees the run end.
      run.controller.abort({ reason: 'cancelled', by: 'server' } satisfies RunAbortReason);
    };
    if (body.conversationId) {
      // An existing conversation is checked in that round: a foreign or unknown one must be an
      // HTTP 404, before the stream starts.
      try {
        await created;
      } catch (error) {
        stopUnstored();
        live.delete(runId);
        throw error;
      }
    } else {
      // A new conversation has nothing to check: the stream starts while its rows are being
      // written (under load that round can wait behind others' writes, and the first token
      // would wait with it). Only the terminal event waits for the store.
      created.catch((error: unknown) => {
        log.error({ err: error, runId }, 'the run could not be stored: stopping it');
        stopUnstored();
      });
    }
    if (body.userId) {
      const message = {
        workspaceId,
        conversationId,
        userId: body.userId,
        text: titleText(body.input),
      };
      // After the conversation is stored: what it files points at it.
      created.then(
        () => options.onUserMessage?.(message),
        () => {},
      );
    }
    if (first) {
      store.system.productEvents
        .record({
          name: 'first_run',
          ...(userId ? { userId } : {}),
          props: { provider: definition.model.provider },
        })
        .catch((error) => log.warn({ err: error }, 'could not record a product event'));
    }
    return run;
  }

  /** The model keys an agent names: from the 60 s cache, else decrypted (audited, with the caller). */
  async function modelKeysFor(
    workspaceId: string,
    definition: AgentDefinition,
    scope: ScopeOptions,
  ): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    const missing: string[] = [];
    for (const name of modelSecrets(definition)) {
      const cached = modelKeys.get(workspaceId, name);
      if (cached !== undefined) keys.set(name, cached);
      else missing.push(name);
    }
    if (missing.length === 0) return keys;
    const revealed = await store.withWorkspace(
      workspaceId,
      async (ws) => {
        const values: [string, string][] = [];
        for (const name of missing)
          if (await ws.secrets.get(name))
            values.push([name, await ws.secrets.reveal(name, { purpose: 'model' })]);
        return values;
      },
      scope,
    );
    for (const [name, value] of revealed) {
      modelKeys.set(workspaceId, name, value);
      keys.set(name, value);
      detector.secretDecrypted(workspaceId, scope.ip);
    }
    return keys;
  }

  async function execute(
    run: LiveRun,
    ctx: {
      definition: AgentDefinition;
      models: ReturnType<typeof modelFactory>;
      plugins: PluginHost;
      body: api.StartRunRequest;
      scope: ScopeOptions;
      newConversation: boolean;
      /** Every secret value this run resolved (grows as plugins read more): never in its events. */
      secretValues: ReadonlySet<string>;
      /** The workspace's trust page content when the run started. */
      trust: TrustPageContent;
      /** Settles when the run's row (and a new conversation's) is stored. */
      created: Promise<unknown>;
      /** Closes what the run borrowed (its MCP connections). */
      release: () => Promise<void>;
    },
  ) {
    const { workspaceId, runId } = { workspaceId: run.workspaceId, runId: run.id };
    const persist = options.eventLog
      ? (batch: ParleyEvent[]) =>
          batcher.append(workspaceId, { runId, events: batch }).then(() => undefined)
      : // Without the log only the outcome is stored (the run row's projection): no resume.
        async (batch: ParleyEvent[]) => {
          const ends = batch.filter((e) => e.type === 'run.start' || isTerminalEvent(e));
          if (ends.length === 0) return;
          await batcher.append(workspaceId, { runId, events: ends, assignSeq: true });
        };
    const eventLog = createEventLog(run, {
      persist,
      onFailure: (error) => {
        log.error({ err: error, runId }, 'the event log failed: stopping the run');
        run.controller.abort({ reason: 'cancelled', by: 'server' } satisfies RunAbortReason);
      },
    });
    const observe = metrics.runObserver();
    // Some OpenAI-compatible servers quote the whole key in their error message: errors are
    // scrubbed of the run's keys before they are streamed or stored; so are tool results, of
    // every secret the run resolved (an MCP server may echo its token).
    const { redact } = createRedactor(ctx.secretValues);
    const emit = (raw: ParleyEvent) => {
      const event =
        ctx.secretValues.size > 0 && CARRIES_ERROR.has(raw.type)
          ? (redact(raw) as ParleyEvent)
          : raw;
      run.events.push(event);
      run.track(event);
      observe(event);
      eventLog.append(event);
      run.show();
    };
    metrics.liveRuns.inc();
    try {
      for await (const event of runAgent(
        {
          agent: ctx.definition,
          agentId: run.agentId,
          workspaceId,
          conversationId: run.conversationId,
          ...(ctx.body.userId ? { userId: ctx.body.userId } : {}),
          input: toContent(ctx.body.input),
          runId,
        },
        {
          models: ctx.models,
          store: storeRunPort(batcher, workspaceId, {
            newConversation: ctx.newConversation,
            agentId: run.agentId,
            created: ctx.created,
          }),
          memory: storeMemoryPort(store, workspaceId, ctx.scope, ctx.created),
          plugins: ctx.plugins,
          approvals: run.approvals,
          signal: run.controller.signal,
          ...inboundGuardCapabilities(ctx.definition, {
            store,
            metrics,
            log,
            workspaceId,
            runId,
            agentId: run.agentId,
            conversationId: run.conversationId,
            trust: ctx.trust,
            ...(options.onScamVerdict ? { onVerdict: options.onScamVerdict } : {}),
          }),
        },
      )) {
        emit(event);
        if (isTerminalEvent(event)) break;
      }
    } catch (error) {
      // The run loop itself failed (a bug or the database): still end the stream properly.
      log.error({ err: error, runId }, 'run loop failed');
      const last = run.events.at(-1);
      if (!last || !isTerminalEvent(last)) {
        const stamper = createEventStamper({ runId, lastSeq: run.lastSeq });
        if (!last)
          emit(
            stamper.stamp({
              type: 'run.start',
              agentId: run.agentId,
              conversationId: run.conversationId,
              startedAt: new Date().toISOString(),
            }),
          );
        emit(
          stamper.stamp({
            type: 'run.error',
            error: streamError(
              'internal',
              'The run failed inside Parley; the server log has the details.',
            ),
            partial: run.events.some((e) => e.type === 'text.delta'),
          }),
        );
      }
    } finally {
      await eventLog.flush();
      await ctx.release();
      // The terminal is stored (or given up on): show it even if the log failed.
      run.reveal(run.lastSeq, true);
      metrics.liveRuns.dec();
      setTimeout(() => live.delete(runId), lingerMs).unref();
    }
  }

  /**
   * Closes a run that is `running` in the database but executes nowhere: on PGlite (one
   * process owns the data directory) any run not live here; on PostgreSQL one whose log has
   * been still for `orphanAfterMs`. Its end goes after a `run.gap` past every seq a client may
   * have been shown, and its partial answer to the conversation (orphan-close.ts). Returns
   * true if it closed it.
   */
  async function closeIfOrphaned(ws: WorkspaceScope, run: Run): Promise<boolean> {
    if (ENDED.has(run.status) || live.has(run.id)) return false;
    const stale = Date.now() - run.updatedAt.getTime() > orphanAfterMs;
    if (store.kind !== 'pglite' && !stale) return false;
    try {
      await closeOrphanedRun(ws, run);
      log.warn({ runId: run.id }, 'closed a run left running by a stopped server');
      return true;
    } catch (error) {
      // Another server closed it first.
      const code = (error as { code?: string }).code;
      if (code === 'store.run_closed' || code === 'store.seq_conflict') return false;
      throw error;
    }
  }

  return {
    start,
    closeIfOrphaned,
    /** Plugins new runs may not use (the operator's list, changed at runtime). */
    disabledPlugins,

    /** The plugins installed in PARLEY_PLUGINS_DIR (community tier unless the registry says). */
    installedPlugins: () => community.list(),

    /** Switches a plugin off: new runs refuse it, a community plugin's processes stop. */
    async disablePlugin(name: string) {
      disabledPlugins.add(name);
      await community.stopPlugin(name);
    },

    get(runId: string): LiveRun | undefined {
      return live.get(runId);
    },

    /** The workspace a live run belongs to (saves a lookup on the hot path). */
    workspaceOf(runId: string): string | undefined {
      return live.get(runId)?.workspaceId;
    },

    /**
     * Cancels a run. Live here: aborts it and waits for its terminal event (outside any
     * transaction: the run still writes its log). Not live: closes it if it was orphaned, or
     * asks the server running it through the log. Reports whether this request ended it.
     */
    async cancel(
      workspaceId: string,
      runId: string,
      by: string,
      scope: ScopeOptions,
    ): Promise<{ cancelled: boolean; status: api.Run['status'] }> {
      const run = live.get(runId);
      if (run) {
        if (!run.closed && !run.controller.signal.aborted) {
          run.controller.abort({ reason: 'cancelled', by } satisfies RunAbortReason);
        }
        while (!run.closed) await run.changed();
        const terminal = run.events.at(-1);
        const cancelled =
          terminal?.type === 'run.abort' && terminal.reason === 'cancelled' && terminal.by === by;
        return {
          cancelled,
          status:
            terminal?.type === 'run.finish'
              ? 'succeeded'
              : terminal?.type === 'run.error'
                ? 'failed'
                : 'cancelled',
        };
      }
      return store.withWorkspace(
        workspaceId,
        async (ws) => {
          const row = await ws.runs.get(runId);
          if (!row) throw notFound('Run');
          if (ENDED.has(row.status))
            return { cancelled: false, status: row.status as api.Run['status'] };
          if (await closeIfOrphaned(ws, row))
            return { cancelled: true, status: 'cancelled' as const };
          // Running on another server instance: the abort in its log stops it at its next write.
          if (await cancelRunElsewhere(ws, runId, by))
            return { cancelled: true, status: 'cancelled' as const };
          const ended = await ws.runs.get(runId);
          return { cancelled: false, status: (ended?.status ?? 'cancelled') as api.Run['status'] };
        },
        scope,
      );
    },

    /** Answers a tool approval of a live run; false when none is pending for that call. */
    decide(runId: string, toolCallId: string, decision: 'approved' | 'denied'): boolean {
      const run = live.get(runId);
      const approvalId = run?.pendingApprovals.get(toolCallId);
      if (!run || !approvalId) return false;
      return run.approvals.decide(approvalId, decision);
    },

    /** Something in a workspace changed (an agent, a deploy, the trust page): runs read it anew. */
    forgetAgents(workspaceId: string) {
      agentCache.forget(workspaceId);
    },

    /** A workspace's secrets changed: decrypted keys kept for runs are dropped. */
    forgetSecrets(workspaceId: string) {
      modelKeys.forget(workspaceId);
      // Sandboxed plugins and MCP servers may hold the workspace's secrets: start them anew.
      void toolSources.forget(workspaceId);
    },

    /** Live runs (tests, metrics). */
    get size() {
      return [...live.values()].filter((r) => !r.closed).length;
    },

    /**
     * Stops taking runs, lets running ones finish for `graceMs`, then aborts the rest
     * (reason shutdown) and waits until every event log is flushed.
     */
    async shutdown(graceMs: number) {
      accepting = false;
      const all = () => Promise.all([...executions]);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      for (const run of live.values()) {
        if (!run.closed)
          run.controller.abort({ reason: 'shutdown', by: 'server' } satisfies RunAbortReason);
      }
      await all();
      await toolSources.shutdown();
    },
  };
}

export type RunManager = ReturnType<typeof createRunManager>;
