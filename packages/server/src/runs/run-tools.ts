import { AgentDefinitionError } from '@parley/agent-file';
import type { AgentDefinition, PluginAuditEvent, PluginHost } from '@parley/core';
import type { McpPolicy } from '@parley/mcp';
import type { ScopeOptions, Store, TrustPageContent } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { Detector } from '../detect/detector.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { withTraceparent } from '../telemetry/trace-context.ts';
import { trustContextProviders } from '../trust/context.ts';
import { createCommunityPlugins } from './community-plugins.ts';
import { guardServices } from './guard-services.ts';
import { hostForAgent, refuseDisabledPlugins } from './plugin-catalog.ts';
import { connectPublic, publicFetch } from './public-fetch.ts';
import { createToolSources } from './tool-sources.ts';

export interface RunToolsOptions {
  store: Store;
  detector: Detector;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** Told of each scam-guard verdict in a workspace (the trust service's gauge). */
  onScamVerdict?: (workspaceId: string, verdict: 'allow' | 'warn' | 'block') => void;
  /** Plugins reach public internet addresses only (multi-user mode: see public-fetch.ts). */
  publicNetworkOnly?: boolean;
  disabledPlugins?: readonly string[];
  pluginsDir?: string;
  mcp?: McpPolicy;
  sandbox?: 'os' | 'weak';
  mcpEnv?: readonly string[];
}

/** What a run borrows: its plugin host (tools, context, guards), the secrets it revealed, a release. */
export interface RunToolset {
  plugins: PluginHost;
  /** Every secret value the run resolved, growing as plugins read more: redacted everywhere. */
  secrets: Set<string>;
  /** Closes what the run borrowed (its MCP connections, sandboxed processes' sessions). */
  release(): Promise<void>;
}

/**
 * The plugins and tools of runs: the agent's first-party plugins, community plugins (in the
 * sandbox) and MCP servers, with the workspace secrets they may read (audited, redacted) and
 * the operator's kill switch.
 */
export function createRunTools(options: RunToolsOptions) {
  const { store, detector, log } = options;
  const disabledPlugins = new Set(options.disabledPlugins ?? []);
  const sandbox = options.sandbox ?? 'os';
  const connect = options.publicNetworkOnly ? { connect: connectPublic } : {};
  const community = createCommunityPlugins({
    dir: options.pluginsDir,
    log,
    isolation: sandbox,
    ...connect,
  });
  const toolSources = createToolSources({
    community,
    mcp: options.mcp ?? { stdioCommands: 'any', httpHosts: 'any', hosts: [] },
    sandbox,
    ...connect,
    ...(options.mcpEnv ? { mcpEnv: options.mcpEnv } : {}),
  });

  /** Reads a workspace secret for a plugin or MCP server; what it reveals joins `seen`. */
  const secretReader =
    (workspaceId: string, runId: string, scope: ScopeOptions, seen?: Set<string>) =>
    async (name: string) => {
      const value = await store.withWorkspace(
        workspaceId,
        async (ws) =>
          (await ws.secrets.get(name))
            ? ws.secrets.reveal(name, { purpose: 'plugin', runId })
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
  function recordAudit(
    workspaceId: string,
    runId: string | undefined,
    event: PluginAuditEvent & { kind?: string },
    scope: ScopeOptions,
  ) {
    const denied = event.action === 'plugin.permission_denied';
    store
      .withWorkspace(
        workspaceId,
        (ws) =>
          ws.audit.record({
            // A refusal is `plugin.denied`; secret reads and requests are what they are.
            ...(denied
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

  /**
   * The host of the agent's first-party plugins, with the server's services: secrets, the
   * guarded fetch, the audit log, and for every run the trust page (as context in front of
   * the plugins' and as the facts guards check against) and the workspace's security signals.
   */
  function firstPartyHost(
    definition: AgentDefinition,
    workspaceId: string,
    runId: string,
    scope: ScopeOptions,
    secrets: Set<string>,
    trust: TrustPageContent,
    traceparent: string | undefined,
  ): PluginHost {
    refuseDisabledPlugins(definition, disabledPlugins);
    try {
      return hostForAgent(definition, {
        secrets: secretReader(workspaceId, runId, scope, secrets),
        redactValues: secrets,
        // Part of the run's trace downstream (docs/observability.md).
        fetch: withTraceparent(
          options.publicNetworkOnly ? publicFetch : globalThis.fetch,
          traceparent,
        ),
        audit: (event) => recordAudit(workspaceId, runId, event, scope),
        log: (entry) => log[entry.level]({ plugin: entry.plugin, runId }, entry.message),
        contextProviders: trustContextProviders(trust),
        guards: guardServices({
          store,
          metrics: options.metrics,
          log,
          workspaceId,
          trust,
          ...(options.onScamVerdict ? { onScamVerdict: options.onScamVerdict } : {}),
        }),
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

  return {
    disabledPlugins,

    /**
     * Everything a run of `definition` uses, before anything of the run is written: a missing
     * or disabled plugin, a refused MCP server or bad plugin config throws (a 422).
     */
    async prepare(input: {
      definition: AgentDefinition;
      workspaceId: string;
      runId: string;
      scope: ScopeOptions;
      trust: TrustPageContent;
      /** The run's trace context, sent with its plugins' requests. */
      traceparent?: string;
    }): Promise<RunToolset> {
      const { definition, workspaceId, runId, scope } = input;
      const secrets = new Set<string>();
      const tools = await toolSources.prepare(definition, {
        workspaceId,
        runId,
        scope,
        secret: secretReader(workspaceId, runId, scope, secrets),
        audit: (event, owner, ownerScope) => recordAudit(workspaceId, owner, event, ownerScope),
      });
      try {
        const plugins = tools.attach(
          firstPartyHost(
            definition,
            workspaceId,
            runId,
            scope,
            secrets,
            input.trust,
            input.traceparent,
          ),
        );
        for (const value of tools.secrets) secrets.add(value);
        return { plugins, secrets, release: tools.close };
      } catch (error) {
        await tools.close();
        throw error;
      }
    },

    /** The plugins installed in PARLEY_PLUGINS_DIR (community tier unless the registry says). */
    installed: () => community.list(),

    /** Switches a plugin off: new runs refuse it, a community plugin's processes stop. */
    async disable(name: string) {
      disabledPlugins.add(name);
      await community.stopPlugin(name);
    },

    /** A workspace's secrets changed: sandboxed plugins and MCP servers holding them restart. */
    forget: (workspaceId: string) => toolSources.forget(workspaceId),

    shutdown: () => toolSources.shutdown(),
  };
}

export type RunTools = ReturnType<typeof createRunTools>;
