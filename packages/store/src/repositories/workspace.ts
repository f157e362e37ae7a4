import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { randomSecret, sha256Hex } from '../auth/tokens.ts';
import { StoreError } from '../errors.ts';
import { INVITABLE_ROLES, type WorkspaceRole, WorkspaceRoleSchema } from '../identity/roles.ts';
import { invitations, memberships, users, workspaces } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { nameSchema, parse, parseId, uuidSchema } from '../validation.ts';
import { notFound } from './common.ts';
import { retireWorkspaceTrustSlug } from './retired-slugs.ts';

export type Workspace = typeof workspaces.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
/** A member with the user's display fields. */
export interface Member extends Membership {
  email: string;
  displayName: string;
}
export type Invitation = Omit<typeof invitations.$inferSelect, 'tokenHash'>;

const DAY = 86_400_000;

export function workspaceRepository(ctx: ScopeContext) {
  return {
    /** This workspace. */
    async get(): Promise<Workspace> {
      const [row] = await ctx.tx
        .select()
        .from(workspaces)
        .where(eq(workspaces.id, ctx.workspaceId));
      if (!row) throw notFound('workspace', ctx.workspaceId);
      return row;
    },

    async rename(name: string): Promise<Workspace> {
      const value = parse(nameSchema, name, 'workspace name');
      const [row] = await ctx.tx
        .update(workspaces)
        .set({ name: value, updatedAt: sql`now()` })
        .where(eq(workspaces.id, ctx.workspaceId))
        .returning();
      if (!row) throw notFound('workspace', ctx.workspaceId);
      await ctx.audit({ action: 'workspace.rename', targetType: 'workspace', targetId: row.id });
      return row;
    },

    /**
     * Deletes the workspace and, by cascade, everything in it (its audit log too). Its trust
     * page's slug is retired first: nobody may ever claim that address again.
     */
    async delete(): Promise<void> {
      await retireWorkspaceTrustSlug(ctx.tx, ctx.workspaceId);
      const deleted = await ctx.tx
        .delete(workspaces)
        .where(eq(workspaces.id, ctx.workspaceId))
        .returning({ id: workspaces.id });
      if (deleted.length === 0) throw notFound('workspace', ctx.workspaceId);
    },
  };
}

async function lockOwners(ctx: ScopeContext): Promise<string[]> {
  // FOR UPDATE on every owner row: two concurrent demotions cannot both see "another owner".
  const rows = await ctx.tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, ctx.workspaceId), eq(memberships.role, 'owner')))
    .for('update');
  return rows.map((r) => r.userId);
}

export function membersRepository(ctx: ScopeContext) {
  const memberColumns = {
    workspaceId: memberships.workspaceId,
    userId: memberships.userId,
    role: memberships.role,
    invitedBy: memberships.invitedBy,
    createdAt: memberships.createdAt,
    updatedAt: memberships.updatedAt,
    email: users.email,
    displayName: users.displayName,
  };
  return {
    async list(): Promise<Member[]> {
      return ctx.tx
        .select(memberColumns)
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(eq(memberships.workspaceId, ctx.workspaceId))
        .orderBy(asc(memberships.createdAt), asc(memberships.userId));
    },

    /** The user's membership here, or null when they are not a member. */
    async get(userId: string): Promise<Member | null> {
      const id = parseId(userId, 'user id');
      const [row] = await ctx.tx
        .select(memberColumns)
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.workspaceId, ctx.workspaceId), eq(memberships.userId, id)));
      return row ?? null;
    },

    async add(input: {
      userId: string;
      role: WorkspaceRole;
      invitedBy?: string;
    }): Promise<Membership> {
      const value = parse(
        z.object({
          userId: uuidSchema,
          role: WorkspaceRoleSchema,
          invitedBy: uuidSchema.optional(),
        }),
        input,
        'member',
      );
      const [row] = await ctx.tx
        .insert(memberships)
        .values({
          workspaceId: ctx.workspaceId,
          userId: value.userId,
          role: value.role,
          invitedBy: value.invitedBy,
        })
        .onConflictDoNothing()
        .returning();
      if (!row) throw new StoreError('store.conflict', `User ${value.userId} is already a member.`);
      await ctx.audit({
        action: 'member.add',
        targetType: 'user',
        targetId: value.userId,
        metadata: { role: value.role },
      });
      return row;
    },

    /** Changes a member's role; the last owner cannot be demoted. */
    async setRole(userId: string, role: WorkspaceRole): Promise<Membership> {
      const id = parseId(userId, 'user id');
      const newRole = parse(WorkspaceRoleSchema, role, 'role');
      const owners = await lockOwners(ctx);
      if (newRole !== 'owner' && owners.length === 1 && owners[0] === id) {
        throw new StoreError(
          'store.last_owner',
          'This is the last owner: make someone else owner first.',
        );
      }
      const [before] = await ctx.tx
        .select({ role: memberships.role })
        .from(memberships)
        .where(and(eq(memberships.workspaceId, ctx.workspaceId), eq(memberships.userId, id)));
      const [row] = await ctx.tx
        .update(memberships)
        .set({ role: newRole, updatedAt: sql`now()` })
        .where(and(eq(memberships.workspaceId, ctx.workspaceId), eq(memberships.userId, id)))
        .returning();
      if (!row) throw notFound('member', id);
      await ctx.audit({
        action: 'member.role_change',
        targetType: 'user',
        targetId: id,
        metadata: { from: before?.role, to: newRole },
      });
      return row;
    },

    /** Removes a member; the last owner cannot be removed. */
    async remove(userId: string): Promise<void> {
      const id = parseId(userId, 'user id');
      const owners = await lockOwners(ctx);
      if (owners.length === 1 && owners[0] === id) {
        throw new StoreError(
          'store.last_owner',
          'This is the last owner: make someone else owner first.',
        );
      }
      const deleted = await ctx.tx
        .delete(memberships)
        .where(and(eq(memberships.workspaceId, ctx.workspaceId), eq(memberships.userId, id)))
        .returning({ userId: memberships.userId });
      if (deleted.length === 0) throw notFound('member', id);
      await ctx.audit({ action: 'member.remove', targetType: 'user', targetId: id });
    },
  };
}

