import { api } from '@parley/protocol';
import {
  ALL_PERMISSIONS,
  MAX_TOKEN_LIFETIME_MS,
  PERMISSIONS,
  type Permission,
} from '@parley/store';
import { z } from 'zod';
import { isAgentScope } from '../auth/agent-scopes.ts';
import { actorOf } from '../auth/principal.ts';
import { HttpProblem } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { callerRole } from './caller-role.ts';
import { tokenDto } from './dto.ts';
import { WorkspaceParams, withWorkspace } from './params.ts';

/* A workspace's API tokens: created with scopes no wider than their creator's, listed, revoked. */

const DAY = 86_400_000;

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

export const tokenRoutes = [
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
