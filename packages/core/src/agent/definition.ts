import { api } from '@parley/protocol';
import { PROVIDER_NAMES, ScriptTurnSchema } from '@parley/providers';
import { z } from 'zod';
import { AgentLimitsSchema, AgentLinkListSchema } from './agent-links.ts';
import { ChannelListSchema } from './channels.ts';
import { refusedEnvName } from './child-env-rules.ts';

/** The one agent-name rule (create, rename, import, CLI): see api.AgentNameSchema. */
const name = api.AgentNameSchema;

/**
 * The longest model name: what a run's row stores (the store's name limit). A longer one was
 * accepted here and failed every run's first write (issue #30); it also bounds metrics labels.
 */
export const MODEL_NAME_MAX = 200;

/** Which model an agent uses, with its provider parameters. */
export const ModelRefSchema = z
  .object({
    provider: z.enum(PROVIDER_NAMES),
    model: z.string().min(1).max(MODEL_NAME_MAX),
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
     * How long a run waits for this model, in seconds: `firstByteSeconds` for the first byte
     * of its answer (retries included), `stallSeconds` of silence once it has started. Past
     * either the run ends with `run.error` (code `timeout`), the text so far kept. Unset: the
     * server's defaults (60 s and 120 s; PARLEY_MODEL_FIRST_BYTE_SECONDS, _STALL_SECONDS).
     */
    timeouts: z
      .object({
        firstByteSeconds: z.number().positive().max(3_600).optional(),
        stallSeconds: z.number().positive().max(3_600).optional(),
      })
      .strict()
      .optional(),
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

const mcpToolName = z.string().min(1).max(128);

const hostPath = z
  .string()
  .max(1_000)
  .refine((path) => path.startsWith('/') && !path.split('/').includes('..'), {
    message: 'use an absolute path without ".."',
  });

/** What a stdio MCP program may reach from its sandbox besides its runtime. */
export const McpSandboxSchema = z
  .object({
    read: z.array(hostPath).max(20).default([]),
    write: z.array(hostPath).max(20).default([]),
    /** `host`, `host:port` or `*.example.com`, as a plugin declares its network. */
    network: z
      .array(
        z
          .string()
          .max(253)
          .regex(/^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i, 'use host, host:port or *.example.com'),
      )
      .max(20)
      .default([]),
  })
  .strict();

/**
 * An MCP server whose tools the agent may call: a local process speaking MCP on stdio, or a
 * Streamable HTTP endpoint. Its tools reach the model as `<name>_<tool>`.
 */
export const McpServerRefSchema = z
  .object({
    /** Short and unique within the agent: it prefixes the server's tool names. */
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,23}$/,
        'use 1-24 lower-case letters, digits or "-", starting with a letter',
      ),
    transport: z.union([
      z
        .object({
          stdio: z
            .object({
              command: z.string().min(1).max(500),
              args: z.array(z.string().max(2_000)).max(50).default([]),
              /**
               * Environment variables set from workspace secrets: `{ GITHUB_TOKEN: GITHUB_PAT }`.
               * Never one that controls a runtime, loader or shell (child-env-rules.ts).
               */
              secretEnv: z
                .record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string().min(1))
                .superRefine((env, ctx) => {
                  for (const variable of Object.keys(env)) {
                    const refused = refusedEnvName(variable);
                    if (refused)
                      ctx.addIssue({ code: 'custom', path: [variable], message: refused });
                  }
                })
                .default({}),
              /**
               * What the program may reach from its OS sandbox beyond the runtime and the paths
               * its command line names: host paths to read or write, hosts through the egress
               * proxy (docs/plugins/isolation.md). Nothing by default.
               */
              sandbox: McpSandboxSchema.default({ read: [], write: [], network: [] }),
            })
            .strict(),
        })
        .strict(),
      z
        .object({
          url: z.url({ protocol: /^https?$/ }),
          /** A workspace secret sent as `Authorization: Bearer <value>`. */
          bearerTokenSecret: z.string().min(1).optional(),
        })
        .strict(),
    ]),
    /** Only these of the server's tools (by their MCP name) are offered; all when omitted. */
    allowTools: z.array(mcpToolName).max(200).optional(),
    /** These tools (by MCP name), or `true` for all, wait for a person's approval before each call. */
    requireApproval: z.union([z.boolean(), z.array(mcpToolName).max(200)]).default([]),
    /** Longest a call may take (default: the agent's toolTimeoutMs). */
    timeoutMs: z.number().int().positive().max(600_000).optional(),
  })
  .strict();
export type McpServerRef = z.infer<typeof McpServerRefSchema>;

/**
 * The model that embeds an agent's memories and knowledge queries (docs/memory.md). Unset: its
 * provider's standard embedding model (the provider catalogue), or full-text recall where the
 * provider has none (Anthropic).
 */
export const EmbeddingModelRefSchema = z
  .object({
    provider: z.enum(PROVIDER_NAMES),
    model: z.string().min(1).max(MODEL_NAME_MAX),
    baseURL: z.url().optional(),
    /** Name of the workspace secret holding its API key (default: its provider's). */
    apiKeySecret: z.string().min(1).optional(),
    /** Ask for vectors of this size (models that can shorten them, OpenAI's text-embedding-3). */
    dimensions: z.number().int().min(1).max(16_000).optional(),
  })
  .strict();
export type EmbeddingModelRef = z.infer<typeof EmbeddingModelRefSchema>;

export const MemorySettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Memories recalled into the context before each model call. */
    recallLimit: z.number().int().min(0).max(50).default(5),
    embeddingModel: EmbeddingModelRefSchema.optional(),
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
    /** MCP servers whose tools the agent may call (docs/mcp.md). */
    mcp: z
      .array(McpServerRefSchema)
      .max(20)
      .default([])
      .refine((servers) => new Set(servers.map((s) => s.name)).size === servers.length, {
        message: 'each MCP server needs a name of its own',
      }),
    /** Chat platforms the agent answers on (docs/channels.md); deploying starts and stops them. */
    channels: ChannelListSchema.optional(),
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
    /**
     * Knowledge bases its runs retrieve from besides its own (docs/memory.md, "Knowledge"),
     * and how many chunks go into the context (0: none).
     */
    knowledge: z
      .object({
        bases: z.array(z.string().min(1).max(200)).max(20).default([]),
        limit: z.number().int().min(0).max(20).default(5),
      })
      .strict()
      .default({ bases: [], limit: 5 }),
    /** Most model calls one run may make. */
    maxSteps: z.number().int().min(1).max(100).default(8),
    /** Per-tool timeout unless the tool sets its own. */
    toolTimeoutMs: z.number().int().positive().default(30_000),
    /** Agents of the workspace this one may call as tools or hand off to (docs/multi-agent.md). */
    agents: AgentLinkListSchema.default([]),
    /** Bounds on the runs this agent's runs start: depth, child runs, tokens of the tree. */
    agentLimits: AgentLimitsSchema.optional(),
  })
  .strict();

export type AgentDefinition = z.infer<typeof AgentDefinitionSchema>;
export type AgentDefinitionInput = z.input<typeof AgentDefinitionSchema>;

/** Validates an agent definition and fills defaults; throws a ZodError listing every problem. */
export function defineAgent(input: AgentDefinitionInput): AgentDefinition {
  return AgentDefinitionSchema.parse(input);
}
