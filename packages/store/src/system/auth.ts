import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { isWellFormedApiToken, sha256Hex } from '../auth/tokens.ts';
import { queryRows } from '../db.ts';
import { StoreError } from '../errors.ts';
import { effectivePermissions, type Permission, type WorkspaceRole } from '../identity/roles.ts';
import type { Membership } from '../repositories/workspace.ts';
import { type InvitationStatus, invitationStatus } from '../repositories/workspace.ts';
import { ipSchema, parse, parseId, text } from '../validation.ts';
import type { SystemDeps } from './deps.ts';
import type { usersSystem } from './users.ts';

export type ApiTokenAuthFailure = 'malformed' | 'unknown' | 'revoked' | 'expired';

export type ApiTokenAuthResult =
  | {
      ok: true;
      tokenId: string;
      /** The one workspace this token may act in: use it for withWorkspace(). */
      workspaceId: string;
      scopes: string[];
      createdBy: string | null;
      /** The creator's role now; null when they are no longer a member; undefined for a service token. */
      creatorRole: WorkspaceRole | null | undefined;
      /** What the request may do: the creator's role ∩ the token's scopes. */
      permissions: Permission[];
      expiresAt: Date;
      /** True when the token was used before from another address (a security signal). */
      newAddress: boolean;
    }
  | { ok: false; reason: ApiTokenAuthFailure; tokenId?: string; workspaceId?: string };

export interface InvitationPreview {
  invitationId: string;
  workspaceId: string;
  workspaceName: string;
  email: string;
  role: WorkspaceRole;
  expiresAt: Date;
  status: InvitationStatus;
}

interface TokenRow {
  id: string;
  workspace_id: string;
  scopes: string[];
  expires_at: Date | string;
  revoked_at: Date | string | null;
  created_by: string | null;
  last_used_ip: string | null;
}

export function authSystem(deps: SystemDeps, users: ReturnType<typeof usersSystem>) {
  async function findInvitation(token: string): Promise<InvitationPreview | null> {
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    return deps.unscoped(async (tx) => {
      const [row] = await queryRows<{
        id: string;
        workspace_id: string;
        workspace_name: string;
        email: string;
        role: WorkspaceRole;
        expires_at: Date | string;
        accepted_at: Date | string | null;
        revoked_at: Date | string | null;
      }>(tx, sql`select * from parley_find_invitation(${sha256Hex(token)})`);
      if (!row) return null;
      const expiresAt = new Date(row.expires_at);
      return {
        invitationId: row.id,
        workspaceId: row.workspace_id,
        workspaceName: row.workspace_name,
        email: row.email,
        role: row.role,
        expiresAt,
        status: invitationStatus({
          acceptedAt: row.accepted_at ? new Date(row.accepted_at) : null,
          revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
          expiresAt,
        }),
      };
    });
  }

  return {
    /**
     * Authenticates a bearer token: format and checksum first (no database work for junk),
     * then the hash lookup, revocation, expiry, and the creator's current role. Records the
     * use (time, address, user agent) on success.
     */
    async authenticateApiToken(
      token: string,
      request: { ip?: string; userAgent?: string } = {},
    ): Promise<ApiTokenAuthResult> {
      if (typeof token !== 'string' || !isWellFormedApiToken(token))
        return { ok: false, reason: 'malformed' };
      const use = parse(
        z.object({ ip: ipSchema.optional(), userAgent: text(1_000).optional() }),
        request,
        'request',
      );
      const [row] = await deps.unscoped((tx) =>
        queryRows<TokenRow>(tx, sql`select * from parley_find_api_token(${sha256Hex(token)})`),
      );
      if (!row) return { ok: false, reason: 'unknown' };
      const ids = { tokenId: row.id, workspaceId: row.workspace_id };
      if (row.revoked_at) return { ok: false, reason: 'revoked', ...ids };
      const expiresAt = new Date(row.expires_at);
      if (expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired', ...ids };
      const memberRole = await deps.withWorkspace(
        row.workspace_id,
        async (ws) => {
          await ws.apiTokens.recordUse(row.id, use);
          if (!row.created_by) return undefined;
          return (
            ((await ws.members.get(row.created_by))?.role as WorkspaceRole | undefined) ?? null
          );
        },
        { actor: { type: 'token', id: row.id } },
      );
      // A disabled account's tokens act for no one, like a former member's: disabling someone
      // must not leave their CI tokens working (audit A-05).
      const creatorRole =
        memberRole && (await users.get(row.created_by!))?.disabledAt ? null : memberRole;
      return {
        ok: true,
        ...ids,
        scopes: row.scopes,
        createdBy: row.created_by,
        creatorRole,
        permissions: [...effectivePermissions({ role: creatorRole, scopes: row.scopes })],
        expiresAt,
        newAddress: Boolean(use.ip && row.last_used_ip && use.ip !== row.last_used_ip),
      };
    },

    invitations: {
      /** What an invitation link points to, without accepting it (null for an unknown token). */
      lookup: findInvitation,

      /**
       * Accepts an invitation for a signed-in user whose email matches the invitation's
       * (a forwarded link does not let someone else in).
       */
      async accept(token: string, userId: string): Promise<Membership> {
        const id = parseId(userId, 'user id');
        const invitation = await findInvitation(token);
        if (!invitation) throw new StoreError('store.not_found', 'Unknown invitation.');
        if (invitation.status !== 'pending') {
          throw new StoreError('store.conflict', `This invitation is ${invitation.status}.`, {
            details: { status: invitation.status },
          });
        }
        const user = await users.get(id);
        if (!user || user.email !== invitation.email) {
          throw new StoreError(
            'store.conflict',
            'This invitation was sent to another email address.',
            {
              details: { status: 'wrong_user' },
            },
          );
        }
        return deps.withWorkspace(
          invitation.workspaceId,
          (ws) => ws.invitations.acceptById(invitation.invitationId, id),
          {
            actor: { type: 'user', id },
          },
        );
      },
    },
  };
}
