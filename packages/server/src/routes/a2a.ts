import type { ParleyEvent } from '@parley/protocol';
import type { Agent } from '@parley/store';
import { z } from 'zod';
import { startedByOf } from '../auth/principal.ts';
import {
  A2AError,
  type A2AVersion,
  a2aWire,
  agentCard,
  errorResponse,
  factsOfEvents,
  inputText,
  type JsonRpcId,
  stateOfEvents,
  stateOfStatus,
  type TaskFacts,
} from '../clients/a2a.ts';
import { conversationIdFor } from '../clients/conversation-id.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute, type RouteContext } from '../http/route.ts';
import { isUuid } from '../http/uuid.ts';
import { findAgent, hasEnded } from '../runs/run-manager.ts';
import { AgentRef, withWorkspace } from './params.ts';
import { streamEvents } from './runs.ts';

type Ctx = RouteContext<unknown, unknown, unknown>;

const A2AParams = withWorkspace({ agent: AgentRef });

/** One JSON-RPC request (A2A over JSON-RPC 2.0 posts one per HTTP request). */
const JsonRpcRequest = z.looseObject({});

/** Every method, by name, with the wire version its name belongs to. */
const METHODS: Record<string, { version: A2AVersion; op: string }> = {
  SendMessage: { version: '1.0', op: 'send' },
  SendStreamingMessage: { version: '1.0', op: 'stream' },
  GetTask: { version: '1.0', op: 'get' },
  CancelTask: { version: '1.0', op: 'cancel' },
  SubscribeToTask: { version: '1.0', op: 'subscribe' },
  ListTasks: { version: '1.0', op: 'unsupported' },
  GetExtendedAgentCard: { version: '1.0', op: 'unsupported' },
  CreateTaskPushNotificationConfig: { version: '1.0', op: 'push' },
  GetTaskPushNotificationConfig: { version: '1.0', op: 'push' },
  ListTaskPushNotificationConfigs: { version: '1.0', op: 'push' },
  DeleteTaskPushNotificationConfig: { version: '1.0', op: 'push' },
  'message/send': { version: '0.3', op: 'send' },
  'message/stream': { version: '0.3', op: 'stream' },
  'tasks/get': { version: '0.3', op: 'get' },
  'tasks/cancel': { version: '0.3', op: 'cancel' },
  'tasks/resubscribe': { version: '0.3', op: 'subscribe' },
  'tasks/pushNotificationConfig/set': { version: '0.3', op: 'push' },
  'tasks/pushNotificationConfig/get': { version: '0.3', op: 'push' },
  'tasks/pushNotificationConfig/list': { version: '0.3', op: 'push' },
  'tasks/pushNotificationConfig/delete': { version: '0.3', op: 'push' },
  'agent/getAuthenticatedExtendedCard': { version: '0.3', op: 'unsupported' },
};

const SSE = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

async function agentOf(ctx: Ctx, ref: string): Promise<Agent> {
  const agent = await ctx.inWorkspace((ws) => findAgent(ws, ref));
  if (!agent || agent.archivedAt) throw notFound('Agent');
  return agent;
}

/**
 * The conversation a message continues: its contextId when Parley issued it (a conversation
 * of this agent), the conversation a contextId the client chose maps to, or its taskId's.
 */
async function conversationOf(
  ctx: Ctx,
  agent: Agent,
  message: Record<string, unknown>,
): Promise<{ id: string; exists: boolean } | undefined> {
  const contextId = message.contextId;
  const taskId = message.taskId;
  return ctx.inWorkspace(async (ws) => {
    if (typeof contextId === 'string' && contextId !== '') {
      if (isUuid(contextId)) {
        const issued = await ws.conversations.get(contextId);
        if (issued?.agentId === agent.id) return { id: issued.id, exists: true };
      }
      const id = conversationIdFor({
        kind: 'a2a',
        workspaceId: ctx.grant().workspaceId,
        agentId: agent.id,
        principal: ctx.principal,
        clientId: contextId.slice(0, 500),
      });
      return { id, exists: (await ws.conversations.get(id)) !== null };
    }
    if (isUuid(taskId)) {
      const run = await ws.runs.get(taskId);
      if (!run || run.agentId !== agent.id) throw new A2AError('taskNotFound');
      if (run.conversationId) return { id: run.conversationId, exists: true };
    }
    return undefined;
  });
}

