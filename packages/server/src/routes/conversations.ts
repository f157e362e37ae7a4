import { api } from '@parley/protocol';
import { z } from 'zod';
import { userIdOf } from '../auth/principal.ts';
import { notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { conversationDto, messageDto } from './dto.ts';
import { Before, BeforeId, Limit, WorkspaceParams, withWorkspace } from './params.ts';

const ConversationParams = withWorkspace({ conversationId: z.uuid() });

export const conversationRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/conversations',
    operationId: 'listConversations',
    summary: 'Conversations, newest first (filter by agent).',
    tag: 'conversations',
    access: { kind: 'workspace', permission: 'runs:read' },
    params: WorkspaceParams,
    query: z.object({
      agentId: z.uuid().optional(),
      limit: Limit,
      before: Before,
      beforeId: BeforeId,
    }),
    responses: { 200: z.array(api.ConversationSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace((ws) =>
          ws.conversations.list({
            ...(ctx.query.agentId ? { agentId: ctx.query.agentId } : {}),
            ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
            ...(ctx.query.before ? { before: new Date(ctx.query.before) } : {}),
            ...(ctx.query.beforeId ? { beforeId: ctx.query.beforeId } : {}),
          }),
        )
      ).map(conversationDto),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/conversations',
    operationId: 'createConversation',
    summary: 'Start an empty conversation with an agent.',
    tag: 'conversations',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: WorkspaceParams,
    body: api.CreateConversationRequestSchema,
    responses: { 201: api.ConversationSchema },
    handler: async (ctx) => {
      const createdBy = userIdOf(ctx.principal);
      return conversationDto(
        await ctx.inWorkspace(async (ws) => {
          if (!(await ws.agents.get(ctx.body.agentId))) throw notFound('Agent');
          return ws.conversations.create({
            agentId: ctx.body.agentId,
            ...(ctx.body.title ? { title: ctx.body.title } : {}),
            ...(createdBy ? { createdBy } : {}),
          });
        }),
      );
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/conversations/:conversationId',
    operationId: 'getConversation',
    summary: 'A conversation.',
    tag: 'conversations',
    access: { kind: 'workspace', permission: 'runs:read' },
    params: ConversationParams,
    responses: { 200: api.ConversationSchema },
    handler: async (ctx) => {
      const conversation = await ctx.inWorkspace((ws) =>
        ws.conversations.get(ctx.params.conversationId),
      );
      if (!conversation) throw notFound('Conversation');
      return conversationDto(conversation);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/conversations/:conversationId/messages',
    operationId: 'listMessages',
    summary: 'Messages in order (the last N with last=N).',
    tag: 'conversations',
    access: { kind: 'workspace', permission: 'runs:read' },
    params: ConversationParams,
    query: z.object({
      afterPosition: z.coerce.number().int().min(0).optional(),
      last: z.coerce.number().int().min(1).max(200).optional(),
      limit: z.coerce.number().int().min(1).max(200).optional(),
    }),
    responses: { 200: z.array(api.MessageSchema) },
    handler: async (ctx) => {
      const messages = await ctx.inWorkspace(async (ws) => {
        if (!(await ws.conversations.get(ctx.params.conversationId)))
          throw notFound('Conversation');
        return ws.messages.list(ctx.params.conversationId, {
          ...(ctx.query.afterPosition !== undefined
            ? { afterPosition: ctx.query.afterPosition }
            : {}),
          ...(ctx.query.last ? { last: ctx.query.last } : {}),
          ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
        });
      });
      return messages.map(messageDto);
    },
  }),
];
