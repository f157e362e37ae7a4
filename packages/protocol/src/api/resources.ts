import { z } from 'zod';
import { ParleyErrorSchema } from '../errors.ts';
import { RUN_STATUS_NAMES } from '../run-status.ts';

export { RUN_STATUS_NAMES };

/*
 * Secrets, agents, conversations, messages and runs as the HTTP API shows them. Agent
 * definitions are validated by @parley/core (AgentDefinitionSchema) on the server: here they
 * travel as JSON objects.
 */

const timestamp = z.iso.datetime({ offset: true });
const uuid = z.uuid();

/** `OPENAI_API_KEY`, `anthropic-key`, … */
export const SecretNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/,
    'must start with a letter or _ and use only letters, digits, _ . -',
  );
/** What a secret shows: never its value. */
export const SecretInfoSchema = z.object({
  name: z.string(),
  last4: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
  lastRevealedAt: timestamp.nullable(),
});
export const PutSecretRequestSchema = z.object({ value: z.string().min(1).max(16_384) });

export const AgentDefinitionJsonSchema = z.record(z.string(), z.unknown());

export const AgentSchema = z.object({
  id: uuid,
  name: z.string(),
  description: z.string(),
  /** The deployed version runs use by default; null before the first deploy. */
  currentVersion: z.number().int().nullable(),
  /** The definition being edited: runnable with `version: "draft"`, deployed as the next version. */
  draft: AgentDefinitionJsonSchema.nullable(),
  draftUpdatedAt: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
  archivedAt: timestamp.nullable(),
});
export type Agent = z.infer<typeof AgentSchema>;

export const AgentVersionSchema = z.object({
  id: uuid,
  agentId: uuid,
  version: z.number().int().positive(),
  definition: AgentDefinitionJsonSchema,
  /** SHA-256 of the canonical definition: equal hashes, equal agents. */
  definitionHash: z.string(),
  note: z.string().nullable(),
  createdBy: uuid.nullable(),
  createdAt: timestamp,
});
export type AgentVersion = z.infer<typeof AgentVersionSchema>;

export const AgentWithVersionSchema = z.object({
  agent: AgentSchema,
  version: AgentVersionSchema.nullable(),
});

export const CreateAgentRequestSchema = z.object({
  /** The agent definition (agent.yaml as JSON); its `name` names the agent. Kept as the draft. */
  definition: AgentDefinitionJsonSchema,
  description: z.string().max(2_000).optional(),
  /** Also deploy it as version 1 at once. */
  deploy: z.boolean().optional(),
  note: z.string().max(500).optional(),
});
export const SaveDraftRequestSchema = z.object({ definition: AgentDefinitionJsonSchema });
/**
 * The one agent-name rule: creating (the definition's `name`), renaming, importing and the CLI
 * all use it. ASCII letters and digits, then also spaces, "-" and "_", at most 64: no HTML, no
 * control or bidirectional characters (right-to-left override), no newlines, and no look-alike
 * letters from other scripts (a Cyrillic "а" in "pаypal"). No `i` flag: case folding must not
 * let a non-ASCII letter (the Kelvin sign) match.
 */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _-]*$/;
export const AGENT_NAME_MAX = 64;
export const AgentNameSchema = z
  .string()
  .min(1)
  .max(AGENT_NAME_MAX)
  .regex(AGENT_NAME_PATTERN, 'use letters, digits, spaces, "-" or "_"');

export const UpdateAgentRequestSchema = z
  .object({
    name: AgentNameSchema.optional(),
    description: z.string().max(2_000).optional(),
    archived: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'send at least one field');
export const DeployRequestSchema = z.object({
  /** What to deploy; omitted: the agent's draft. */
  definition: AgentDefinitionJsonSchema.optional(),
  note: z.string().max(500).optional(),
});
export const DeployResponseSchema = z.object({
  version: AgentVersionSchema,
  /** False when the definition equals the current version's: nothing new was created. */
  created: z.boolean(),
});

export const MessagePartSchema = z.looseObject({ kind: z.string() });
export const ConversationSchema = z.object({
  id: uuid,
  agentId: uuid,
  title: z.string().nullable(),
  userId: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const CreateConversationRequestSchema = z.object({
  agentId: uuid,
  title: z.string().min(1).max(200).optional(),
});
export const MessageSchema = z.object({
  id: uuid,
  conversationId: uuid,
  position: z.number().int(),
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.array(MessagePartSchema),
  runId: uuid.nullable(),
  /**
   * True for what a run kept of an answer it did not finish (it failed, was cancelled, or its
   * server died mid-stream): the next turn's model sees it like any other message.
   */
  partial: z.boolean(),
  createdAt: timestamp,
});

export const RunSchema = z.object({
  id: uuid,
  agentId: uuid,
  agentVersionId: uuid.nullable(),
  conversationId: uuid.nullable(),
  /** The run that started this one (an agent called as a tool, a handoff): docs/multi-agent.md. */
  parentRunId: uuid.nullable(),
  status: z.enum(RUN_STATUS_NAMES),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  finishReason: z.string().nullable(),
  usage: z.object({
    inputTokens: z.number(),
    outputTokens: z.number(),
    cachedInputTokens: z.number(),
    reasoningTokens: z.number().nullable(),
    costUsd: z.number().nullable(),
  }),
  ttftMs: z.number().nullable(),
  durationMs: z.number().nullable(),
  error: ParleyErrorSchema.nullable(),
  /** The last event's seq: a client that has it has the whole log. */
  lastSeq: z.number().int(),
  /** The run's W3C trace id: its trace in your tracing tool, and its log lines (docs/observability.md). */
  traceId: z.string().nullable(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
});
export type Run = z.infer<typeof RunSchema>;

const InputPartSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().max(100_000) }),
  z.object({
    type: z.literal('image'),
    mediaType: z.string().max(100),
    /** An https URL or a data: URL. */
    url: z.string().max(8_000_000),
  }),
]);

