import { sql } from 'drizzle-orm';
import { queryRows } from '../db.ts';
import type { SystemDeps } from './deps.ts';

/**
 * The one cross-workspace question the channel manager asks at start (docs/channels.md):
 * which workspaces have a deployed agent that lists channels. A reviewed SECURITY DEFINER
 * function (drizzle/0011_channel_workspaces.sql) answers ids only; the agents and their
 * tokens are then read inside each workspace's own transaction.
 */
export function channelsSystem(deps: SystemDeps) {
  return {
    async listWorkspaces(): Promise<string[]> {
      const rows = await deps.unscoped((tx) =>
        queryRows<{ workspace_id: string }>(
          tx,
          sql`select workspace_id from parley_channel_workspaces()`,
        ),
      );
      return rows.map((r) => r.workspace_id);
    },
  };
}
