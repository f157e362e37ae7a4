import {
  createInMemoryMemoryStore,
  type PluginDefinition,
  type PluginHost,
  type ToolDefinition,
  type ToolMemory,
  validateToolArgs,
} from '@parley/core';
import type { ProbeMessage } from './probe.ts';
import { toolChecks } from './probe-checks.ts';
import { fail, type KitCheck, pass, skip } from './result.ts';
import { sampleFromSchema } from './sample-input.ts';

/*
 * The probe's steps that run the plugin's code, each within a time limit: a sample call of
 * every tool, and each connector started and stopped.
 */

/** How the probe tells its parent: a check, or another message. */
export interface ProbeChannel {
  report(check: KitCheck): Promise<void>;
  send(message: ProbeMessage): Promise<void>;
}

export class StepTimeout extends Error {}

export async function within<T>(ms: number, work: () => Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(work),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StepTimeout(`did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Errors that mean a bug in the tool rather than a refusal the model can read and act on. */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'ReferenceError', 'SyntaxError', 'RangeError']);

export function kitMemory(): ToolMemory {
  const store = createInMemoryMemoryStore();
  const scope = { workspaceId: 'kit-workspace', agentId: 'kit-agent', userId: 'kit-user' };
  return {
    remember: (text, options = {}) => store.write({ text, kind: options.kind ?? 'note', scope }),
    recall: (query, options = {}) =>
      store.search({ text: query, agentId: scope.agentId, limit: options.limit ?? 5 }),
  };
}

export const describe = (error: unknown) =>
  error instanceof StepTimeout
    ? error.message
    : `threw: ${(error as Error)?.message ?? String(error)}`;

/** A tool's schema check, then one call with arguments made from its schema (or its example). */
export async function sampleTool(options: {
  tool: ToolDefinition;
  index: number;
  plugin: PluginDefinition;
  host: PluginHost;
  memory: ToolMemory;
  stepTimeoutMs: number;
  channel: ProbeChannel;
}): Promise<void> {
  const { tool, index, plugin, host, memory, channel } = options;
  const { report, send } = channel;
  const { check, schema } = toolChecks(tool);
  await report(check);
  const id = `sample-calls.${tool.name}`;
  if (!schema || check.status === 'fail') {
    await report(skip('sample-calls', id, `skipped: ${tool.name} has no usable schema`));
    return;
  }
  const declared = Array.isArray(schema.examples) && schema.examples.length > 0;
  const args = sampleFromSchema(schema);
  const valid = validateToolArgs(tool, args);
  if (!valid.ok) {
    await report(
      fail(
        'sample-calls',
        id,
        declared
          ? `the declared example does not match the schema (${valid.reason})`
          : `no valid arguments could be made from the schema (${valid.reason}): declare one with input: z.object({…}).meta({ examples: [{…}] })`,
      ),
    );
    return;
  }
  const controller = new AbortController();
  const { context, redact } = host.createToolContext(plugin, {
    toolCallId: `kit-call-${index + 1}`,
    agentId: 'kit-agent',
    conversationId: 'kit-conversation',
    userId: 'kit-user',
    signal: controller.signal,
    memory,
  });
  const shown = JSON.stringify(args);
  try {
    const result = await within(tool.timeoutMs ?? options.stepTimeoutMs, () =>
      tool.run(valid.value, context),
    );
    JSON.stringify(redact(result) ?? null);
    await send({ type: 'sample', tool: tool.name, args, outcome: 'returned' });
    await report(pass('sample-calls', id, `${tool.name}(${shown}) returned`));
  } catch (error) {
    controller.abort();
    const err = error as Error;
    const refusal =
      !declared &&
      err instanceof Error &&
      !(err instanceof StepTimeout) &&
      !PROGRAMMING_ERRORS.has(err.name) &&
      (err as NodeJS.ErrnoException).code !== 'ERR_ACCESS_DENIED' &&
      err.name !== 'PermissionDeniedError' &&
      err.message.trim() !== '';
    await send({
      type: 'sample',
      tool: tool.name,
      args,
      outcome: refusal ? 'refused' : 'failed',
    });
    await report(
      refusal
        ? pass(
            'sample-calls',
            id,
            `${tool.name}(${shown}) refused generated arguments: ${err.message}`,
          )
        : fail(
            'sample-calls',
            id,
            `${tool.name}(${shown}) ${err instanceof StepTimeout ? err.message : `failed: ${err?.name ?? 'Error'}: ${err?.message ?? String(error)}`}`,
          ),
    );
  }
}

/** Starts every connector, then stops those that started, newest first. */
export async function lifecycleChecks(
  plugin: PluginDefinition,
  stepTimeoutMs: number,
  report: ProbeChannel['report'],
): Promise<void> {
  const parts = plugin.connectors ?? [];
  if (parts.length === 0) await report(pass('lifecycle', 'lifecycle', 'no connectors to start'));
  const started: typeof parts = [];
  for (const part of parts) {
    try {
      await within(stepTimeoutMs, () => part.start());
      started.push(part);
      await report(pass('lifecycle', `lifecycle.start:${part.name}`, `${part.name} started`));
    } catch (error) {
      await report(
        fail(
          'lifecycle',
          `lifecycle.start:${part.name}`,
          `${part.name}.start() ${describe(error)}`,
        ),
      );
    }
  }
  for (const part of started.reverse()) {
    try {
      await within(stepTimeoutMs, () => part.stop());
      await report(pass('lifecycle', `lifecycle.stop:${part.name}`, `${part.name} stopped`));
    } catch (error) {
      await report(
        fail('lifecycle', `lifecycle.stop:${part.name}`, `${part.name}.stop() ${describe(error)}`),
      );
    }
  }
}
