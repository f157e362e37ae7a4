import { api } from '@parley/protocol';
import { z } from 'zod';
import { notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { secretDto } from './dto.ts';
import { WorkspaceParams, withWorkspace } from './params.ts';

const SecretParams = withWorkspace({ name: api.SecretNameSchema });

/** Write-only secrets: values go in, names and last four characters come out. */
export const secretRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/secrets',
    operationId: 'listSecrets',
    summary: 'Secret names, last 4 characters and dates; never values.',
    tag: 'secrets',
    access: { kind: 'workspace', permission: 'secrets:read' },
    params: WorkspaceParams,
    responses: { 200: z.array(api.SecretInfoSchema) },
    handler: async (ctx) => (await ctx.inWorkspace((ws) => ws.secrets.list())).map(secretDto),
  }),
  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/secrets/:name',
    operationId: 'putSecret',
    summary: 'Create or replace a secret (encrypted at rest; the value is never shown again).',
    tag: 'secrets',
    access: { kind: 'workspace', permission: 'secrets:write' },
    params: SecretParams,
    body: api.PutSecretRequestSchema,
    responses: { 200: api.SecretInfoSchema, 201: api.SecretInfoSchema },
    handler: async (ctx) => {
      const { created, info } = await ctx.inWorkspace(async (ws) => {
        const existed = (await ws.secrets.get(ctx.params.name)) !== null;
        return { created: !existed, info: await ws.secrets.put(ctx.params.name, ctx.body.value) };
      });
      if (created) ctx.reply.code(201);
      return secretDto(info);
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId/secrets/:name',
    operationId: 'deleteSecret',
    summary: 'Delete a secret.',
    tag: 'secrets',
    access: { kind: 'workspace', permission: 'secrets:write' },
    params: SecretParams,
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace(async (ws) => {
        if (!(await ws.secrets.get(ctx.params.name))) throw notFound('Secret');
        await ws.secrets.delete(ctx.params.name);
      });
    },
  }),
];
