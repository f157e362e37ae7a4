import type { Engine } from './engines/engine.ts';
import { OWNER_ROLE } from './migrate.ts';

/* How strongly a connection keeps workspaces apart: what its role may do past row-level security. */

export interface IsolationReport {
  /**
   * enforced: the runtime connection cannot leave the runtime role, so even hostile SQL stays
   * inside row-level security (PostgreSQL with a dedicated login role).
   * guarded: every store query runs as the runtime role, so RLS catches application bugs,
   * but the connection itself could switch roles (PGlite always; PostgreSQL as a superuser).
   */
  level: 'enforced' | 'guarded';
  /** The role the connection logged in as. */
  sessionRole: string;
  reason: string;
}

export async function describeIsolation(
  kind: 'pglite' | 'postgres',
  query: Engine['adminQuery'],
): Promise<IsolationReport> {
  const [row] = await query<{ name: string; superuser: boolean; bypass: boolean; owner: boolean }>(
    `select r.rolname as name, r.rolsuper as superuser, r.rolbypassrls as bypass,
            (case when exists (select 1 from pg_roles where rolname = '${OWNER_ROLE}')
                  then pg_has_role(session_user, '${OWNER_ROLE}', 'MEMBER') else false end)
            or exists (select 1 from pg_tables where schemaname = 'public' and tableowner = session_user) as owner
       from pg_roles r where r.rolname = session_user`,
  );
  return isolationReport(kind, {
    name: row?.name ?? 'unknown',
    superuser: row?.superuser ?? false,
    bypass: row?.bypass ?? false,
    owner: row?.owner ?? false,
  });
}

/**
 * What a connection's role means for row-level security: PGlite is always guarded (its one
 * session is a superuser); on PostgreSQL a superuser, a BYPASSRLS role or the tables' owner is
 * guarded, anything else enforced. openStore() and the diagnostics both report it.
 */
export function isolationReport(
  kind: 'pglite' | 'postgres',
  role: { name: string; superuser: boolean; bypass: boolean; owner: boolean },
): IsolationReport {
  const sessionRole = role.name;
  if (kind === 'pglite') {
    return {
      level: 'guarded',
      sessionRole,
      reason:
        'PGlite always connects as its superuser: row-level security catches bugs, not hostile SQL. Use PostgreSQL for shared deployments.',
    };
  }
  if (role.superuser || role.bypass || role.owner) {
    const what = role.superuser
      ? 'a superuser'
      : role.bypass
        ? 'a BYPASSRLS role'
        : `the owner (or a member of ${OWNER_ROLE})`;
    return {
      level: 'guarded',
      sessionRole,
      reason: `The runtime connection logs in as "${sessionRole}", ${what}. Connect as a dedicated login role and pass a superuser only as migrationUrl.`,
    };
  }
  return {
    level: 'enforced',
    sessionRole,
    reason: `The runtime connection logs in as "${sessionRole}", which cannot bypass row-level security.`,
  };
}