export const StartRunRequestSchema = z.object({
  /** What the user says: text, or parts (text and images). */
  input: z.union([z.string().min(1).max(100_000), z.array(InputPartSchema).min(1).max(20)]),
  /** Continue this conversation; omitted: a new one is started. */
  conversationId: uuid.optional(),
  /**
   * Which definition runs: a version number, or "draft". Default: the deployed version, or
   * the draft while nothing is deployed.
   */
  version: z.union([z.number().int().positive(), z.literal('draft')]).optional(),
  /** The end user this run serves (for user-scoped memory), as the caller names them. */
  userId: z.string().min(1).max(200).optional(),
});
export type StartRunRequest = z.infer<typeof StartRunRequestSchema>;

/** The JSON answer to a run when the client asks for `application/json` instead of SSE. */
export const RunResultSchema = z.object({
  run: RunSchema,
  conversationId: uuid,
  /** The reply's text (what text.delta events added up to). */
  text: z.string(),
  /** The reply as message parts (text, reasoning, tool calls and results). */
  parts: z.array(MessagePartSchema),
  /** The terminal event's type. */
  outcome: z.enum(['run.finish', 'run.error', 'run.abort']),
});

export const ApprovalRequestSchema = z.object({
  decision: z.enum(['approved', 'denied']),
});
export const ApprovalResponseSchema = z.object({
  toolCallId: z.string(),
  decision: z.enum(['approved', 'denied']),
});
export const CancelResponseSchema = z.object({
  runId: uuid,
  /** True when this request stopped the run; false when it had already ended. */
  cancelled: z.boolean(),
  status: z.enum(RUN_STATUS_NAMES),
});

export const AuditEventSchema = z.object({
  id: uuid,
  at: timestamp,
  action: z.string(),
  outcome: z.string(),
  actorType: z.string().nullable(),
  actorId: z.string().nullable(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  runId: uuid.nullable(),
  metadata: z.record(z.string(), z.unknown()),
});
export const SecuritySignalSchema = z.object({
  id: uuid,
  at: timestamp,
  kind: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  ip: z.string().nullable(),
  actorType: z.string().nullable(),
  actorId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  acknowledgedAt: timestamp.nullable(),
});

const Percentiles = z.object({
  count: z.number().int(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});
export const UsageSummarySchema = z.object({
  since: timestamp,
  runs: z.object({
    total: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()),
  }),
  tokens: z.object({ input: z.number(), output: z.number(), cachedInput: z.number() }),
  costUsd: z.number(),
  /** Time to first token in ms, per provider and model. */
  ttft: z.array(z.object({ provider: z.string(), model: z.string() }).extend(Percentiles.shape)),
});
export const FunnelSchema = z.object({
  since: timestamp.nullable(),
  steps: z.array(z.object({ step: z.string(), users: z.number().int(), events: z.number().int() })),
  /**
   * Agents created per new login: of the people who signed up in the period, how many agents
   * they created, and how many created at least one (the brief's activation measure).
   */
  activation: z.object({
    newUsers: z.number().int(),
    agentsCreated: z.number().int(),
    usersWithAgent: z.number().int(),
    /** agentsCreated / newUsers; null without new users. */
    agentsPerNewUser: z.number().nullable(),
  }),
});

export const USAGE_BUCKETS = ['hour', 'day'] as const;
/** Runs and time to first token per time bucket (UTC), provider and model. */
export const UsageSeriesSchema = z.object({
  since: timestamp,
  bucket: z.enum(USAGE_BUCKETS),
  points: z.array(
    z.object({
      /** The bucket's start (UTC). */
      at: timestamp,
      provider: z.string(),
      model: z.string(),
      runs: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
      /** Runs that streamed content (the TTFT percentiles are over these). */
      ttftCount: z.number().int(),
      ttftP50: z.number().nullable(),
      ttftP95: z.number().nullable(),
      outputTokens: z.number(),
    }),
  ),
});

/** How a model key check came out (`POST …/agents/:agent/key-check`). */
export const KEY_CHECK_RESULTS = [
  'ok',
  'rejected',
  'rate_limited',
  'unreachable',
  'unexpected',
  'missing',
  'not_needed',
  /** The key would go where the server does not allow it: nothing was sent. */
  'refused',
] as const;
export const KeyCheckResponseSchema = z.object({
  agent: z.string(),
  /** One per model of the agent, primary first: never the key, only what the provider said. */
  checks: z.array(
    z.object({
      provider: z.string(),
      model: z.string(),
      /** The secret the key is read from (null: the model needs none). */
      secret: z.string().nullable(),
      /** Where the cheap request went (null: nothing was sent). */
      host: z.string().nullable(),
      result: z.enum(KEY_CHECK_RESULTS),
      /** The provider's HTTP status, when it answered. */
      httpStatus: z.number().int().nullable(),
      detail: z.string(),
    }),
  ),
});
