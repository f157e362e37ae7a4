import { PROVIDER_NAMES, ScriptTurnSchema } from '@parley/providers';
import { z } from 'zod';

const name = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-_ ]*$/i, 'use letters, digits, spaces, "-" or "_"');

/** Which model an agent uses, with its provider parameters. */
export const ModelRefSchema = z
  .object({
    provider: z.enum(PROVIDER_NAMES),
    model: z.string().min(1),
    /** Request parameters: temperature, maxOutputTokens, reasoning. */
    params: z
      .object({
        temperature: z.number().min(0).max(2).optional(),
        maxOutputTokens: z.number().int().positive().optional(),
        reasoning: z
          .object({
            effort: z.enum(['low', 'medium', 'high']).optional(),
            budgetTokens: z.number().int().positive().optional(),
          })
          .optional(),
      })
      .strict()
      .default({}),
    /** Name of the workspace secret holding the API key (never the key itself). */
    apiKeySecret: z.string().min(1).optional(),
    baseURL: z.url().optional(),
    /** The model's context window in tokens, used to trim history (default 128k). */
    contextWindow: z.number().int().positive().optional(),
    /**
     * Scripted provider only: the turns it plays back, one per model call (offline demos and
     * tests). Without a script it echoes.
     */
    script: z.array(ScriptTurnSchema).max(100).optional(),
  })
  .strict()
  .refine((ref) => ref.script === undefined || ref.provider === 'scripted', {
    path: ['script'],
    message: 'only the scripted provider plays a script',
  });
export type ModelRef = z.infer<typeof ModelRefSchema>;

export const PluginRefSchema = z
  .object({
    name: z.string().min(1),
    /** A semver range of the plugin version the agent accepts. */
    version: z.string().min(1).default('*'),
    config: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type PluginRef = z.infer<typeof PluginRefSchema>;

export const MemorySettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Memories recalled into the context before each model call. */
    recallLimit: z.number().int().min(0).max(50).default(5),
    /** Run the extraction evaluator after each run. */
    autoExtract: z.boolean().default(true),
    scopes: z
      .array(z.enum(['conversation', 'user', 'agent']))
      .default(['conversation', 'user', 'agent']),
  })
  .strict();
export type MemorySettings = z.infer<typeof MemorySettingsSchema>;

export const ExampleDialogueSchema = z.array(
  z.object({ role: z.enum(['user', 'assistant']), content: z.string() }).strict(),
);

/**
 * An agent is data: this schema is what `agent.yaml` holds, what the store versions on every
 * deploy, and what the run loop executes.
 */
export const AgentDefinitionSchema = z
  .object({
    name,
    description: z.string().max(500).optional(),
    /** The system instructions. */
    instructions: z.string().min(1).max(50_000),
    bio: z.array(z.string()).default([]),
    style: z.array(z.string()).default([]),
    topics: z.array(z.string()).default([]),
    examples: z.array(ExampleDialogueSchema).default([]),
    model: ModelRefSchema,
    /** Tried in order when the model fails with a retryable error before its first token. */
    fallbackModels: z.array(ModelRefSchema).default([]),
    plugins: z.array(PluginRefSchema).default([]),
    /** If set, only these tools (by name) are offered to the model. */
    tools: z.array(z.string()).optional(),
    /**
     * Tools (by name) that wait for a person's approval before each call, in addition to tools
     * that always ask (`requiresApproval` in their definition).
     */
    requireApproval: z.array(z.string().min(1)).default([]),
    memory: MemorySettingsSchema.default({
      enabled: true,
      recallLimit: 5,
      autoExtract: true,
      scopes: ['conversation', 'user', 'agent'],
    }),
    /** Most model calls one run may make. */
    maxSteps: z.number().int().min(1).max(100).default(8),
    /** Per-tool timeout unless the tool sets its own. */
    toolTimeoutMs: z.number().int().positive().default(30_000),
  })
  .strict();

export type AgentDefinition = z.infer<typeof AgentDefinitionSchema>;
export type AgentDefinitionInput = z.input<typeof AgentDefinitionSchema>;

/** Validates an agent definition and fills defaults; throws a ZodError listing every problem. */
export function defineAgent(input: AgentDefinitionInput): AgentDefinition {
  return AgentDefinitionSchema.parse(input);
}
