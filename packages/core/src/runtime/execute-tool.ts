import type { AgentDefinition } from '../agent/definition.ts';
import { CoreError, ToolTimeoutError } from '../errors.ts';
import type { BoundTool, PluginHost } from '../plugins/plugin-host.ts';
import type { ToolMemory } from '../tools/tool-context.ts';
import type { RunRequest } from './run-agent.ts';

export type ToolOutcome =
  | { ok: true; output: unknown; durationMs: number }
  | { ok: false; error: string; durationMs: number };

export interface ExecuteToolOptions {
  agent: AgentDefinition;
  request: RunRequest;
  plugins: PluginHost;
  signal: AbortSignal;
  memory: ToolMemory;
  now: () => number;
}

/**
 * Runs one validated tool call inside its plugin's permissions, with a timeout that aborts the
 * tool's signal and stops waiting even if the tool ignores it. Never throws: failures become
 * `{ ok: false }`, with secrets the tool read redacted from the output and the error.
 */
export async function executeTool(
  bound: BoundTool,
  call: { id: string; args: unknown },
  options: ExecuteToolOptions,
): Promise<ToolOutcome> {
  const started = options.now();
  const timeoutMs = bound.tool.timeoutMs ?? options.agent.toolTimeoutMs;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout.signal]);
  const { context, redact } = options.plugins.createToolContext(bound.plugin, {
    toolCallId: call.id,
    agentId: options.request.agentId,
    conversationId: options.request.conversationId,
    ...(options.request.userId === undefined ? {} : { userId: options.request.userId }),
    signal,
    memory: options.memory,
  });
  const elapsed = () => Math.round((options.now() - started) * 1000) / 1000;
  try {
    const stopped = new Promise<never>((_, reject) => {
      const fail = () =>
        reject(
          timeout.signal.aborted
            ? new ToolTimeoutError(bound.tool.name, timeoutMs)
            : new CoreError('tool.cancelled', `tool ${bound.tool.name} was cancelled`),
        );
      if (signal.aborted) fail();
      signal.addEventListener('abort', fail, { once: true });
    });
    const output = await Promise.race([
      Promise.resolve().then(() => bound.tool.run(call.args, context)),
      stopped,
    ]);
    return { ok: true, output: redact(output), durationMs: elapsed() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: String(redact(message)), durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
