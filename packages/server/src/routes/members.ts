import { api } from '@parley/protocol';
import { z } from 'zod';
import { actorOf } from '../auth/principal.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { callerRole } from './caller-role.ts';
import { invitationDto, memberDto, userWorkspaceDto } from './dto.ts';
import { WorkspaceParams, withWorkspace } from './params.ts';

/*
 * A workspace's members and invitations: who may change whose role, remove whom, and invite
 * at which role (docs/identity.md).
 */

const DAY = 86_400_000;

export const memberRoutes = [
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
];
