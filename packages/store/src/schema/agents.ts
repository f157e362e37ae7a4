import { sql } from 'drizzle-orm';
import {
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
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

export const agents = pgTable(
  'agents',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Unique within the workspace. */
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** The deployed version (agent_versions.version), null until the first deploy. */
    currentVersion: integer('current_version'),
    /** The definition being edited: runnable for testing, deployed as the next version. */
    draft: jsonb('draft').$type<Record<string, unknown>>(),
    draftUpdatedAt: at('draft_updated_at'),
    /** Fixed by the first stored embedding; changing it needs memories.resetEmbeddings(). */
    embeddingDimensions: integer('embedding_dimensions'),
    embeddingModel: text('embedding_model'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: at('archived_at'),
  },
  (t) => [
    unique('agents_workspace_id_id_key').on(t.workspaceId, t.id),
    uniqueIndex('agents_workspace_id_name_key').on(t.workspaceId, t.name),
    check(
      'agents_embedding_dimensions_check',
      sql`${t.embeddingDimensions} is null or ${t.embeddingDimensions} between 1 and 16000`,
    ),
    workspaceIsolation('agents', t.workspaceId),
    // parley_channel_workspaces(): deployed, unarchived agents only (drizzle/0011).
    ownerAccess(
      'agents_definer_channels_read',
      'select',
      sql`${t.currentVersion} is not null and ${t.archivedAt} is null`,
    ),
  ],
).enableRLS();

/** Every deploy of an agent: the validated definition, immutable once written. */
export const agentVersions = pgTable(
  'agent_versions',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id').notNull(),
    /** 1, 2, 3… per agent. */
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
    /** SHA-256 of the canonical definition, to tell a real change from a redeploy. */
    definitionHash: text('definition_hash').notNull(),
    note: text('note'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    unique('agent_versions_workspace_id_id_key').on(t.workspaceId, t.id),
    uniqueIndex('agent_versions_agent_id_version_key').on(t.workspaceId, t.agentId, t.version),
    foreignKey({
      name: 'agent_versions_agent_fkey',
      columns: [t.workspaceId, t.agentId],
      foreignColumns: [agents.workspaceId, agents.id],
    }).onDelete('cascade'),
    workspaceIsolation('agent_versions', t.workspaceId),
    // parley_channel_workspaces(): only versions that list channels (drizzle/0011).
    ownerAccess(
      'agent_versions_definer_channels_read',
      'select',
      sql`jsonb_typeof(${t.definition} -> 'channels') = 'array'`,
    ),
  ],
).enableRLS();

export const conversations = pgTable(
  'conversations',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id').notNull(),
    title: text('title'),
    /** The end user talking to the agent: a Parley user id or a connector's participant id. */
    userId: text('user_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** Messages stored so far; the next message gets position messageCount + 1. */
    messageCount: integer('message_count').notNull().default(0),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('conversations_workspace_id_id_key').on(t.workspaceId, t.id),
    index('conversations_agent_idx').on(t.workspaceId, t.agentId, t.updatedAt),
    foreignKey({
      name: 'conversations_agent_fkey',
      columns: [t.workspaceId, t.agentId],
      foreignColumns: [agents.workspaceId, agents.id],
    }).onDelete('cascade'),
    workspaceIsolation('conversations', t.workspaceId),
  ],
).enableRLS();
