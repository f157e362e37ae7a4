import { sql } from 'drizzle-orm';
import {
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents, agentVersions, conversations } from './agents.ts';
import {
  at,
  createdAt,
  id,
  ownerAccess,
  updatedAt,
  workspaceIdColumn,
  workspaceIsolation,
} from './columns.ts';
import { users, workspaces } from './identity.ts';

export const runs = pgTable(
  'runs',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id').notNull(),
    agentVersionId: uuid('agent_version_id'),
    conversationId: uuid('conversation_id'),
    /** queued → running → succeeded | failed | cancelled. */
    status: text('status').notNull().default('queued'),
    provider: text('provider'),
    model: text('model'),
    /** Run start → first content-bearing delta, from run.finish timing. */
    ttftMs: doublePrecision('ttft_ms'),
    durationMs: doublePrecision('duration_ms'),
    inputTokens: integer('input_tokens').notNull().default(0),
    cachedInputTokens: integer('cached_input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens'),
    costUsd: doublePrecision('cost_usd'),
    costSource: text('cost_source').notNull().default('unknown'),
    finishReason: text('finish_reason'),
    /** The ParleyError of a failed run. */
    error: jsonb('error').$type<Record<string, unknown>>(),
    /** Highest seq in run_events; appends lock this row to hand out the next seqs. */
    lastSeq: integer('last_seq').notNull().default(0),
    /** Who started it: `user:<id>`, `token:<id>`, `agent:<id>`, `system`. */
    startedBy: text('started_by'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    startedAt: at('started_at'),
    finishedAt: at('finished_at'),
    /**
     * The server instance executing the run and until when its lease holds (renewed by its
     * heartbeat): once it lapses, another instance takes the run over (docs/scaling.md).
     */
    owner: text('owner'),
    leaseExpiresAt: at('lease_expires_at'),
    /** The run that started this one (an agent called as a tool, a handoff): docs/multi-agent.md. */
    parentRunId: uuid('parent_run_id'),
    /** The run's W3C trace id (32 hex digits): its trace, and its log lines (docs/observability.md). */
    traceId: text('trace_id'),
  },
  (t) => [
    unique('runs_workspace_id_id_key').on(t.workspaceId, t.id),
    index('runs_lease_idx').on(t.leaseExpiresAt).where(sql`${t.status} in ('queued', 'running')`),
    index('runs_owner_idx').on(t.owner).where(sql`${t.status} in ('queued', 'running')`),
    index('runs_agent_idx').on(t.workspaceId, t.agentId, t.createdAt),
    index('runs_conversation_idx').on(t.workspaceId, t.conversationId),
    index('runs_parent_idx')
      .on(t.workspaceId, t.parentRunId)
      .where(sql`${t.parentRunId} is not null`),
    check('runs_trace_id_check', sql`${t.traceId} ~ '^[0-9a-f]{32}$'`),
    check(
      'runs_status_check',
      sql`${t.status} in ('queued', 'running', 'succeeded', 'failed', 'cancelled')`,
    ),
    foreignKey({
      name: 'runs_agent_fkey',
      columns: [t.workspaceId, t.agentId],
      foreignColumns: [agents.workspaceId, agents.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'runs_agent_version_fkey',
      columns: [t.workspaceId, t.agentVersionId],
      foreignColumns: [agentVersions.workspaceId, agentVersions.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'runs_parent_fkey',
      columns: [t.workspaceId, t.parentRunId],
      foreignColumns: [t.workspaceId, t.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'runs_conversation_fkey',
      columns: [t.workspaceId, t.conversationId],
      foreignColumns: [conversations.workspaceId, conversations.id],
    }).onDelete('cascade'),
    workspaceIsolation('runs', t.workspaceId),
    // The lease functions (drizzle/0006_run_leases.sql) find and move unfinished runs' leases.
    ownerAccess('runs_definer_lease_read', 'select', sql`${t.status} in ('queued', 'running')`),
    ownerAccess('runs_definer_lease_update', 'update', sql`${t.status} in ('queued', 'running')`),
  ],
).enableRLS();

/** The Parley Stream log of a run, for resume: append-only, gap-free seq per run. */
export const runEvents = pgTable(
  'run_events',
  {
    // No reference to workspaces or runs (checks per appended event): see below.
    workspaceId: workspaceIdColumn(),
    runId: uuid('run_id').notNull(),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    /** The whole ParleyEvent as it went on the wire. */
    event: jsonb('event').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'run_events_pkey', columns: [t.workspaceId, t.runId, t.seq] }),
    check('run_events_seq_check', sql`${t.seq} > 0`),
    // No reference to the run either (a lookup and a lock per appended event): events are
    // inserted only joined to their run's row, updated in the same statement, and a deleted
    // run's events go with it by the trigger of drizzle/0015_event_log_cascade.sql.
    workspaceIsolation('run_events', t.workspaceId),
  ],
).enableRLS();

export const messages = pgTable(
  'messages',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').notNull(),
    /** 1, 2, 3… within the conversation, gap-free. */
    position: integer('position').notNull(),
    role: text('role').notNull(),
    /** Content parts (text, reasoning, tool calls, tool results) as JSON. */
    content: jsonb('content').$type<unknown[]>().notNull(),
    runId: uuid('run_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    unique('messages_workspace_id_id_key').on(t.workspaceId, t.id),
    uniqueIndex('messages_conversation_position_key').on(
      t.workspaceId,
      t.conversationId,
      t.position,
    ),
    index('messages_run_idx').on(t.workspaceId, t.runId),
    check('messages_role_check', sql`${t.role} in ('system', 'user', 'assistant', 'tool')`),
    foreignKey({
      name: 'messages_conversation_fkey',
      columns: [t.workspaceId, t.conversationId],
      foreignColumns: [conversations.workspaceId, conversations.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'messages_run_fkey',
      columns: [t.workspaceId, t.runId],
      foreignColumns: [runs.workspaceId, runs.id],
    }),
    workspaceIsolation('messages', t.workspaceId),
  ],
).enableRLS();