/** A task (run) of this agent, live here or stored: its facts, or TaskNotFound. */
async function findTask(ctx: Ctx, agent: Agent, id: unknown, historyLength?: number) {
  if (!isUuid(id)) throw new A2AError('taskNotFound');
  const workspaceId = ctx.grant().workspaceId;
  const live = ctx.services.runs.get(id);
  if (live && live.workspaceId === workspaceId && live.agentId === agent.id) {
    const events = live.visibleAfter(live.offset, Number.MAX_SAFE_INTEGER);
    const facts = factsOfEvents(id, live.conversationId, events, stateOfEvents(events));
    return { facts: withHistory(facts, historyLength), ended: live.closed };
  }
  return ctx.inWorkspace(async (ws) => {
    const row = await ws.runs.get(id);
    if (!row || row.agentId !== agent.id) throw new A2AError('taskNotFound');
    const events: ParleyEvent[] = [];
    for (;;) {
      const page = await ws.runs.listRunEvents(id, {
        afterSeq: events.at(-1)?.seq ?? 0,
        limit: 500,
      });
      events.push(...page);
      if (page.length < 500) break;
    }
    const facts = factsOfEvents(id, row.conversationId ?? '', events, stateOfStatus(row.status));
    return {
      facts: withHistory({ ...facts, timestamp: row.updatedAt.toISOString() }, historyLength),
      ended: hasEnded(row),
    };
  });
}

const withHistory = (facts: TaskFacts, historyLength: number | undefined): TaskFacts =>
  historyLength === undefined ? facts : { ...facts, historyLength };

