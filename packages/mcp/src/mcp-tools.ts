// The SDK loads when an agent first connects to an MCP server (import() below), not at start.
import type { Client, Transport } from '@modelcontextprotocol/client';
import {
  AgentConfigError,
  type BoundTool,
  createRedactor,
  defineTool,
  type McpServerRef,
  PLUGIN_CONTRACT,
  type PluginDefinition,
} from '@parley/core';
import { z } from 'zod';
import { childEnv } from './child-env.ts';

export interface ConnectMcpOptions {
  /** Reads a workspace secret by name (stdio `secretEnv`, HTTP `bearerTokenSecret`). */
  secret: (name: string) => Promise<string | undefined>;
  /** The fetch an HTTP server is reached with (the server passes one limited to allowed hosts). */
  fetchFor?: (url: URL) => typeof fetch;
  /** Connecting and listing tools, per server (default 15 s). */
  connectTimeoutMs?: number;
  /** Default per-call timeout when the server entry sets none. */
  callTimeoutMs: number;
  /** Where a stdio server's stderr goes (default: ignored). */
  stderr?: 'ignore' | 'inherit';
  /** Host variables a stdio server gets besides the base set (PARLEY_MCP_ENV; child-env.ts). */
  hostEnv?: readonly string[];
  /**
   * How a stdio server's program is started: the server passes the OS sandbox (a command line
   * that runs it jailed, closed when the connection closes). Without it, it runs as is.
   */
  launch?: (server: McpServerRef, program: StdioProgram) => Promise<LaunchedProgram>;
}

/** A stdio server's program as agent.yaml names it, with the environment built for it. */
export interface StdioProgram {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
}

