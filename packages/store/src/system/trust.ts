import { sql } from 'drizzle-orm';
import { queryRows } from '../db.ts';
import { SlugSchema } from '../repositories/trust.ts';
import type { SystemDeps } from './deps.ts';

/**
 * The two cross-workspace questions trust operations ask, each through a reviewed SECURITY
 * DEFINER function (drizzle/0004_trust.sql) that returns workspace ids only: which workspace
 * publishes a public trust page under a slug, and which workspaces have support tickets (for
 * the SLA scheduler). What is then read happens inside that workspace's own transaction.
 */
export function trustSystem(deps: SystemDeps) {
  return {
    /** The workspace whose published trust page has this slug; undefined if none is published. */
    async findPublishedPage(slug: string): Promise<string | undefined> {
      if (!SlugSchema.safeParse(slug).success) return undefined;
      const [row] = await deps.unscoped((tx) =>
        queryRows<{ workspace_id: string }>(
          tx,
          sql`select workspace_id from parley_find_published_trust_page(${slug})`,
        ),
      );
      return row?.workspace_id;
    },

    /** Every workspace that has at least one support ticket. */
    async listSupportWorkspaces(): Promise<string[]> {
      const rows = await deps.unscoped((tx) =>
        queryRows<{ workspace_id: string }>(
          tx,
          sql`select workspace_id from parley_support_workspaces()`,
        ),
      );
      return rows.map((r) => r.workspace_id);
    },
  };
}
