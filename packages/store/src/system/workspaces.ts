import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Tx } from '../db.ts';
import { StoreError } from '../errors.ts';
import type { WorkspaceRole } from '../identity/roles.ts';
import type { Workspace } from '../repositories/workspace.ts';
import { auditEvents, memberships, workspaces } from '../schema/index.ts';
import type { StoreAuditAction } from '../scope.ts';
import { nameSchema, parse, parseId, uuidSchema } from '../validation.ts';
import type { SystemDeps } from './deps.ts';
import type { User, usersSystem } from './users.ts';

export interface UserWorkspace {
  workspaceId: string;
  name: string;
  role: WorkspaceRole;
  createdAt: Date;
}

async function insertWorkspace(
  tx: Tx,
  id: string,
  name: string,
  ownerUserId: string,
): Promise<Workspace> {
  const [row] = await tx
    .insert(workspaces)
    .values({ id, name, createdBy: ownerUserId })
    .returning();
  await tx.insert(memberships).values({ workspaceId: id, userId: ownerUserId, role: 'owner' });
  await tx.insert(auditEvents).values({
    workspaceId: id,
    actorType: 'user',
    actorId: ownerUserId,
    action: 'workspace.create' satisfies StoreAuditAction,
    targetType: 'workspace',
    targetId: id,
  });
  return row!;
}

export function workspacesSystem(deps: SystemDeps, users: ReturnType<typeof usersSystem>) {
  const system = {
    /**
     * Creates a workspace with its first owner. The id is chosen here so the transaction can
     * set it as its workspace before the row exists: the insert passes the row's own policy.
     */
    async create(input: { name: string; ownerUserId: string }): Promise<Workspace> {
      const value = parse(
        z.object({ name: nameSchema, ownerUserId: uuidSchema }),
        input,
        'workspace',
      );
      const id = randomUUID();
      return deps.scopedTx(id, (tx) => insertWorkspace(tx, id, value.name, value.ownerUserId));
    },

    /** The workspaces a user belongs to, with their role in each (for the workspace switcher). */
    async listForUser(userId: string): Promise<UserWorkspace[]> {
      const id = parseId(userId, 'user id');
      return deps.unscoped(async (tx) => {
        const rows = await queryRows<{
          workspace_id: string;
          name: string;
          role: WorkspaceRole;
          created_at: Date | string;
        }>(tx, sql`select * from parley_user_workspaces(${id})`);
        return rows.map((r) => ({
          workspaceId: r.workspace_id,
          name: r.name,
          role: r.role,
          createdAt: new Date(r.created_at),
        }));
      });
    },

    /**
     * Single-user mode (PARLEY_MULTI_USER off): the one local owner and their workspace,
     * created on first call. Idempotent, also when two processes start at once.
     */
    async ensureLocalOwner(
      input: { email?: string; displayName?: string; workspaceName?: string } = {},
    ): Promise<{ user: User; workspace: UserWorkspace }> {
      const email = input.email ?? 'owner@parley.local';
      let user = await users.findByEmail(email);
      if (!user) {
        try {
          user = await users.create({ email, displayName: input.displayName ?? 'Owner' });
        } catch (error) {
          if (!(error instanceof StoreError && error.code === 'store.conflict')) throw error;
          user = await users.findByEmail(email);
        }
      }
      if (!user) throw new StoreError('store.not_found', 'The local owner could not be created.');
      const owner = user;
      const id = randomUUID();
      // Check and create under one lock, so two processes starting at once make one workspace.
      await deps.scopedTx(id, async (tx) => {
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtext(${`parley.local-owner:${owner.id}`}))`,
        );
        const existing = await queryRows(
          tx,
          sql`select 1 from parley_user_workspaces(${owner.id})`,
        );
        if (existing.length === 0)
          await insertWorkspace(tx, id, input.workspaceName ?? 'Default', owner.id);
      });
      const [workspace] = await system.listForUser(user.id);
      return { user, workspace: workspace! };
    },
  };
  return system;
}
