import { z } from 'zod';
import { type Tx, toStoreError } from './db.ts';
import type { Engine } from './engines/engine.ts';
import { SetupFailed, StoreError } from './errors.ts';
import { APP_ROLE } from './migrate.ts';
import { auditEvents } from './schema/index.ts';
import { ipSchema, parse, parseId, text } from './validation.ts';
import type { Vault } from './vault/vault.ts';

/** Who is acting, for the audit log. */
export interface Actor {
  type: 'user' | 'token' | 'agent' | 'plugin' | 'system';
  /** The user, token, agent or plugin id; absent for `system`. */
  id?: string;
}

/** Request facts recorded with every audit event written inside the scope. */
export interface ScopeOptions {
  /** Defaults to `{ type: 'system' }`. */
  actor?: Actor;
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

const ActorSchema = z.object({
  type: z.enum(['user', 'token', 'agent', 'plugin', 'system']),
  id: text(200).optional(),
});
const ScopeOptionsSchema = z.object({
  actor: ActorSchema.optional(),
  ip: ipSchema.optional(),
  userAgent: text(1_000).optional(),
  requestId: text(200).optional(),
});

/** What the store audits by itself, in the same transaction as the change. */
export const STORE_AUDIT_ACTIONS = [
  'workspace.create',
  'workspace.rename',
  'member.add',
  'member.role_change',
  'member.remove',
  'invitation.create',
  'invitation.revoke',
  'invitation.accept',
  'token.create',
  'token.revoke',
  'secret.create',
  'secret.update',
  'secret.delete',
  'secret.decrypt',
  'agent.deploy',
  'agent.delete',
  'signal.acknowledge',
  'trust.page_update',
  'trust.publish',
  'trust.unpublish',
  'trust.partner_update',
  'trust.partner_delete',
  'trust.status_post',
  'support.policy_update',
] as const;
export type StoreAuditAction = (typeof STORE_AUDIT_ACTIONS)[number];

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'ok' | 'denied' | 'error';
  runId?: string;
  metadata?: Record<string, unknown>;
}

/**
 * What every repository method gets: the transaction (only while it is open), the workspace,
 * the request facts and the vault. Used after its transaction ended it throws, instead of
 * running a query on a connection that has gone back to the pool.
 */
/** The tables whose growth the store follows with ANALYZE where nothing else does (PGlite). */
export type StatisticsTable = 'knowledge_chunks' | 'memories';

export class ScopeContext {
  readonly workspaceId: string;
  readonly options: ScopeOptions;
  readonly vault: Vault;
  /**
   * Rows this transaction inserted or deleted, per table whose queries need fresh planner
   * statistics (see `noteWrites`); the store reads it once the transaction has committed.
   */
  readonly writes = new Map<StatisticsTable, number>();
  #tx: Tx;
  #open = true;

  constructor(tx: Tx, workspaceId: string, options: ScopeOptions, vault: Vault) {
    this.#tx = tx;
    this.workspaceId = workspaceId;
    this.options = options;
    this.vault = vault;
  }

  get tx(): Tx {
    if (!this.#open) {
      throw new StoreError(
        'store.scope_closed',
        'This workspace handle belongs to a withWorkspace() call that has ended; do the work inside the callback.',
      );
    }
    return this.#tx;
  }

  close(): void {
    this.#open = false;
  }

  /**
   * Records that `rows` rows of `table` were written. PostgreSQL's autovacuum re-analyzes a
   * table that changed; PGlite has no autovacuum, so without this its planner believes a
   * 10,000-chunk table is empty and sorts every row instead of walking the vector index.
   */
  noteWrites(table: StatisticsTable, rows: number): void {
    if (rows > 0) this.writes.set(table, (this.writes.get(table) ?? 0) + rows);
  }

  /** Appends to the audit log in the same transaction as the change it records. */
  async audit(entry: AuditEntry & { action: StoreAuditAction }): Promise<void> {
    await this.recordAudit(entry);
  }

  /** Any action, for entries the caller describes (ws.audit.record). */
  async recordAudit(entry: AuditEntry): Promise<void> {
    const actor = this.options.actor ?? { type: 'system' as const };
    await this.tx.insert(auditEvents).values({
      workspaceId: this.workspaceId,
      actorType: actor.type,
      actorId: actor.id ?? null,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      outcome: entry.outcome ?? 'ok',
      ip: this.options.ip ?? null,
      userAgent: this.options.userAgent ?? null,
      requestId: this.options.requestId ?? null,
      runId: entry.runId ?? null,
      metadata: entry.metadata ?? {},
    });
  }

  /** False once the caller said no work follows a failed write (withoutSavepoints). */
  savepoints = true;

  /** Runs `fn` in a savepoint, so a failed statement does not poison the whole transaction. */
  async savepoint<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.savepoints ? this.tx.transaction(fn) : fn(this.tx);
  }
}

/**
 * The one way into workspace tables: a transaction that runs as the runtime role with the
 * workspace set transaction-locally (`set_config(..., true)`: a session-level setting would
 * leak into the next request that gets this pooled connection). `set_config('role', …)` is
 * `SET LOCAL ROLE`: even when the connection itself may bypass row-level security (PGlite's
 * superuser, a development URL with the postgres user) the queries in `fn` may not.
 * `workspaceId` null opens a transaction with no workspace: workspace tables look empty.
 */
export async function runScoped<T>(
  transaction: Engine['transaction'],
  workspaceId: string | null,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  // Sent with BEGIN as plain SQL (no parameters there): the id is checked to be a UUID first.
  if (workspaceId !== null && !UUID.test(workspaceId))
    throw new StoreError('store.invalid_input', 'The workspace id must be a UUID.');
  const setup = `select set_config('role', '${APP_ROLE}', true), set_config('app.workspace_id', '${workspaceId ?? ''}', true)`;
  try {
    return await transaction(setup, fn);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    if (!(error instanceof SetupFailed)) throw toStoreError(error);
    const code = (toStoreError(error.cause) as StoreError).pgCode;
    if (code === '22023' || code === '42704') {
      throw new StoreError(
        'store.not_migrated',
        `The role ${APP_ROLE} does not exist in this cluster yet: run migrate() first.`,
        { pgCode: code },
      );
    }
    if (code === '42501') {
      throw new StoreError(
        'store.insufficient_privileges',
        `The runtime database user may not act as ${APP_ROLE}: run migrate() (it grants the membership) or GRANT ${APP_ROLE} TO <that user>.`,
        { pgCode: code },
      );
    }
    throw toStoreError(error.cause);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseScopeOptions(workspaceId: unknown, options: unknown): [string, ScopeOptions] {
  return [
    parseId(workspaceId, 'workspace id'),
    parse(ScopeOptionsSchema, options ?? {}, 'scope options'),
  ];
}
