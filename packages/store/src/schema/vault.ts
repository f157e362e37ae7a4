import { sql } from 'drizzle-orm';
import {
  foreignKey,
  index,
  integer,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import {
  at,
  bytea,
  createdAt,
  id,
  ownerAccess,
  updatedAt,
  workspaceIdColumn,
  workspaceIsolation,
} from './columns.ts';
import { workspaces } from './identity.ts';

/*
 * The secrets vault (envelope encryption, see src/vault/): one data key per workspace and
 * version, stored wrapped by a versioned master key that never enters the database; secret
 * values encrypted by the data key. Rotating the master key rewrites only `workspace_keys`.
 */

export const workspaceKeys = pgTable(
  'workspace_keys',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Data-key version within the workspace, from 1. */
    version: integer('version').notNull(),
    /** AES-256-GCM(master key, data key), bound to the workspace id and version. */
    wrappedKey: bytea('wrapped_key').notNull(),
    masterKeyVersion: integer('master_key_version').notNull(),
    createdAt: createdAt(),
    rewrappedAt: at('rewrapped_at'),
  },
  (t) => [
    unique('workspace_keys_workspace_id_id_key').on(t.workspaceId, t.id),
    uniqueIndex('workspace_keys_workspace_id_version_key').on(t.workspaceId, t.version),
    index('workspace_keys_master_key_version_idx').on(t.masterKeyVersion),
    workspaceIsolation('workspace_keys', t.workspaceId),
    // Master-key rotation lists the workspaces whose data keys need re-wrapping.
    ownerAccess('workspace_keys_definer_read', 'select', sql`true`),
  ],
).enableRLS();

export const secrets = pgTable(
  'secrets',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** format byte | iv (12) | tag (16) | AES-256-GCM(data key, value), bound to workspace + name. */
    ciphertext: bytea('ciphertext').notNull(),
    dataKeyId: uuid('data_key_id').notNull(),
    /** The last 4 characters, for display; null when the value is too short to show any. */
    last4: text('last4'),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastRevealedAt: at('last_revealed_at'),
  },
  (t) => [
    uniqueIndex('secrets_workspace_id_name_key').on(t.workspaceId, t.name),
    unique('secrets_workspace_id_id_key').on(t.workspaceId, t.id),
    foreignKey({
      name: 'secrets_data_key_fkey',
      columns: [t.workspaceId, t.dataKeyId],
      foreignColumns: [workspaceKeys.workspaceId, workspaceKeys.id],
    }),
    workspaceIsolation('secrets', t.workspaceId),
  ],
).enableRLS();
