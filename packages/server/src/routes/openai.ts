import type { ServerResponse } from 'node:http';
import { isTerminalEvent, type ParleyEvent } from '@parley/protocol';
import { z } from 'zod';
import {
  type CompletionHead,
  completionOf,
  createChunkEncoder,
} from '../clients/openai/chat-chunks.ts';
import {
  type ChatCompletionRequest,
  ChatCompletionRequestSchema,
  modelNotFound,
  parseModel,
  toClientTools,
  toRunParts,
} from '../clients/openai/chat-request.ts';
import { HttpProblem } from '../http/problem.ts';
import { defineRoute, type RouteContext } from '../http/route.ts';
import { flushHeadersSoon } from '../http/sse-headers.ts';
import type { LiveRun } from '../runs/live-run.ts';

/*
 * OpenAI Chat Completions, served from the same runs as everything else: base URL
 * `{server}/openai/v1`, the API key a Parley token (its workspace the workspace), `model` an
 * agent's name. Each completion is a Parley run: stored, audited, metered, in the runs list.
 * Errors are OpenAI's error body (http/problem.ts renders them for these paths).
 */

const ModelObject = z.looseObject({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
});
const ModelList = z.looseObject({ object: z.literal('list'), data: z.array(ModelObject) });
const Completion = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  choices: z.array(z.looseObject({})),
});

const modelOf = (agent: { name: string; createdAt: Date }) => ({
  id: agent.name,
  object: 'model' as const,
  created: Math.floor(agent.createdAt.getTime() / 1000),
  owned_by: 'parley',
});

/** Yields a live run's events in order as they become visible, until its terminal. */
async function* follow(run: LiveRun): AsyncGenerator<ParleyEvent> {
  let seq = run.offset;
  for (;;) {
    const batch = run.visibleAfter(seq);
    for (const event of batch) {
      seq = event.seq;
      yield event;
      if (isTerminalEvent(event)) return;
    }
    if (batch.length > 0) continue;
    if (run.closed) return;
    await run.changed();
  }
}

/** Resolves when the socket takes writes again, or is gone. */
function drained(raw: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}

/** Starts the run a completion asks for; an unknown agent or version is OpenAI's model_not_found. */
async function startRun(
  ctx: RouteContext<unknown, unknown, ChatCompletionRequest>,
  request: ChatCompletionRequest,
) {
  const { agent, version } = parseModel(request.model);
  const parts = toRunParts(request.messages);
  const tools = toClientTools(request);
  try {
    return await ctx.services.runs.start({
      workspaceId: ctx.grant().workspaceId,
      principal: ctx.principal,
      scope: ctx.scope,
      trace: ctx.request.trace,
      agent,
      body: {
        input: parts.input,
        ...(version !== undefined ? { version } : {}),
        ...(request.user ? { userId: request.user } : {}),
      },
      given: { history: parts.history, after: parts.after, tools },
    });
  } catch (error) {
    if (error instanceof HttpProblem && error.code === 'resource.not_found')
      throw new HttpProblem('resource.not_found', modelNotFound(request.model));
    throw error;
  }
}

