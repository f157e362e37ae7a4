import { api } from '@parley/protocol';
import {
  ALL_PERMISSIONS,
  MAX_TOKEN_LIFETIME_MS,
  PERMISSIONS,
  type Permission,
  type WorkspaceRole,
} from '@parley/store';
import { z } from 'zod';
import { isAgentScope } from '../auth/agent-scopes.ts';
import { actorOf, type Principal } from '../auth/principal.ts';
import { isOperator } from '../http/authorize.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import {
  invitationDto,
  memberDto,
  tokenDto,
  userDto,
  userWorkspaceDto,
  workspaceDto,
} from './dto.ts';
import { WorkspaceParams, withWorkspace } from './params.ts';

const DAY = 86_400_000;

/**
 * The caller's role in the workspace: a session's own, or the current role of a token's
 * creator (so a token cannot do what only an owner may unless an owner made it).
 */
async function callerRole(
  principal: Principal,
  sessionRole: WorkspaceRole | undefined,
  members: { get(userId: string): Promise<{ role: string } | null> },
): Promise<string | undefined> {
  if (principal.kind !== 'token') return sessionRole;
  return principal.userId ? (await members.get(principal.userId))?.role : undefined;
}

/**
 * `admin` stands for every permission the creator holds; anything else must be a known
 * permission.
 */
function expandScopes(scopes: string[], held: ReadonlySet<Permission>): string[] {
  const unknown = scopes.filter(
    (s) => s !== 'admin' && !Object.hasOwn(PERMISSIONS, s) && !isAgentScope(s),
  );
  if (unknown.length > 0) {
    throw new HttpProblem('request.invalid', `Unknown scope ${unknown[0]}.`, {
      errors: unknown.map((s) => ({
        path: 'body.scopes',
        message: `unknown scope ${s}: use admin, agent:<name> or one of ${ALL_PERMISSIONS.join(', ')}`,
      })),
    });
  }
  // Agent scopes ride along with the permissions: they narrow which agents, not what.
  const named = scopes.filter((s) => s !== 'admin');
  return scopes.includes('admin') ? [...new Set([...held, ...named])] : named;
}

