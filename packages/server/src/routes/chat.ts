import type { api } from '@parley/protocol';
import { z } from 'zod';
import { conversationIdFor } from '../clients/conversation-id.ts';
import { createUIMessageMapper, UI_MESSAGE_STREAM_HEADERS } from '../clients/ui-message-stream.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute, type RouteContext } from '../http/route.ts';
import { findAgent } from '../runs/run-manager.ts';
import { AgentRef, withWorkspace } from './params.ts';
import { streamEvents } from './runs.ts';

/**
 * A part of a UI message (`UIMessagePart` in `ai`): Parley reads text and image files, of the
 * last user message only (so earlier answers, however long, are not refused: the body limit
 * bounds them).
 */
const UIMessagePart = z.looseObject({
  type: z.string().max(200),
  text: z.string().optional(),
  mediaType: z.string().optional(),
  url: z.string().optional(),
});

/** A UI message (`UIMessage` in `ai`). */
const UIMessage = z.looseObject({
  id: z.string().max(200).optional(),
  role: z.enum(['system', 'user', 'assistant']),
  parts: z.array(UIMessagePart).max(1_000),
});

/**
 * What `DefaultChatTransport` posts: the chat id, its messages, what triggered the request;
 * plus the fields a client adds with the transport's `body` option that Parley reads.
 */
const ChatRequest = z.looseObject({
  id: z.string().min(1).max(200),
  messages: z.array(UIMessage).min(1).max(10_000),
  trigger: z.enum(['submit-message', 'regenerate-message']).optional(),
  messageId: z.string().max(200).optional(),
  /** The end user the chat serves (user-scoped memory), as the app names them. */
  userId: z.string().min(1).max(200).optional(),
  /** Which definition runs: a version number, or "draft" (default: the deployed one). */
  version: z.union([z.number().int().positive(), z.literal('draft')]).optional(),
});
type ChatRequest = z.infer<typeof ChatRequest>;

const ChatParams = withWorkspace({ agent: AgentRef });
const ChatStreamParams = withWorkspace({ agent: AgentRef, chatId: z.string().min(1).max(200) });

/**
 * The run's input: the last user message's text and images. The conversation holds the
 * history (Parley keeps it), so earlier messages are not sent to the model again.
 */
function inputOf(request: ChatRequest): api.StartRunRequest['input'] {
  const last = request.messages.findLast((m) => m.role === 'user');
  const parts: Exclude<api.StartRunRequest['input'], string> = [];
  for (const part of last?.parts ?? []) {
    if (part.type === 'text' && part.text) parts.push({ type: 'text', text: part.text });
    else if (part.type === 'file' && part.url && part.mediaType?.startsWith('image/'))
      parts.push({ type: 'image', mediaType: part.mediaType, url: part.url });
  }
  const refuse = (message: string) =>
    new HttpProblem('request.invalid', `The last user message ${message}.`, {
      errors: [{ path: 'body.messages', message }],
    });
  if (parts.length === 0) throw refuse('has no text (or image)');
  if (parts.length > 20) throw refuse('has more than 20 parts');
  for (const part of parts) {
    if (part.type === 'text' && part.text.length > 100_000)
      throw refuse('has a text part longer than 100,000 characters');
    if (part.type === 'image' && (part.url.length > 8_000_000 || part.mediaType.length > 100))
      throw refuse('has an image larger than 8 MB');
  }
  return parts.length === 1 && parts[0]!.type === 'text' ? parts[0]!.text : parts;
}

/** The agent and the conversation a chat id names (for this caller). */
async function chatOf(
  ctx: RouteContext<unknown, unknown, unknown>,
  agentRef: string,
  chatId: string,
  endUserId: string | undefined,
) {
  const workspaceId = ctx.grant().workspaceId;
  return ctx.inWorkspace(async (ws) => {
    const agent = await findAgent(ws, agentRef);
    if (!agent || agent.archivedAt) throw notFound('Agent');
    const conversationId = conversationIdFor({
      kind: 'chat',
      workspaceId,
      agentId: agent.id,
      principal: ctx.principal,
      ...(endUserId ? { endUserId } : {}),
      clientId: chatId,
    });
    const conversation = await ws.conversations.get(conversationId);
    return { agent, conversationId, exists: conversation !== null };
  });
}