/** Streams the run as `chat.completion.chunk` frames, then `data: [DONE]`. */
async function streamCompletion(
  ctx: RouteContext<unknown, unknown, ChatCompletionRequest>,
  run: LiveRun,
  head: CompletionHead,
  clientTools: ReadonlySet<string>,
) {
  const encoder = createChunkEncoder(head, {
    clientTools,
    includeUsage: ctx.body.stream_options?.include_usage === true,
  });
  ctx.reply.hijack();
  const raw = ctx.reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-parley-run-id': run.id,
  });
  flushHeadersSoon(raw);
  ctx.services.metrics.sseClients.inc();
  let gone = false;
  // Nobody can pick a stateless completion up again: a caller that hangs up cancels its run.
  raw.once('close', () => {
    gone = true;
    if (!run.closed) run.controller.abort({ reason: 'cancelled', by: 'client' });
  });
  try {
    let ended = false;
    for await (const event of follow(run)) {
      if (gone) break;
      ended = isTerminalEvent(event);
      let text = '';
      for (const frame of encoder.push(event)) text += `data: ${JSON.stringify(frame)}\n\n`;
      if (event.type === 'run.finish') text += 'data: [DONE]\n\n';
      if (text && !raw.write(text)) await drained(raw);
    }
    // Handed over to another instance (this one is stopping): this stream cannot follow it.
    if (!ended && !gone)
      raw.write(
        `data: ${JSON.stringify({ error: { message: `The run ${run.id} moved to another server instance before it ended; its outcome is at GET /v1/runs/${run.id}.`, type: 'server_error', param: null, code: 'run_handed_over' } })}\n\n`,
      );
  } catch (error) {
    ctx.services.log.error({ err: error, runId: run.id }, 'chat completion stream failed');
  } finally {
    ctx.services.metrics.sseClients.dec();
    raw.end();
  }
}

export const openAiRoutes = [
  defineRoute({
    method: 'GET',
    url: '/openai/v1/models',
    operationId: 'openaiListModels',
    summary: "OpenAI's model list: the token workspace's agents, each a model named as the agent.",
    tag: 'openai',
    access: { kind: 'token', permission: 'agents:read' },
    responses: { 200: ModelList },
    handler: async (ctx) => {
      const agents = await ctx.inWorkspace((ws) => ws.agents.list({ limit: 500 }));
      return {
        object: 'list' as const,
        data: agents.filter((agent) => !agent.archivedAt).map(modelOf),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/openai/v1/models/:model',
    operationId: 'openaiGetModel',
    summary: 'One agent as an OpenAI model object.',
    tag: 'openai',
    access: { kind: 'token', permission: 'agents:read' },
    params: z.object({ model: z.string().min(1).max(300) }),
    responses: { 200: ModelObject },
    handler: async (ctx) => {
      const { agent: name } = parseModel(ctx.params.model);
      const agent = await ctx.inWorkspace((ws) => ws.agents.getByName(name));
      if (!agent || agent.archivedAt)
        throw new HttpProblem('resource.not_found', modelNotFound(ctx.params.model));
      return { ...modelOf(agent), id: ctx.params.model };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/openai/v1/chat/completions',
    operationId: 'openaiChatCompletions',
    summary:
      'OpenAI Chat Completions: runs the agent named by `model` on the messages sent, streamed (`stream: true`, chunks then `data: [DONE]`) or as one `chat.completion`.',
    description:
      'Stateless, as OpenAI clients expect: the last user message is the input, the messages before it the history, those after it the results of the caller’s own tools. `tools` are offered to the model and come back as `tool_calls` (finish_reason `tool_calls`) for the caller to run; the agent’s own tools run here. `user` is the end user. Each completion is a Parley run (header x-parley-run-id).',
    tag: 'openai',
    access: { kind: 'token', permission: 'runs:create' },
    body: ChatCompletionRequestSchema,
    bodyLimit: 20 * 1024 * 1024,
    sse: true,
    responses: { 200: Completion },
    handler: async (ctx) => {
      const request = ctx.body;
      const run = await startRun(ctx, request);
      const head: CompletionHead = {
        id: `chatcmpl-${run.id}`,
        created: Math.floor(Date.now() / 1000),
        model: request.model,
      };
      const clientTools = new Set(toClientTools(request).map((tool) => tool.name));
      if (request.stream) {
        await streamCompletion(ctx, run, head, clientTools);
        return undefined;
      }
      // A caller that hangs up before the answer is complete cancels its run.
      const cancel = () => {
        if (!run.closed) run.controller.abort({ reason: 'cancelled', by: 'client' });
      };
      const response = ctx.reply.raw;
      response.once('close', () => {
        if (!response.writableFinished) cancel();
      });
      while (!run.closed) await run.changed();
      ctx.reply.header('x-parley-run-id', run.id);
      return completionOf(head, run.events, clientTools);
    },
  }),
];