export const identityRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/me',
    operationId: 'me',
    summary: 'Who is calling: the person, their workspaces, or the token and what it may do.',
    tag: 'identity',
    access: { kind: 'principal' },
    responses: { 200: api.MeSchema },
    handler: async ({ principal, services }) => {
      const mode = services.config.multiUser ? ('multi-user' as const) : ('single-user' as const);
      const { system } = services.store;
      if (principal.kind === 'session') {
        const workspaces = await system.workspaces.listForUser(principal.user.id);
        return {
          mode,
          auth: 'session' as const,
          user: userDto(principal.user),
          workspaces: workspaces.map(userWorkspaceDto),
          operator: isOperator(principal, services),
        };
      }
      if (principal.kind !== 'token') throw new Error('unreachable');
      const user = principal.userId ? await system.users.get(principal.userId) : null;
      const workspace = await services.store.withWorkspace(principal.workspaceId, (ws) =>
        ws.workspace.get(),
      );
      return {
        mode,
        auth: 'token' as const,
        user: user ? userDto(user) : null,
        workspaces: [workspaceDto(workspace)],
        token: {
          id: principal.tokenId,
          workspaceId: principal.workspaceId,
          scopes: principal.scopes,
          permissions: [...principal.permissions].sort(),
          expiresAt: principal.expiresAt.toISOString(),
        },
        operator: false,
      };
    },
  }),

  // ── Workspaces ────────────────────────────────────────────────────────────────────────
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces',
    operationId: 'listWorkspaces',
    summary: 'The workspaces the caller belongs to (a token: its one workspace).',
    tag: 'workspaces',
    access: { kind: 'principal' },
    responses: { 200: z.array(api.WorkspaceSchema) },
    handler: async ({ principal, services }) => {
      if (principal.kind === 'token') {
        const ws = await services.store.withWorkspace(principal.workspaceId, (w) =>
          w.workspace.get(),
        );
        return [workspaceDto(ws)];
      }
      if (principal.kind !== 'session') return [];
      return (await services.store.system.workspaces.listForUser(principal.user.id)).map(
        userWorkspaceDto,
      );
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces',
    operationId: 'createWorkspace',
    summary: 'Create a workspace; the caller becomes its owner (multi-user mode).',
    tag: 'workspaces',
    access: { kind: 'person' },
    body: api.CreateWorkspaceRequestSchema,
    responses: { 201: api.WorkspaceSchema },
    handler: async ({ principal, body, services }) => {
      if (!services.config.multiUser)
        throw new HttpProblem('auth.forbidden', 'Single-user mode has one workspace.');
      if (principal.kind !== 'session') throw new Error('unreachable');
      const ws = await services.store.system.workspaces.create({
        name: body.name,
        ownerUserId: principal.user.id,
      });
      return workspaceDto(ws, 'owner');
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId',
    operationId: 'getWorkspace',
    summary: 'A workspace.',
    tag: 'workspaces',
    access: { kind: 'workspace', permission: 'workspace:read' },
    params: WorkspaceParams,
    responses: { 200: api.WorkspaceSchema },
    handler: async (ctx) =>
      workspaceDto(await ctx.inWorkspace((ws) => ws.workspace.get()), ctx.grant().role),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/v1/workspaces/:workspaceId',
    operationId: 'renameWorkspace',
    summary: 'Rename a workspace.',
    tag: 'workspaces',
    access: { kind: 'workspace', permission: 'workspace:manage' },
    params: WorkspaceParams,
    body: api.RenameWorkspaceRequestSchema,
    responses: { 200: api.WorkspaceSchema },
    handler: async (ctx) =>
      workspaceDto(
        await ctx.inWorkspace((ws) => ws.workspace.rename(ctx.body.name)),
        ctx.grant().role,
      ),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId',
    operationId: 'deleteWorkspace',
    summary: 'Delete a workspace and everything in it.',
    tag: 'workspaces',
    access: { kind: 'workspace', permission: 'workspace:delete' },
    params: WorkspaceParams,
    responses: { 204: null },
    handler: async (ctx) => {
      if (!ctx.services.config.multiUser)
        throw new HttpProblem('auth.forbidden', 'Single-user mode keeps its one workspace.');
      await ctx.inWorkspace((ws) => ws.workspace.delete());
    },
  }),

  // ── Members and invitations ───────────────────────────────────────────────────────────
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/members',
    operationId: 'listMembers',
    summary: 'Members and their roles.',
    tag: 'members',
    access: { kind: 'workspace', permission: 'members:read' },
    params: WorkspaceParams,
    responses: { 200: z.array(api.MemberSchema) },
    handler: async (ctx) => (await ctx.inWorkspace((ws) => ws.members.list())).map(memberDto),
  }),
  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/members/:userId/role',
    operationId: 'setMemberRole',
    summary: "Change a member's role (only an owner may grant or take ownership).",
    tag: 'members',
    access: { kind: 'workspace', permission: 'members:manage' },
    params: withWorkspace({ userId: z.uuid() }),
    body: api.SetRoleRequestSchema,
    responses: { 200: api.MemberSchema },
    handler: async (ctx) => {
      const { role: myRole } = ctx.grant();
      const member = await ctx.inWorkspace(async (ws) => {
        const current = await ws.members.get(ctx.params.userId);
        if (!current) throw notFound('Member');
        if (
          (current.role === 'owner' || ctx.body.role === 'owner') &&
          (await callerRole(ctx.principal, myRole, ws.members)) !== 'owner'
        )
          throw new HttpProblem('auth.forbidden', 'Only an owner may grant or take ownership.');
        await ws.members.setRole(ctx.params.userId, ctx.body.role);
        return { before: current.role, after: (await ws.members.get(ctx.params.userId))! };
      });
      ctx.services.detector.privilegeChange(
        ctx.grant().workspaceId,
        actorOf(ctx.principal) as { type: 'user' | 'token'; id: string },
        ctx.request.ip,
        { change: 'role', userId: ctx.params.userId, from: member.before, to: member.after.role },
      );
      return memberDto(member.after);
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId/members/:userId',
    operationId: 'removeMember',
    summary: 'Remove a member (a workspace keeps at least one owner).',
    tag: 'members',
    access: { kind: 'workspace', permission: 'members:manage' },
    params: withWorkspace({ userId: z.uuid() }),
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace(async (ws) => {
        const current = await ws.members.get(ctx.params.userId);
        if (!current) throw notFound('Member');
        if (
          current.role === 'owner' &&
          (await callerRole(ctx.principal, ctx.grant().role, ws.members)) !== 'owner'
        )
          throw new HttpProblem('auth.forbidden', 'Only an owner may remove an owner.');
        await ws.members.remove(ctx.params.userId);
      });
      ctx.services.detector.privilegeChange(
        ctx.grant().workspaceId,
        actorOf(ctx.principal) as { type: 'user' | 'token'; id: string },
        ctx.request.ip,
        { change: 'removed', userId: ctx.params.userId },
      );
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/invitations',
    operationId: 'listInvitations',
    summary: 'Pending invitations.',
    tag: 'members',
    access: { kind: 'workspace', permission: 'members:read' },
    params: WorkspaceParams,
    responses: { 200: z.array(api.InvitationSchema) },
    handler: async (ctx) =>
      (await ctx.inWorkspace((ws) => ws.invitations.listPending())).map((i) => invitationDto(i)),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/invitations',
    operationId: 'createInvitation',
    summary: 'Invite someone by email; the token in the answer is shown once.',
    tag: 'members',
    access: { kind: 'workspace', permission: 'members:manage' },
    params: WorkspaceParams,
    body: api.CreateInvitationRequestSchema,
    responses: { 201: api.CreatedInvitationSchema },
    handler: async (ctx) => {
      if (!ctx.services.config.multiUser)
        throw new HttpProblem(
          'auth.forbidden',
          'Invitations need multi-user mode (PARLEY_MULTI_USER=1).',
        );
      const invitedBy =
        ctx.principal.kind === 'session'
          ? ctx.principal.user.id
          : ctx.principal.kind === 'token'
            ? ctx.principal.userId
            : null;
      const created = await ctx.inWorkspace((ws) =>
        ws.invitations.create({
          email: ctx.body.email,
          role: ctx.body.role,
          ...(invitedBy ? { invitedBy } : {}),
          expiresInMs: (ctx.body.expiresInDays ?? 7) * DAY,
        }),
      );
      return { invitation: invitationDto(created.invitation), token: created.token };
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId/invitations/:invitationId',
    operationId: 'revokeInvitation',
    summary: 'Revoke a pending invitation.',
    tag: 'members',
    access: { kind: 'workspace', permission: 'members:manage' },
    params: withWorkspace({ invitationId: z.uuid() }),
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace((ws) => ws.invitations.revoke(ctx.params.invitationId));
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/invitations/accept',
    operationId: 'acceptInvitation',
    summary: 'Join a workspace with an invitation sent to your email.',
    tag: 'members',
    access: { kind: 'person' },
    body: api.AcceptInvitationRequestSchema,
    responses: { 200: api.WorkspaceSchema },
    handler: async ({ principal, body, services, request }) => {
      if (principal.kind !== 'session') throw new Error('unreachable');
      const membership = await services.store.system.invitations.accept(
        body.token,
        principal.user.id,
      );
      services.detector.privilegeChange(
        membership.workspaceId,
        { type: 'user', id: principal.user.id },
        request.ip,
        { change: 'joined', role: membership.role },
      );
      const mine = await services.store.system.workspaces.listForUser(principal.user.id);
      return userWorkspaceDto(mine.find((w) => w.workspaceId === membership.workspaceId)!);
    },
  }),

  // ── API tokens ────────────────────────────────────────────────────────────────────────
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/tokens',
    operationId: 'listTokens',
    summary: "The workspace's API tokens (never their values).",
    tag: 'tokens',
    access: { kind: 'workspace', permission: 'tokens:manage' },
    params: WorkspaceParams,
    responses: { 200: z.array(api.ApiTokenSchema) },
    handler: async (ctx) => (await ctx.inWorkspace((ws) => ws.apiTokens.list())).map(tokenDto),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/tokens',
    operationId: 'createToken',
    summary:
      'Create an API token: scopes (or admin), expiry (default 90 days). The token is shown once.',
    tag: 'tokens',
    access: { kind: 'workspace', permission: 'tokens:manage' },
    params: WorkspaceParams,
    body: api.CreateTokenRequestSchema,
    responses: { 201: api.CreatedTokenSchema },
    handler: async (ctx) => {
      const grant = ctx.grant();
      const scopes = expandScopes(ctx.body.scopes, grant.permissions);
      // Nobody mints a token that may do more than they may.
      const beyond = scopes.filter(
        (s) => !isAgentScope(s) && !grant.permissions.has(s as Permission),
      );
      if (beyond.length > 0)
        throw new HttpProblem('auth.forbidden', `You may not grant ${beyond.join(', ')}.`);
      // A token limited to some agents mints tokens limited to (some of) them, never to none.
      const own = ctx.principal.kind === 'token' ? ctx.principal.scopes.filter(isAgentScope) : [];
      if (own.length > 0) {
        const asked = scopes.filter(isAgentScope);
        const other = asked.filter((s) => !own.includes(s));
        if (asked.length === 0 || other.length > 0)
          throw new HttpProblem(
            'auth.forbidden',
            other.length > 0
              ? `You may not grant ${other.join(', ')}.`
              : 'You may not grant runs of every agent.',
          );
      }
      const createdBy =
        ctx.principal.kind === 'session'
          ? ctx.principal.user.id
          : ctx.principal.kind === 'token'
            ? ctx.principal.userId
            : null;
      const days = ctx.body.expiresInDays ?? 90;
      // A token minting a token is its parent: the child may not outlive or outrank it (the
      // store refuses), and goes when it is revoked (issue 30).
      const parent = ctx.principal.kind === 'token' ? ctx.principal : undefined;
      let expiresAt = Math.min(
        Date.now() + days * DAY,
        Date.now() + MAX_TOKEN_LIFETIME_MS - 60_000,
      );
      // Without an expiry asked for, the default stops where the parent's life does.
      if (parent && ctx.body.expiresInDays === undefined)
        expiresAt = Math.min(expiresAt, parent.expiresAt.getTime());
      const created = await ctx.inWorkspace((ws) =>
        ws.apiTokens.create({
          name: ctx.body.name,
          scopes,
          expiresAt: new Date(expiresAt),
          ...(createdBy ? { createdBy } : {}),
          ...(parent ? { parentId: parent.tokenId } : {}),
        }),
      );
      if (scopes.includes('tokens:manage') || scopes.includes('members:manage')) {
        ctx.services.detector.privilegeChange(
          grant.workspaceId,
          actorOf(ctx.principal) as { type: 'user' | 'token'; id: string },
          ctx.request.ip,
          { change: 'token_with_admin_scopes', tokenId: created.info.id },
        );
      }
      return { token: created.token, info: tokenDto(created.info) };
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId/tokens/:tokenId',
    operationId: 'revokeToken',
    summary: 'Revoke an API token at once, and every token it minted.',
    tag: 'tokens',
    access: { kind: 'workspace', permission: 'tokens:manage' },
    params: withWorkspace({ tokenId: z.uuid() }),
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace(async (ws) => {
        // Admins cannot act on owners: an owner's token is revoked by an owner (issue 30).
        const token = await ws.apiTokens.get(ctx.params.tokenId);
        const creator = token?.createdBy ? await ws.members.get(token.createdBy) : null;
        if (
          creator?.role === 'owner' &&
          (await callerRole(ctx.principal, ctx.grant().role, ws.members)) !== 'owner'
        )
          throw new HttpProblem('auth.forbidden', "Only an owner may revoke an owner's tokens.");
        await ws.apiTokens.revoke(ctx.params.tokenId);
      });
    },
  }),
];
