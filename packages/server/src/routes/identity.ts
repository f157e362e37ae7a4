import { api } from '@parley/protocol';
import { z } from 'zod';
import { isOperator } from '../http/authorize.ts';
import { HttpProblem } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { userDto, userWorkspaceDto, workspaceDto } from './dto.ts';
import { memberRoutes } from './members.ts';
import { WorkspaceParams } from './params.ts';
import { tokenRoutes } from './tokens.ts';

/* The caller and their workspaces; members and invitations (members.ts); API tokens (tokens.ts). */

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
  ...memberRoutes,
  ...tokenRoutes,
];
