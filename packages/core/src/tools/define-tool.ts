import type { ModelTool } from '@parley/providers';
import { z } from 'zod';
import type { ToolContext } from './tool-context.ts';

/** A function the model may call. `input` is a zod schema: it gives the JSON Schema sent to
 * providers and validates the model's arguments before `run` sees them. */
export interface ToolDefinition<Input extends z.ZodType = z.ZodType, Output = unknown> {
  name: string;
  description: string;
  input: Input;
  run(args: z.infer<Input>, context: ToolContext): Promise<Output> | Output;
  /** Overrides the agent's per-tool timeout. */
  timeoutMs?: number;
  /** The run pauses with `tool.approval_requested` until a person approves or denies. */
  requiresApproval?: boolean;
  /**
   * Running it twice with the same arguments does what running it once does. When the
   * instance running a call dies before its result is stored, the instance that continues
   * the run calls an idempotent tool again; any other tool is not run twice: the model is
   * told the call was interrupted.
   */
  idempotent?: boolean;
  /**
   * A successful call ends the run after this step, without another model call: the tool
   * handed the conversation to someone else who answered (an agent handoff).
   */
  endsRun?: boolean;
}

const TOOL_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

export function defineTool<Input extends z.ZodType, Output>(
  tool: ToolDefinition<Input, Output>,
): ToolDefinition<Input, Output> {
  if (!TOOL_NAME.test(tool.name)) {
    throw new TypeError(
      `tool name "${tool.name}" must start with a letter and use only letters, digits, "_" or "-" (max 64): providers reject other names`,
    );
  }
  if (!tool.description.trim())
    throw new TypeError(`tool ${tool.name} needs a description: the model reads it`);
  return tool;
}

/**
 * Each input schema's JSON Schema, made once: converting a zod schema costs more CPU than the
 * rest of starting a run, and a tool's schema never changes. Frozen, since every run shares it.
 */
const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

/** The provider-neutral tool offered to a model: name, description, JSON Schema parameters. */
export function toModelTool(tool: ToolDefinition): ModelTool {
  let parameters = jsonSchemas.get(tool.input);
  if (!parameters) {
    const schema = z.toJSONSchema(tool.input, { target: 'draft-7', io: 'input' }) as Record<
      string,
      unknown
    >;
    delete schema.$schema;
    parameters = deepFreeze(schema);
    jsonSchemas.set(tool.input, parameters);
  }
  return { name: tool.name, description: tool.description, parameters };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Validates model arguments; returns the parsed value or a message listing each problem. */
export function validateToolArgs(
  tool: ToolDefinition,
  args: unknown,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  const parsed = tool.input.safeParse(args);
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(arguments)'}: ${issue.message}`,
  );
  return { ok: false, reason: `invalid arguments for ${tool.name}: ${problems.join('; ')}` };
}
