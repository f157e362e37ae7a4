import type { Socket } from 'node:net';
import type { AgentDefinition, McpServerRef, PluginDefinition, PluginHost } from '@parley/core';
import {
  type ConnectMcpOptions,
  checkMcpServers,
  createMcpPool,
  listedHost,
  type McpConnections,
  type McpPolicy,
  withTools,
} from '@parley/mcp';
import {
  prepareJailedProgram,
  type SandboxAuditEvent,
  sandboxedPluginDefinition,
} from '@parley/sandbox';
import type { ScopeOptions } from '@parley/store';
import type { CommunityPlugins } from './community-plugins.ts';
import { PLUGIN_CATALOG } from './plugin-catalog.ts';
import { publicFetch } from './public-fetch.ts';

/*
 * The tools a run gets from outside the server process: community plugins (in their sandboxed
 * processes, see community-plugins.ts) and the agent's MCP servers (from a pool per workspace:
 * a stdio server starts once, not for every run). Prepared before anything of the run is written, so a plugin that does
 * not start or an MCP server that cannot be reached is a 422 like a missing plugin.
 */

export interface RunBinding {
  workspaceId: string;
  runId: string;
  scope: ScopeOptions;
  /** Reads a workspace secret for a plugin or an MCP server. */
  secret: (name: string) => Promise<string | undefined>;
  /** Stores a sandboxed plugin's audit event in the workspace's audit log. */
  audit: (event: SandboxAuditEvent, runId: string | undefined, scope: ScopeOptions) => void;
}

export interface PreparedTools {
  /** The run's plugin host with the community plugins registered and the MCP tools added. */
  attach(host: PluginHost): PluginHost;
  /** Hands the run's MCP connections back (processes stay for later runs). */
  close(): Promise<void>;
  /** The secret values the run's MCP servers and plugin processes hold (redacted from all the run shows). */
  secrets: readonly string[];
}

export interface ToolSourcesOptions {
  community: CommunityPlugins;
  mcp: McpPolicy;
  /** `os`: stdio MCP programs run in the OS sandbox; `weak`: as they are (PARLEY_SANDBOX=weak). */
  sandbox?: 'os' | 'weak';
  /** Opens the sandbox proxy's outbound connections (public addresses only on multi-user servers). */
  connect?: (host: string, port: number) => Socket;
  /** Host variables stdio MCP servers get besides the base set (PARLEY_MCP_ENV). */
  mcpEnv?: readonly string[];
}

export function createToolSources(options: ToolSourcesOptions) {
  const { community } = options;
  const mcpPool = createMcpPool();
  const fetchFor = (url: URL): typeof fetch =>
    options.mcp.httpHosts === 'any' || listedHost(url, options.mcp.hosts)
      ? globalThis.fetch
      : publicFetch;

  /**
   * Starts a stdio MCP server's program in the OS sandbox with what its `sandbox` block asks
   * for; each connection it makes through the egress proxy is audited as the run's.
   */
  const jailed =
    (run: RunBinding): ConnectMcpOptions['launch'] =>
    (server: McpServerRef, program) => {
      const asked = 'stdio' in server.transport ? server.transport.stdio.sandbox : undefined;
      return prepareJailedProgram({
        ...program,
        read: asked?.read ?? [],
        write: asked?.write ?? [],
        network: asked?.network ?? [],
        ...(options.connect ? { connect: options.connect } : {}),
        onDecision: ({ host, port, allowed }) =>
          run.audit(
            {
              action: allowed ? 'plugin.network_request' : 'plugin.permission_denied',
              kind: 'network',
              resource: `${host}:${port}`,
              plugin: `mcp:${server.name}`,
            },
            run.runId,
            run.scope,
          ),
      });
    };

  async function communityPlugins(definition: AgentDefinition, run: RunBinding) {
    const plugins: PluginDefinition[] = [];
    /** The secret values their processes hold (read when a process started, maybe for an earlier run). */
    const secrets: string[] = [];
    for (const ref of definition.plugins) {
      if (Object.hasOwn(PLUGIN_CATALOG, ref.name)) continue;
      const installed = await community.installed(ref.name);
      // Not installed anywhere: the plugin host names it as missing.
      if (!installed) continue;
      const sandbox = await community.sandbox(installed, {
        workspaceId: run.workspaceId,
        secret: run.secret,
        audit: (event, owner) => run.audit(event, owner?.runId, owner?.scope ?? run.scope),
      });
      secrets.push(...sandbox.secretValues);
      plugins.push(
        sandboxedPluginDefinition(sandbox, {
          callTimeoutMs: definition.toolTimeoutMs,
          onCall: ({ toolCallId, agentId }) =>
            community.own(toolCallId, { runId: run.runId, agentId, scope: run.scope }),
        }),
      );
    }
    return { plugins, secrets };
  }

  return {
    async prepare(definition: AgentDefinition, run: RunBinding): Promise<PreparedTools> {
      checkMcpServers(definition.mcp, options.mcp);
      const { plugins, secrets } = await communityPlugins(definition, run);
      const connections: McpConnections =
        definition.mcp.length > 0
          ? await mcpPool.connect(run.workspaceId, definition.mcp, {
              secret: run.secret,
              fetchFor,
              callTimeoutMs: definition.toolTimeoutMs,
              ...(options.mcpEnv ? { hostEnv: options.mcpEnv } : {}),
              ...(options.sandbox === 'weak' ? {} : { launch: jailed(run) }),
            })
          : { tools: [], secrets: [], close: async () => {} };
      return {
        attach(host) {
          for (const plugin of plugins) host.register(plugin);
          return withTools(host, connections.tools);
        },
        close: () => connections.close(),
        secrets: [...secrets, ...connections.secrets],
      };
    },

    /** A workspace's secrets changed: its plugin processes and MCP servers start anew. */
    async forget(workspaceId: string) {
      mcpPool.forget(workspaceId);
      await community.forget(workspaceId);
    },

    async shutdown() {
      mcpPool.shutdown();
      await community.shutdown();
    },
  };
}

export type ToolSources = ReturnType<typeof createToolSources>;
