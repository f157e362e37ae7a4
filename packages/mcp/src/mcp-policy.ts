import {
  AgentConfigError,
  listedHost as listedOperatorHost,
  type McpServerRef,
} from '@parley/core';

/**
 * Which MCP servers agents on this server may use. A stdio server is a program the server
 * starts: on a multi-user server any member who may deploy an agent would otherwise run code
 * on the machine. An HTTP server receives what the agent's tools send it: it may be any host
 * when one person owns the server, else a public one (checked again when connecting) or one
 * the operator listed.
 */
export interface McpPolicy {
  /** `any` (single-user mode) or the exact command lines (`command arg …`) an operator allowed. */
  stdioCommands: 'any' | readonly string[];
  /** `any` (single-user mode) or `public`: public addresses plus `hosts`. */
  httpHosts: 'any' | 'public';
  /** Hosts (`host` or `host:port`) allowed even when they are not public. */
  hosts: readonly string[];
  /** `any` (single-user mode) or the host paths (and what is under them) a stdio program may be given. */
  paths?: 'any' | readonly string[];
}

/** Whether `path` is one of `roots` or under one. */
function underRoot(path: string, roots: readonly string[]): boolean {
  return roots.some(
    (root) => path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`),
  );
}

/** The command line an operator allow-lists for a stdio server. */
export function commandLine(stdio: { command: string; args: readonly string[] }): string {
  return [stdio.command, ...stdio.args].join(' ');
}

/** Whether an HTTP MCP server's host is on the operator's list (any address allowed then). */
export function listedHost(url: URL, hosts: readonly string[]): boolean {
  return listedOperatorHost(url, hosts) !== undefined;
}

/** Refuses (AgentConfigError naming the server and what the operator can do) what the policy does not allow. */
export function checkMcpServers(servers: readonly McpServerRef[], policy: McpPolicy): void {
  for (const server of servers) {
    const { transport } = server;
    if ('stdio' in transport) {
      const { read = [], write = [] } = transport.stdio.sandbox ?? {};
      const paths = policy.paths ?? 'any';
      const unlisted =
        paths === 'any' ? [] : [...read, ...write].filter((p) => !underRoot(p, paths));
      if (unlisted.length > 0)
        throw new AgentConfigError(
          `MCP server ${server.name} asks its sandbox for ${unlisted.join(', ')}, which this multi-user server gives MCP programs only under paths an operator lists in PARLEY_MCP_PATHS`,
        );
      if (policy.stdioCommands === 'any') continue;
      const line = commandLine(transport.stdio);
      if (!policy.stdioCommands.includes(line))
        throw new AgentConfigError(
          `MCP server ${server.name} starts a program (${line.slice(0, 200)}), which this multi-user server allows only for commands an operator lists in PARLEY_MCP_COMMANDS`,
        );
    }
  }
}
