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
  options: {
    /** Each call's timeout in the sandbox (the agent's toolTimeoutMs, say). */
    callTimeoutMs: number;
    /** Called as a call starts; what it returns is called when the call ends. */
    onCall?: (call: { toolCallId: string; agentId: string }) => () => void;
  },
): PluginDefinition {
  const { manifest } = sandbox;
  const tools: ToolDefinition[] = sandbox.tools.map((info) =>
    defineTool({
      name: info.name,
      description: info.description || info.name,
      input: z.fromJSONSchema(info.inputSchema as never) as z.ZodType,
      timeoutMs: options.callTimeoutMs + GRACE_MS,
      async run(args, ctx) {
        const done = options.onCall?.({ toolCallId: ctx.toolCallId, agentId: ctx.agentId });
        try {
          return await sandbox.call(info.name, args, {
            signal: ctx.signal,
            timeoutMs: options.callTimeoutMs,
            toolCallId: ctx.toolCallId,
            agentId: ctx.agentId,
          });
        } finally {
          done?.();
        }
      },
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
