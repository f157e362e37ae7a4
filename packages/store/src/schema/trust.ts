import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  date,
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
import {
  at,
  createdAt,
  id,
  ownerAccess,
  updatedAt,
  workspaceIdColumn,
  workspaceIsolation,
} from './columns.ts';
import { workspaces } from './identity.ts';

/*
 * Trust operations: the workspace's canonical safety and migration page (versioned), its
 * exchange/partner matrix and dated weekly status updates; the support inbox (tickets and the
 * event log every SLA metric is derived from) and its SLA policies. docs/trust.md.
 */

/** What one version of the trust page says (validated by the repository, stored whole). */
export interface TrustPageContent {
  title: string;
  /** Registrable domains the workspace owns (`example.org`). */
  officialDomains: string[];
  /** Official accounts: `{ platform: 'x', handle: '@example' }`. */
  handles: { platform: string; handle: string }[];
  /** The one migration link shared across every channel. */
  canonicalMigrationLink: string | null;
  /** Other official links (docs, status page), each https. */
  canonicalLinks: string[];
  /** "We never DM first", "we never ask for seed phrases", … */
  statements: string[];
  /** Names a lookalike domain would imitate (the scam guard compares against them). */
  brandTokens: string[];
  /** Domains known to be scams, refused by the scam guard. */
  blocklist: string[];
}

/** One per workspace: its public slug, whether it is published, and the current version. */
export const trustPages = pgTable(
  'trust_pages',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    /** The public address: /trust/<slug>. Unique across the instance; chosen when publishing. */
    slug: text('slug'),
    /** Null until an owner or admin publishes: the public page answers 404 until then. */
    publishedAt: at('published_at'),
    /** trust_page_versions.version of the current content; 0 before the first edit. */
    currentVersion: integer('current_version').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('trust_pages_workspace_id_id_key').on(t.workspaceId, t.id),
    uniqueIndex('trust_pages_workspace_key').on(t.workspaceId),
    uniqueIndex('trust_pages_slug_key').on(t.slug),
    check('trust_pages_slug_check', sql`${t.slug} ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`),
    workspaceIsolation('trust_pages', t.workspaceId),
    // The public page: parley_find_published_trust_page() finds a published slug's workspace.
    ownerAccess('trust_pages_definer_read', 'select', sql`${t.publishedAt} is not null`),
  ],
).enableRLS();

/**
 * Trust-page slugs that may never be issued again: a deleted workspace's page was the one
 * address its users were told is canonical, so nobody else may take it (audit: slug reuse).
 * Instance-wide and without a workspace: the workspace is gone by then.
 */
export const retiredTrustSlugs = pgTable('retired_trust_slugs', {
  slug: text('slug').primaryKey(),
  retiredAt: at('retired_at').notNull().defaultNow(),
});

/** Every edit of the trust page: immutable, numbered 1, 2, 3… per workspace. */
export const trustPageVersions = pgTable(
  'trust_page_versions',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    content: jsonb('content').$type<TrustPageContent>().notNull(),
    /** `user:<id>`, `token:<id>`, `system`: who made the edit. */
    editedBy: text('edited_by').notNull(),
    note: text('note'),
    createdAt: createdAt(),
  },
  (t) => [
    unique('trust_page_versions_workspace_id_id_key').on(t.workspaceId, t.id),
    uniqueIndex('trust_page_versions_version_key').on(t.workspaceId, t.version),
    check('trust_page_versions_version_check', sql`${t.version} >= 1`),
    workspaceIsolation('trust_page_versions', t.workspaceId),
  ],
).enableRLS();

/**
 * The exchange/partner matrix: name × migration status × last verified date. The statuses are
 * the API's (@parley/protocol api.PARTNER_STATUSES); the check constraint lists the same.
 */
export const trustPartners = pgTable(
  'trust_partners',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** `exchange`, `wallet`, `partner`, … free text shown as a column. */
    kind: text('kind').notNull().default('exchange'),
    migrationStatus: text('migration_status').notNull(),
    lastVerifiedOn: date('last_verified_on', { mode: 'string' }),
    note: text('note'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('trust_partners_workspace_id_id_key').on(t.workspaceId, t.id),
    uniqueIndex('trust_partners_name_key').on(t.workspaceId, sql`lower(${t.name})`),
    check(
      'trust_partners_status_check',
      sql`${t.migrationStatus} in ('not_started', 'in_progress', 'completed', 'not_supported')`,
    ),
    workspaceIsolation('trust_partners', t.workspaceId),
  ],
).enableRLS();

/** The dated weekly status updates, newest shown first. */
export const trustStatusUpdates = pgTable(
  'trust_status_updates',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    postedAt: at('posted_at').notNull().defaultNow(),
    body: text('body').notNull(),
    postedBy: text('posted_by').notNull(),
  },
  (t) => [
    unique('trust_status_updates_workspace_id_id_key').on(t.workspaceId, t.id),
    index('trust_status_updates_posted_idx').on(t.workspaceId, t.postedAt),
    workspaceIsolation('trust_status_updates', t.workspaceId),
  ],
).enableRLS();

