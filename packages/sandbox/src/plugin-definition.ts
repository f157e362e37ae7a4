import { defineTool, type PluginDefinition, type ToolDefinition } from '@parley/core';
import { z } from 'zod';
import type { SandboxedPlugin } from './sandboxed-plugin.ts';

/** Time the run loop gives a sandboxed call beyond the sandbox's own timeout, so the sandbox's fires first. */
const GRACE_MS = 2_000;

/**
 * A sandboxed plugin as the plugin host sees it: its manifest, with tools whose `run` calls
 * into the process. The host checks compatibility and resolves it like any plugin; the
 * argument schema is the JSON Schema the plugin's zod schema produced, validated here too.
 */
export function sandboxedPluginDefinition(
  sandbox: SandboxedPlugin,
  options: { callTimeoutMs: number },
): PluginDefinition {
  const { manifest } = sandbox;
  const tools: ToolDefinition[] = sandbox.tools.map((info) =>
    defineTool({
      name: info.name,
      description: info.description || info.name,
      input: z.fromJSONSchema(info.inputSchema as never) as z.ZodType,
      timeoutMs: options.callTimeoutMs + GRACE_MS,
      run: (args, ctx) =>
        sandbox.call(info.name, args, {
          signal: ctx.signal,
          toolCallId: ctx.toolCallId,
          agentId: ctx.agentId,
        }),
    }),
  );
  return {
    name: manifest.name,
    version: manifest.version,
    contract: manifest.contract,
    core: manifest.core,
    ...(manifest.description ? { description: manifest.description } : {}),
    permissions: manifest.permissions,
    tools,
  };
}
