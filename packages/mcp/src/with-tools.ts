import { AgentConfigError, type BoundTool, type PluginHost } from '@parley/core';

/**
 * A plugin host whose `resolve` also offers tools that come from elsewhere (an agent's MCP
 * servers). They clash with plugin tools like plugin tools clash with each other, and the
 * agent's `tools` allow-list applies to them too.
 */
export function withTools(host: PluginHost, extra: readonly BoundTool[]): PluginHost {
  if (extra.length === 0) return host;
  return {
    ...host,
    resolve(agent) {
      const { tools: allowList, ...rest } = agent;
      const resolved = host.resolve(rest);
      for (const bound of extra) {
        const clash = resolved.tools.get(bound.tool.name);
        if (clash)
          throw new AgentConfigError(
            `tool ${bound.tool.name} is defined by both ${clash.plugin.name} and ${bound.plugin.name}`,
          );
        resolved.tools.set(bound.tool.name, bound);
      }
      if (allowList) {
        const unknown = allowList.filter((name) => !resolved.tools.has(name));
        if (unknown.length > 0)
          throw new AgentConfigError(
            `agent ${agent.name} allows tool ${unknown.join(', ')}, but none of its plugins or MCP servers defines it (available: ${[...resolved.tools.keys()].join(', ') || 'none'})`,
          );
        for (const name of [...resolved.tools.keys()])
          if (!allowList.includes(name)) resolved.tools.delete(name);
      }
      return resolved;
    },
  };
}
