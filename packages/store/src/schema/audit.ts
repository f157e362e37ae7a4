import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { at, createdAt, id, ownerAccess, workspaceIsolation } from './columns.ts';
import { users, workspaces } from './identity.ts';

/** Every security-relevant action. Append-only: the runtime role may insert and read, never change. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: id(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    at: at('at').notNull().defaultNow(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    /** `secret.create`, `secret.decrypt`, `token.revoke`, `member.role_change`, … */
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    outcome: text('outcome').notNull().default('ok'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    runId: uuid('run_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index('audit_events_workspace_at_idx').on(t.workspaceId, t.at),
    check(
      'audit_events_actor_type_check',
      sql`${t.actorType} in ('user', 'token', 'agent', 'plugin', 'system')`,
    ),
    check('audit_events_outcome_check', sql`${t.outcome} in ('ok', 'denied', 'error')`),
    workspaceIsolation('audit_events', t.workspaceId),
  ],
).enableRLS();

/**
 * Suspicious-access signals. Most belong to a workspace; instance-wide ones (a burst of
 * invalid tokens from one address, before any workspace is known) have a null workspace and
 * are written and read only through the system surface's reviewed functions.
 */
export const securitySignals = pgTable(
  'security_signals',
  {
    id: id(),
    workspaceId: uuid('workspace_id').references(() => workspaces.id, { onDelete: 'cascade' }),
    at: at('at').notNull().defaultNow(),
    /** `auth.failure_burst`, `token.new_address`, `workspace.cross_probe`, `secret.decrypt_spike`, … */
    kind: text('kind').notNull(),
    severity: text('severity').notNull(),
    ip: text('ip'),
    actorType: text('actor_type'),
    actorId: text('actor_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    acknowledgedAt: at('acknowledged_at'),
  },
  (t) => [
    index('security_signals_workspace_at_idx').on(t.workspaceId, t.at),
    check('security_signals_severity_check', sql`${t.severity} in ('info', 'warning', 'critical')`),
    workspaceIsolation('security_signals', t.workspaceId),
    ownerAccess('security_signals_definer_read', 'select', sql`${t.workspaceId} is null`),
    ownerAccess('security_signals_definer_insert', 'insert', sql`${t.workspaceId} is null`),
  ],
).enableRLS();

/** Product funnel events (signup → agent created → provider selected → first run → deployed). */
export const productEvents = pgTable(
  'product_events',
  {
    id: id(),
    name: text('name').notNull(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    at: createdAt(),
    /** Counts and labels only, never content or secrets. */
    props: jsonb('props').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('product_events_name_at_idx').on(t.name, t.at)],
);
