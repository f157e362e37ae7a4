import { sql } from 'drizzle-orm';
import {
  check,
  foreignKey,
  index,
  pgPolicy,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import {
  appRole,
  at,
  createdAt,
  currentWorkspace,
  id,
  ownerAccess,
  updatedAt,
  workspaceIdColumn,
  workspaceIsolation,
} from './columns.ts';

/*
 * Identity: users and sessions are global (a person belongs to several workspaces);
 * everything else here belongs to one workspace and is isolated by row-level security.
 */

export const users = pgTable(
  'users',
  {
    id: id(),
    /** Stored lower-cased; unique. */
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    /** A PHC string (`$argon2id$...`) made by the server; null for accounts without a password. */
    passwordHash: text('password_hash'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    disabledAt: at('disabled_at'),
    /**
     * When this person proved, with a one-time operator code, that they run this instance.
     * An address in PARLEY_OPERATOR_EMAILS alone makes no one an operator (audit: sign-up race).
     */
    operatorConfirmedAt: at('operator_confirmed_at'),
    /** SHA-256 (hex) of the code that confirmed them: unique, so a code confirms one person once. */
    operatorCodeHash: text('operator_code_hash'),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    uniqueIndex('users_operator_code_hash_key').on(t.operatorCodeHash),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** SHA-256 of the session secret (hex); the secret itself lives only in the cookie. */
    secretHash: text('secret_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: at('expires_at').notNull(),
    lastSeenAt: at('last_seen_at').notNull().defaultNow(),
    /** When the user last proved who they are (password, passkey): step-up checks read it. */
    authenticatedAt: at('authenticated_at').notNull().defaultNow(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    revokedAt: at('revoked_at'),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId)],
);

export const workspaces = pgTable(
  'workspaces',
  {
    /** Chosen by the application before the insert, so the row passes its own policy. */
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The workspace row itself is visible only inside its own context, like every tenant row.
    pgPolicy('workspaces_workspace_isolation', {
      as: 'permissive',
      for: 'all',
      to: appRole,
      using: sql`${t.id} = ${currentWorkspace}`,
      withCheck: sql`${t.id} = ${currentWorkspace}`,
    }),
    ownerAccess('workspaces_definer_read', 'select', sql`true`),
  ],
).enableRLS();

export const memberships = pgTable(
  'memberships',
  {
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'memberships_pkey', columns: [t.workspaceId, t.userId] }),
    index('memberships_user_id_idx').on(t.userId),
    check('memberships_role_check', sql`${t.role} in ('owner', 'admin', 'developer', 'viewer')`),
    workspaceIsolation('memberships', t.workspaceId),
    ownerAccess('memberships_definer_read', 'select', sql`true`),
  ],
).enableRLS();

export const invitations = pgTable(
  'invitations',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: text('role').notNull(),
    /** SHA-256 (hex) of the invitation token sent to the invitee. */
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    expiresAt: at('expires_at').notNull(),
    acceptedAt: at('accepted_at'),
    acceptedBy: uuid('accepted_by').references(() => users.id, { onDelete: 'set null' }),
    revokedAt: at('revoked_at'),
  },
  (t) => [
    uniqueIndex('invitations_token_hash_key').on(t.tokenHash),
    unique('invitations_workspace_id_id_key').on(t.workspaceId, t.id),
    check('invitations_role_check', sql`${t.role} in ('admin', 'developer', 'viewer')`),
    workspaceIsolation('invitations', t.workspaceId),
    ownerAccess('invitations_definer_read', 'select', sql`true`),
  ],
).enableRLS();

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** SHA-256 (hex) of the whole token. The token itself is shown once and never stored. */
    tokenHash: text('token_hash').notNull(),
    /** Display hint: the first characters of the token (`prl_AbC1`). */
    prefix: text('prefix').notNull(),
    last4: text('last4').notNull(),
    scopes: text('scopes').array().notNull(),
    /**
     * Whose rights the token carries. Deleting the person deletes their tokens: a token whose
     * creator is gone is dead (with SET NULL it used to become an unlimited service token).
     */
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'cascade' }),
    /**
     * The token that minted this one (null when a person did): a token never outlives or
     * outranks its parent, and revoking or deleting the parent ends it too.
     */
    parentId: uuid('parent_id'),
    createdAt: createdAt(),
    expiresAt: at('expires_at').notNull(),
    lastUsedAt: at('last_used_at'),
    lastUsedIp: text('last_used_ip'),
    lastUsedUserAgent: text('last_used_user_agent'),
    revokedAt: at('revoked_at'),
  },
  (t) => [
    uniqueIndex('api_tokens_token_hash_key').on(t.tokenHash),
    unique('api_tokens_workspace_id_id_key').on(t.workspaceId, t.id),
    index('api_tokens_parent_id_idx').on(t.parentId),
    foreignKey({
      name: 'api_tokens_parent_fk',
      columns: [t.workspaceId, t.parentId],
      foreignColumns: [t.workspaceId, t.id],
    }).onDelete('cascade'),
    workspaceIsolation('api_tokens', t.workspaceId),
    ownerAccess('api_tokens_definer_read', 'select', sql`true`),
  ],
).enableRLS();
