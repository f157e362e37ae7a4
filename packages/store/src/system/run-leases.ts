import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
import { parse, text, uuidSchema } from '../validation.ts';
import type { SystemDeps } from './deps.ts';

/** A run whose lease lapsed and that this instance now holds. */
export interface ClaimedRun {
  workspaceId: string;
  runId: string;
  /** The instance that held it; null when it handed the run over cleanly (its log is complete). */
  previousOwner: string | null;
}

const OwnerSchema = text(200, 1);
const TtlSchema = z.int().min(100).max(3_600_000);

/**
 * The leases of unfinished runs across workspaces (a cluster: docs/scaling.md), through the
 * reviewed SECURITY DEFINER functions of drizzle/0006_run_leases.sql: ids only, never content.
 */
export function runLeasesSystem(deps: SystemDeps) {
  return {
    /**
     * Extends the leases of `runIds` (the runs this instance executes) that `owner` holds;
     * returns those it still holds. A row a write holds is skipped, never waited for (the
     * owner's writes extend it: AppendOptions.leaseMs).
     */
    async renew(owner: string, ttlMs: number, runIds: readonly string[]): Promise<string[]> {
      const [o, ttl] = [parse(OwnerSchema, owner, 'owner'), parse(TtlSchema, ttlMs, 'ttl')];
      const ids = parse(z.array(uuidSchema).max(10_000), [...runIds], 'run ids');
      if (ids.length === 0) return [];
      const rows = await deps.unscoped((tx) =>
        queryRows<{ run_id: string }>(
          tx,
          sql`select run_id from parley_renew_run_leases(${o}, ${ttl}, ${sql.param(ids)}::uuid[])`,
        ),
      );
      return rows.map((r) => r.run_id);
    },

    /** Takes over up to `limit` runs whose lease lapsed (each goes to exactly one claimer). */
    async claimLapsed(owner: string, ttlMs: number, limit = 20): Promise<ClaimedRun[]> {
      const [o, ttl] = [parse(OwnerSchema, owner, 'owner'), parse(TtlSchema, ttlMs, 'ttl')];
      const n = parse(z.int().min(1).max(1_000), limit, 'limit');
      const rows = await deps.unscoped((tx) =>
        queryRows<{ workspace_id: string; run_id: string; previous_owner: string | null }>(
          tx,
          sql`select * from parley_claim_lapsed_runs(${o}, ${ttl}, ${n})`,
        ),
      );
      return rows.map((r) => ({
        workspaceId: r.workspace_id,
        runId: r.run_id,
        previousOwner: r.previous_owner,
      }));
    },

    /** Hands runs over (a clean shutdown): their leases lapse now, with no owner. */
    async release(owner: string, runIds: readonly string[]): Promise<number> {
      const o = parse(OwnerSchema, owner, 'owner');
      const ids = parse(z.array(uuidSchema).max(10_000), [...runIds], 'run ids');
      if (ids.length === 0) return 0;
      const [row] = await deps.unscoped((tx) =>
        queryRows<{ n: number }>(
          tx,
          sql`select parley_release_run_leases(${o}, ${`{${ids.join(',')}}`}::uuid[]) as n`,
        ),
      );
      return Number(row?.n ?? 0);
    },
  };
}