const NewInvitationSchema = z.object({
  email: z.email().max(320),
  role: z.enum(INVITABLE_ROLES),
  invitedBy: uuidSchema.optional(),
  /** Default 7 days, at most 30. */
  expiresInMs: z
    .number()
    .int()
    .min(60_000)
    .max(30 * DAY)
    .default(7 * DAY),
});

const invitationColumns = {
  id: invitations.id,
  workspaceId: invitations.workspaceId,
  email: invitations.email,
  role: invitations.role,
  invitedBy: invitations.invitedBy,
  createdAt: invitations.createdAt,
  expiresAt: invitations.expiresAt,
  acceptedAt: invitations.acceptedAt,
  acceptedBy: invitations.acceptedBy,
  revokedAt: invitations.revokedAt,
};

export function invitationsRepository(ctx: ScopeContext) {
  return {
    /**
     * Creates an invitation. `token` goes into the link sent to the invitee, once; only its
     * hash is stored, and system.invitations.accept() takes it back.
     */
    async create(
      input: z.input<typeof NewInvitationSchema>,
    ): Promise<{ invitation: Invitation; token: string }> {
      const value = parse(NewInvitationSchema, input, 'invitation');
      const token = randomSecret();
      const [row] = await ctx.tx
        .insert(invitations)
        .values({
          workspaceId: ctx.workspaceId,
          email: value.email.toLowerCase(),
          role: value.role,
          tokenHash: sha256Hex(token),
          invitedBy: value.invitedBy,
          expiresAt: new Date(Date.now() + value.expiresInMs),
        })
        .returning(invitationColumns);
      await ctx.audit({
        action: 'invitation.create',
        targetType: 'invitation',
        targetId: row!.id,
        metadata: { role: value.role },
      });
      return { invitation: row!, token };
    },

    /** Pending invitations (not accepted, revoked or expired), oldest first. */
    async listPending(): Promise<Invitation[]> {
      return ctx.tx
        .select(invitationColumns)
        .from(invitations)
        .where(
          and(
            eq(invitations.workspaceId, ctx.workspaceId),
            isNull(invitations.acceptedAt),
            isNull(invitations.revokedAt),
            gt(invitations.expiresAt, sql`now()`),
          ),
        )
        .orderBy(asc(invitations.createdAt));
    },

    async revoke(invitationId: string): Promise<void> {
      const id = parseId(invitationId, 'invitation id');
      const rows = await ctx.tx
        .update(invitations)
        .set({ revokedAt: sql`now()` })
        .where(
          and(
            eq(invitations.id, id),
            isNull(invitations.revokedAt),
            isNull(invitations.acceptedAt),
          ),
        )
        .returning({ id: invitations.id });
      if (rows.length === 0) throw notFound('pending invitation', id);
      await ctx.audit({ action: 'invitation.revoke', targetType: 'invitation', targetId: id });
    },

    /** Used by system.invitations.accept() once the token has been matched. */
    async acceptById(invitationId: string, userId: string): Promise<Membership> {
      const id = parseId(invitationId, 'invitation id');
      const user = parseId(userId, 'user id');
      const [inv] = await ctx.tx
        .select()
        .from(invitations)
        .where(eq(invitations.id, id))
        .for('update');
      if (!inv) throw notFound('invitation', id);
      const status = invitationStatus(inv);
      if (status !== 'pending') {
        throw new StoreError('store.conflict', `This invitation is ${status}.`, {
          details: { status },
        });
      }
      await ctx.tx
        .update(invitations)
        .set({ acceptedAt: sql`now()`, acceptedBy: user })
        .where(eq(invitations.id, id));
      const [membership] = await ctx.tx
        .insert(memberships)
        .values({
          workspaceId: ctx.workspaceId,
          userId: user,
          role: inv.role,
          invitedBy: inv.invitedBy,
        })
        .onConflictDoNothing()
        .returning();
      await ctx.audit({
        action: 'invitation.accept',
        targetType: 'invitation',
        targetId: id,
        metadata: { role: inv.role, alreadyMember: !membership },
      });
      if (membership) return membership;
      // Already a member: keep the existing role (an invitation never demotes anyone).
      const [existing] = await ctx.tx
        .select()
        .from(memberships)
        .where(and(eq(memberships.workspaceId, ctx.workspaceId), eq(memberships.userId, user)));
      return existing!;
    },
  };
}

export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

export function invitationStatus(inv: {
  acceptedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date;
}): InvitationStatus {
  if (inv.acceptedAt) return 'accepted';
  if (inv.revokedAt) return 'revoked';
  if (inv.expiresAt.getTime() <= Date.now()) return 'expired';
  return 'pending';
}