function historyLengthOf(params: Record<string, unknown>): number | undefined {
  const configuration = params.configuration as Record<string, unknown> | undefined;
  const value = params.historyLength ?? configuration?.historyLength;
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

async function handle(ctx: Ctx, agentRef: string) {
  const body = ctx.body as Record<string, unknown>;
  const id: JsonRpcId = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : null;
  const method = typeof body.method === 'string' ? METHODS[body.method] : undefined;
  const version: A2AVersion = method?.version ?? '1.0';
  const answer = (result: unknown) => ({ jsonrpc: '2.0' as const, id, result });
  try {
    if (body.jsonrpc !== '2.0' || typeof body.method !== 'string')
      throw new A2AError('invalidRequest', 'Not a JSON-RPC 2.0 request.');
    if (!method) throw new A2AError('methodNotFound', `There is no method ${body.method}.`);
    const params = (body.params && typeof body.params === 'object' ? body.params : {}) as Record<
      string,
      unknown
    >;
    const wire = a2aWire(version);
    // Sending without a contextId or taskId needs no lookup before the run (it finds the
    // agent itself, cached): nothing stands between the request and the model call.
    let found: Promise<Agent> | undefined;
    const agent = () => {
      found ??= agentOf(ctx, agentRef);
      return found;
    };
    switch (method.op) {
      case 'push':
        await agent();
        throw new A2AError('pushNotSupported');
      case 'unsupported':
        await agent();
        throw new A2AError('unsupported', `${body.method} is not supported by Parley.`);
      case 'get': {
        const { facts } = await findTask(ctx, await agent(), params.id, historyLengthOf(params));
        return answer(wire.task(facts));
      }
      case 'cancel': {
        const task = await findTask(ctx, await agent(), params.id);
        if (task.ended)
          throw new A2AError('taskNotCancelable', `Task ${String(params.id)} has ended.`);
        const runId = String(params.id);
        const workspaceId = ctx.grant().workspaceId;
        const result = await ctx.services.runs.cancel(
          workspaceId,
          runId,
          startedByOf(ctx.principal),
          ctx.scope,
        );
        if (result.cancelled)
          await ctx.inWorkspace((ws) =>
            ws.audit.record({ action: 'run.cancel', targetType: 'run', targetId: runId, runId }),
          );
        else if (result.status !== 'running')
          throw new A2AError('taskNotCancelable', `Task ${runId} has ended.`);
        return answer(wire.task((await findTask(ctx, await agent(), runId)).facts));
      }
      case 'subscribe': {
        const task = await findTask(ctx, await agent(), params.id);
        if (task.ended)
          throw new A2AError('unsupported', `Task ${String(params.id)} has ended: get it instead.`);
        const runId = String(params.id);
        const encode = wire.streamEncoder(id, { runId, contextId: task.facts.contextId });
        return streamEvents(ctx, runId, ctx.grant().workspaceId, 0, undefined, {
          headers: SSE,
          encode,
        });
      }
      default:
        // Awaited here: a refusal before the stream starts is a JSON-RPC error too.
        return await send(ctx, agentRef, agent, method.op === 'stream', params, wire, id, answer);
    }
  } catch (error) {
    if (error instanceof A2AError) return errorResponse(id, error, version);
    // Refused before the run started (a missing key, a plugin, a busy server): the API's
    // problem, as a JSON-RPC internal error with its code.
    if (error instanceof HttpProblem && error.status !== 404 && error.status < 500) {
      const failure = errorResponse(id, new A2AError('internal', error.message), version);
      return { ...failure, error: { ...failure.error, data: { parleyCode: error.code } } };
    }
    throw error;
  }
}

async function send(
  ctx: Ctx,
  agentRef: string,
  agent: () => Promise<Agent>,
  streaming: boolean,
  params: Record<string, unknown>,
  wire: ReturnType<typeof a2aWire>,
  id: JsonRpcId,
  answer: (result: unknown) => unknown,
) {
  const message = params.message as Record<string, unknown> | undefined;
  if (!message || typeof message !== 'object')
    throw new A2AError('invalidParams', 'params.message is required.');
  const text = inputText(message);
  if (!text) throw new A2AError('invalidParams', 'The message has no text part.');
  if (text.length > 100_000)
    throw new A2AError('invalidParams', 'The message is longer than 100,000 characters.');
  const continues =
    (typeof message.contextId === 'string' && message.contextId !== '') || isUuid(message.taskId);
  const conversation = continues ? await conversationOf(ctx, await agent(), message) : undefined;
  const run = await ctx.services.runs.start({
    workspaceId: ctx.grant().workspaceId,
    principal: ctx.principal,
    scope: ctx.scope,
    trace: ctx.request.trace,
    agent: continues ? (await agent()).id : agentRef,
    body: { input: text, ...(conversation?.exists ? { conversationId: conversation.id } : {}) },
    ...(conversation && !conversation.exists
      ? { clientConversation: { idFor: () => conversation.id, fresh: true } }
      : {}),
  });
  const facts = { runId: run.id, contextId: run.conversationId, userMessage: message };
  if (streaming)
    return streamEvents(ctx, run.id, run.workspaceId, 0, run, {
      headers: SSE,
      encode: wire.streamEncoder(id, facts),
    });
  const configuration = (params.configuration ?? {}) as Record<string, unknown>;
  const immediately = configuration.returnImmediately === true || configuration.blocking === false;
  if (!immediately) while (!run.closed) await run.changed();
  const events = run.events;
  const state = immediately && !run.closed ? 'working' : stateOfEvents(events);
  return answer(
    wire.sendResult({
      ...factsOfEvents(run.id, run.conversationId, events, state),
      userMessage: message,
      ...(historyLengthOf(params) !== undefined ? { historyLength: historyLengthOf(params)! } : {}),
    }),
  );
}

export const a2aRoutes = [
  defineRoute({
    method: 'GET',
    url: '/a2a/:workspaceId/:agent/.well-known/agent-card.json',
    operationId: 'a2aAgentCard',
    summary:
      'The agent’s A2A agent card (A2A 1.0; also lists a 0.3 interface): its JSON-RPC URL, bearer auth, streaming.',
    tag: 'runs',
    access: { kind: 'workspace', permission: 'agents:read' },
    params: A2AParams,
    responses: { 200: z.looseObject({ name: z.string() }) },
    handler: async (ctx) => {
      const plain = ctx as Ctx;
      const agent = await agentOf(plain, ctx.params.agent);
      const base = `${ctx.request.protocol}://${ctx.request.host}`;
      return agentCard({
        name: agent.name,
        description: agent.description,
        url: `${base}/a2a/${ctx.params.workspaceId}/${encodeURIComponent(agent.name)}`,
        version: agent.currentVersion ? String(agent.currentVersion) : 'draft',
        documentationUrl: `${base}/v1/openapi.json`,
      });
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/a2a/:workspaceId/:agent',
    operationId: 'a2aJsonRpc',
    summary:
      'The agent as an A2A server (JSON-RPC 2.0): SendMessage / message/send, SendStreamingMessage / message/stream (SSE), GetTask / tasks/get, CancelTask / tasks/cancel, SubscribeToTask / tasks/resubscribe.',
    description:
      'A task is a run, its contextId the run’s conversation. Errors inside a request are JSON-RPC errors (TaskNotFound -32001, TaskNotCancelable -32002, …) with HTTP 200; authentication and authorization answer problem+json like every route. See docs/clients.md.',
    tag: 'runs',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: A2AParams,
    body: JsonRpcRequest,
    sse: true,
    bodyLimit: 10 * 1024 * 1024,
    responses: { 200: z.looseObject({ jsonrpc: z.literal('2.0') }) },
    handler: async (ctx) => handle(ctx as Ctx, ctx.params.agent),
  }),
];