function uiStream() {
  const mapper = createUIMessageMapper();
  return { headers: { ...UI_MESSAGE_STREAM_HEADERS }, encode: mapper.encode };
}

export const chatRoutes = [
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/agents/:agent/chat',
    operationId: 'agentChat',
    summary:
      'The agent for the AI SDK’s useChat: takes what DefaultChatTransport posts, answers the UI message stream (v1).',
    description:
      'The chat id names one conversation per caller (and userId), continued by every request of that chat; each request is a run. Closing the connection does not cancel the run (POST /v1/runs/{runId}/cancel does; the run id is the message id and in its metadata). See docs/clients.md.',
    tag: 'runs',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: ChatParams,
    body: ChatRequest,
    sse: true,
    bodyLimit: 10 * 1024 * 1024,
    responses: { 200: z.string().describe('text/event-stream (AI SDK UI message stream v1)') },
    handler: async (ctx) => {
      const plain = ctx as RouteContext<unknown, unknown, unknown>;
      const input = inputOf(ctx.body);
      const workspaceId = ctx.grant().workspaceId;
      const endUserId = ctx.body.userId;
      const run = await ctx.services.runs.start({
        workspaceId: ctx.grant().workspaceId,
        principal: ctx.principal,
        scope: ctx.scope,
        trace: ctx.request.trace,
        // The agent by its reference (the run manager's cache resolves it); the chat's
        // conversation is continued or created in the run's first write: nothing is read first.
        agent: ctx.params.agent,
        body: {
          input,
          ...(ctx.body.userId ? { userId: ctx.body.userId } : {}),
          ...(ctx.body.version !== undefined ? { version: ctx.body.version } : {}),
        },
        clientConversation: {
          idFor: (agentId) =>
            conversationIdFor({
              kind: 'chat',
              workspaceId,
              agentId,
              principal: ctx.principal,
              ...(endUserId ? { endUserId } : {}),
              clientId: ctx.body.id,
            }),
          // A chat whose only message is this one has no history to read.
          fresh: ctx.body.messages.filter((m) => m.role !== 'system').length <= 1,
        },
      });
      return streamEvents(plain, run.id, run.workspaceId, 0, run, uiStream());
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/agents/:agent/chat/:chatId/stream',
    operationId: 'resumeAgentChat',
    summary:
      'Resumes the chat’s active stream (useChat’s resume): the running run replayed from its start and followed to its end; 204 when none runs.',
    tag: 'runs',
    access: { kind: 'workspace', permission: 'runs:read' },
    params: ChatStreamParams,
    query: z.object({ userId: z.string().min(1).max(200).optional() }),
    sse: true,
    responses: {
      200: z.string().describe('text/event-stream (AI SDK UI message stream v1)'),
      204: null,
    },
    handler: async (ctx) => {
      const plain = ctx as RouteContext<unknown, unknown, unknown>;
      const workspaceId = ctx.grant().workspaceId;
      const chat = await chatOf(plain, ctx.params.agent, ctx.params.chatId, ctx.query.userId);
      const live = ctx.services.runs.activeIn(workspaceId, chat.conversationId);
      const runId =
        live?.id ??
        (chat.exists
          ? (
              await ctx.inWorkspace((ws) =>
                ws.runs.list({ conversationId: chat.conversationId, status: 'running', limit: 1 }),
              )
            )[0]?.id
          : undefined);
      if (!runId) {
        ctx.reply.code(204);
        return undefined;
      }
      return streamEvents(plain, runId, workspaceId, 0, live, uiStream());
    },
  }),
];