/**
 * A support ticket. The SLA columns are a projection of its event log, kept so that the
 * breach check is one indexed query: `first_response_due_at` is set while the clock runs,
 * null while it is paused (then `sla_remaining_seconds` holds what is left) or stopped.
 */
export const supportTickets = pgTable(
  'support_tickets',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    status: text('status').notNull().default('new'),
    priority: text('priority').notNull().default('normal'),
    /** Where it came from: `api`, `dashboard`, `discord`, `telegram`, `email`, … */
    channel: text('channel').notNull(),
    /** Who asked: an e-mail address, a platform handle, a Parley user id. */
    requester: text('requester').notNull(),
    /** The member working on it (a user id or a name), if any. */
    assignee: text('assignee'),
    /** A connector's thread key, so later messages of the same thread update this ticket. */
    externalKey: text('external_key'),
    /** The first-response target when the ticket was created, in hours. */
    slaHours: integer('sla_hours').notNull(),
    firstResponseDueAt: at('first_response_due_at'),
    slaRemainingSeconds: integer('sla_remaining_seconds'),
    firstRespondedAt: at('first_responded_at'),
    slaBreachedAt: at('sla_breached_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('support_tickets_workspace_id_id_key').on(t.workspaceId, t.id),
    index('support_tickets_status_idx').on(t.workspaceId, t.status, t.createdAt),
    index('support_tickets_due_idx').on(t.firstResponseDueAt),
    index('support_tickets_external_idx').on(t.workspaceId, t.channel, t.externalKey),
    check(
      'support_tickets_status_check',
      sql`${t.status} in ('new', 'open', 'pending', 'solved', 'closed')`,
    ),
    check(
      'support_tickets_priority_check',
      sql`${t.priority} in ('low', 'normal', 'high', 'urgent')`,
    ),
    workspaceIsolation('support_tickets', t.workspaceId),
    // The breach scheduler: parley_support_workspaces() lists workspaces that have tickets.
    ownerAccess('support_tickets_definer_read', 'select', sql`true`),
  ],
).enableRLS();

export const TICKET_EVENT_KINDS = [
  'activate',
  'pause',
  'fulfill',
  'breach',
  'reopen',
  'message',
  'status',
  'assign',
  'priority',
] as const;

/**
 * What happened to a ticket, append-only. `activate` (the first-response clock starts or
 * resumes), `pause` (waiting on the requester), `fulfill` (first response), `breach`, `reopen`
 * and `message` (inbound or outbound text) are the SLA model; `status`, `assign` and
 * `priority` record the other changes.
 */
export const supportTicketEvents = pgTable(
  'support_ticket_events',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    ticketId: uuid('ticket_id').notNull(),
    /** Insertion order: events of one instant (a reply and its `fulfill`) keep their order. */
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    at: at('at').notNull().defaultNow(),
    kind: text('kind').notNull(),
    /** `user:<id>`, `token:<id>`, `agent:<id>`, `requester`, `system`. */
    actor: text('actor').notNull(),
    /** Messages: `inbound` (from the requester) or `outbound` (to them). */
    direction: text('direction'),
    body: text('body'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    unique('support_ticket_events_workspace_id_id_key').on(t.workspaceId, t.id),
    index('support_ticket_events_ticket_idx').on(t.workspaceId, t.ticketId, t.at),
    index('support_ticket_events_kind_idx').on(t.workspaceId, t.kind, t.at),
    foreignKey({
      name: 'support_ticket_events_ticket_fkey',
      columns: [t.workspaceId, t.ticketId],
      foreignColumns: [supportTickets.workspaceId, supportTickets.id],
    }).onDelete('cascade'),
    check(
      'support_ticket_events_kind_check',
      sql`${t.kind} in ('activate', 'pause', 'fulfill', 'breach', 'reopen', 'message', 'status', 'assign', 'priority')`,
    ),
    check(
      'support_ticket_events_direction_check',
      sql`${t.direction} is null or ${t.direction} in ('inbound', 'outbound')`,
    ),
    workspaceIsolation('support_ticket_events', t.workspaceId),
  ],
).enableRLS();

/** First-response targets per priority; a priority without a row uses 48 hours. */
export const supportSlaPolicies = pgTable(
  'support_sla_policies',
  {
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    priority: text('priority').notNull(),
    firstResponseHours: integer('first_response_hours').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'support_sla_policies_pkey', columns: [t.workspaceId, t.priority] }),
    check(
      'support_sla_policies_priority_check',
      sql`${t.priority} in ('low', 'normal', 'high', 'urgent')`,
    ),
    check('support_sla_policies_hours_check', sql`${t.firstResponseHours} between 1 and 8760`),
    workspaceIsolation('support_sla_policies', t.workspaceId),
  ],
).enableRLS();