/** The command line that actually runs it, and what to free when it has ended. */
export interface LaunchedProgram {
  command: string;
  args: string[];
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface McpConnections {
  /** The tools of every server, bound to a plugin named `mcp:<server>` (for the plugin host). */
  tools: BoundTool[];
  /** The secret values the servers were given: a run redacts them from everything it shows. */
  secrets: readonly string[];
  close(): Promise<void>;
}

/** One server's connection. */
export interface McpConnection {
  client: Client;
  tools: BoundTool[];
  /** The secret values it was given (its environment, its bearer token). */
  secrets: readonly string[];
}

const TOOL_NAME = /[^a-zA-Z0-9_-]/g;

/** The name the model sees: `<server>_<tool>`, with characters providers refuse replaced. */
export function parleyToolName(server: string, tool: string): string {
  return `${server}_${tool.replace(TOOL_NAME, '_')}`.slice(0, 64);
}

/** Text of an MCP tool result: text parts joined; other parts named by type. */
function resultText(content: readonly { type: string; text?: string }[]): string {
  return content
    .map((part) => (part.type === 'text' ? (part.text ?? '') : `[${part.type}]`))
    .join('\n');
}

/**
 * The server's JSON Schema for a tool's arguments, as the zod schema the run loop validates with
 * and offers to the model. A schema zod cannot read (rare JSON Schema features) still gives an
 * object: the MCP server validates the arguments itself.
 */
function argumentsSchema(jsonSchema: unknown): z.ZodType {
  try {
    return z.fromJSONSchema(jsonSchema as never) as z.ZodType;
  } catch {
    return z.looseObject({});
  }
}

async function openTransport(server: McpServerRef, options: ConnectMcpOptions): Promise<Transport> {
  const { transport } = server;
  if ('stdio' in transport) {
    const env = await childEnv(
      { name: server.name, secretEnv: transport.stdio.secretEnv },
      {
        secret: options.secret,
        ...(options.hostEnv ? { hostEnv: options.hostEnv } : {}),
      },
    );
    const program: StdioProgram = {
      command: transport.stdio.command,
      args: transport.stdio.args,
      env,
    };
    const launched = options.launch
      ? await options.launch(server, program)
      : { ...program, args: [...program.args], close: async () => {} };
    const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
    const stdio = new StdioClientTransport({
      command: launched.command,
      args: launched.args,
      env: launched.env,
      stderr: options.stderr ?? 'ignore',
    });
    // The client chains its own close handler after this one.
    stdio.onclose = () => void launched.close();
    return stdio;
  }
  const url = new URL(transport.url);
  const headers: Record<string, string> = {};
  if (transport.bearerTokenSecret) {
    const token = await options.secret(transport.bearerTokenSecret);
    if (token === undefined)
      throw new AgentConfigError(
        `MCP server ${server.name} needs the secret ${transport.bearerTokenSecret}: set it with \`parley secrets set ${transport.bearerTokenSecret}\``,
      );
    headers.authorization = `Bearer ${token}`;
  }
  const fetchImpl = options.fetchFor?.(url);
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
  return new StreamableHTTPClientTransport(url, {
    requestInit: { headers },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

export async function connectOne(
  server: McpServerRef,
  options: ConnectMcpOptions,
): Promise<McpConnection> {
  const { Client } = await import('@modelcontextprotocol/client');
  const client = new Client({ name: 'parley', version: '0.1.0' });
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  // The secret values this server is given (environment, bearer token) never come back through
  // its tools: a server that echoes them would show them to the model and the run's viewers.
  const given: string[] = [];
  const secret = async (name: string) => {
    const value = await options.secret(name);
    if (value !== undefined) given.push(value);
    return value;
  };
  const { redact, redactString } = createRedactor(given);
  try {
    const transport = await openTransport(server, { ...options, secret });
    await client.connect(transport, { timeout: connectTimeoutMs });
    const listed = await client.listTools(undefined, { timeout: connectTimeoutMs });
    const offered = new Map(listed.tools.map((tool) => [tool.name, tool]));
    const missing = (server.allowTools ?? []).filter((name) => !offered.has(name));
    if (missing.length > 0)
      throw new AgentConfigError(
        `MCP server ${server.name} does not offer ${missing.join(', ')} (it offers: ${[...offered.keys()].join(', ') || 'nothing'})`,
      );
    const plugin: PluginDefinition = {
      name: `mcp:${server.name}`,
      version: '0.0.0',
      contract: PLUGIN_CONTRACT,
      core: '*',
      permissions: {},
    };
    const allowed = [...offered.values()].filter(
      (tool) => !server.allowTools || server.allowTools.includes(tool.name),
    );
    const approval = server.requireApproval;
    const timeoutMs = server.timeoutMs ?? options.callTimeoutMs;
    const tools = allowed.map(
      (tool): BoundTool => ({
        plugin,
        tool: defineTool({
          name: parleyToolName(server.name, tool.name),
          description: tool.description || `${tool.name} (MCP server ${server.name})`,
          input: argumentsSchema(tool.inputSchema),
          timeoutMs,
          requiresApproval:
            approval === true || (Array.isArray(approval) && approval.includes(tool.name)),
          // The server's own word (MCP tool annotations): a call cut by a failover runs again
          // only when the tool says repeating it changes nothing more.
          idempotent:
            tool.annotations?.idempotentHint === true || tool.annotations?.readOnlyHint === true,
          async run(args, ctx) {
            const result = await client.callTool(
              { name: tool.name, arguments: (args ?? {}) as Record<string, unknown> },
              { signal: ctx.signal, timeout: timeoutMs },
            );
            const content = (result.content ?? []) as { type: string; text?: string }[];
            if (result.isError)
              throw new Error(redactString(resultText(content)) || `${tool.name} failed`);
            return redact(result.structuredContent ?? resultText(content));
          },
        }),
      }),
    );
    return { client, tools, secrets: given };
  } catch (error) {
    await client.close().catch(() => {});
    if (error instanceof AgentConfigError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new AgentConfigError(`MCP server ${server.name} could not be reached: ${reason}`);
  }
}

/**
 * Connects to an agent's MCP servers and lists their tools, limited to each server's
 * `allowTools` and marked for approval per `requireApproval`. Servers connect in parallel; if
 * one fails, the others are closed and the error names the server.
 */
export async function connectMcpServers(
  servers: readonly McpServerRef[],
  options: ConnectMcpOptions,
): Promise<McpConnections> {
  const settled = await Promise.allSettled(servers.map((server) => connectOne(server, options)));
  const clients = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.client] : []));
  const close = async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
  };
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  const connected = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  return {
    tools: connected.flatMap((c) => c.tools),
    secrets: connected.flatMap((c) => c.secrets),
    close,
  };
}
