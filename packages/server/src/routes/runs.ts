import { api, type ParleyEvent, reduceEvents, SSE_HEADERS, textOf } from '@parley/protocol';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf, startedByOf } from '../auth/principal.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute, type RouteContext } from '../http/route.ts';
import { flushHeadersSoon } from '../http/sse-headers.ts';
import { pipeRunEvents } from '../runs/event-stream.ts';
import type { LiveRun } from '../runs/live-run.ts';
import { hasEnded, lastStoredEvent } from '../runs/run-manager.ts';
import { runDto } from './dto.ts';
import {
  AgentRef,
  Before,
  BeforeId,
  Limit,
  RunParams,
  WorkspaceParams,
  withWorkspace,
} from './params.ts';

/** JSON when the client asks for it and not for SSE; SSE otherwise (the default). */
function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /application\/json/.test(accept) && !/text\/event-stream/.test(accept);
}

/** Last-Event-ID header (or ?after= for clients that cannot set headers): the last seq seen. */
function resumeFrom(request: FastifyRequest, after: number | undefined): number {
  const header = request.headers['last-event-id'];
  if (header === undefined) return after ?? 0;
  const value = Array.isArray(header) ? header[0] : header;
  if (!/^\d{1,9}$/.test(value ?? '')) {
    throw new HttpProblem(
      'request.invalid',
      'Last-Event-ID must be the seq of an event (a whole number).',
      {
        errors: [{ path: 'header.last-event-id', message: 'must be a non-negative integer' }],
      },
    );
  }
  return Number(value);
}

/** How another protocol encodes a run's events (routes/chat.ts, routes/a2a.ts). */
export interface StreamFormat {
  headers: Record<string, string>;
  encode: (event: ParleyEvent) => string;
}

/**
 * Streams a run's events as SSE from `afterSeq`, from memory or the stored log: Parley Stream
 * v1, or another protocol's encoding of it (`format`).
 */
export async function streamEvents(
  ctx: RouteContext<unknown, unknown, unknown>,
  runId: string,
  workspaceId: string,
  afterSeq: number,
  started?: LiveRun,
  format?: StreamFormat,
) {
  const { reply, services } = ctx;
  const source = {
    live: () => services.runs.get(runId) ?? started,
    stored: (seq: number) =>
      ctx
        .inWorkspace((ws) => ws.runs.listRunEvents(runId, { afterSeq: seq, limit: 500 }))
        // No row yet (the run executes on another instance): nothing stored; `ended` decides.
        .catch((error: unknown): ParleyEvent[] => {
          if ((error as { code?: string }).code === 'store.not_found') return [];
          throw error;
        }),
    ended: async () => {
      const ended = await ctx.inWorkspace(async (ws) => {
        const run = await ws.runs.get(runId);
        if (!run) return undefined;
        if (hasEnded(run)) return { last: await lastStoredEvent(ws, run) };
        // Left running by a server that stopped: close it, then the next read delivers the end.
        await services.runs.closeIfOrphaned(ws, run);
        return false;
      });
      if (ended !== undefined) return ended;
      // Not stored yet, executing on another instance: its events come over the bus.
      return (await services.runs.locate(runId)) === workspaceId ? false : { last: undefined };
    },
    carried: (seq: number) => services.runs.doorbell.peek(runId, seq),
    wait: (seq: number, closed: Promise<void>) => services.runs.doorbell.wait(runId, seq, closed),
  };
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...(format?.headers ?? SSE_HEADERS),
    'x-parley-run-id': runId,
    'x-parley-workspace-id': workspaceId,
    location: `/v1/runs/${runId}/events`,
  });
  flushHeadersSoon(raw);
  services.metrics.sseClients.inc();
  const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
  const leave = services.runs.doorbell.follow(runId);
  try {
    await pipeRunEvents(raw, source, {
      afterSeq,
      closed,
      ...(format ? { encode: format.encode } : {}),
    });
  } catch (error) {
    services.log.error({ err: error, runId }, 'event stream failed');
  } finally {
    leave();
    services.metrics.sseClients.dec();
    raw.end();
  }
  return undefined;
}

/** Waits for the run to end and answers with the reply as JSON. */
async function answerJson(ctx: RouteContext<unknown, unknown, unknown>, run: LiveRun) {
  while (!run.closed) await run.changed();
  const events = run.events;
  const state = reduceEvents(events);
  const terminal = events.at(-1)!;
  const row = await ctx.inWorkspace((ws) => ws.runs.get(run.id));
  if (!row) {
    // The run's rows could not be stored (the run was stopped: its terminal says why).
    const why = terminal.type === 'run.error' ? ` ${terminal.error.message}` : '';
    throw new HttpProblem('server.unavailable', `The run could not be stored.${why}`, {
      retryAfterMs: 5_000,
    });
  }
  const parts = state.parts.map((p) => ({ ...p }));
  return {
    run: runDto(row),
    conversationId: run.conversationId,
    text: textOf(state),
    parts,
    outcome: terminal.type as 'run.finish' | 'run.error' | 'run.abort',
  };
}

export const runRoutes = [
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/agents/:agent/runs',
    operationId: 'startRun',
    summary:
      'Run an agent: streams Parley Stream v1 over SSE (default), or waits and answers JSON with Accept: application/json.',
    description:
      'The SSE response carries x-parley-run-id; resume a dropped stream with GET /v1/runs/{runId}/events and Last-Event-ID. Closing the connection does not cancel the run: POST /v1/runs/{runId}/cancel does.',
    tag: 'runs',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: withWorkspace({ agent: AgentRef }),
    body: api.StartRunRequestSchema,
    sse: true,
    bodyLimit: 10 * 1024 * 1024,
    responses: { 200: api.RunResultSchema },
    handler: async (ctx) => {
      const run = await ctx.services.runs.start({
        workspaceId: ctx.grant().workspaceId,
        principal: ctx.principal,
        scope: ctx.scope,
        trace: ctx.request.trace,
        agent: ctx.params.agent,
        body: ctx.body,
      });
      if (wantsJson(ctx.request))
        return answerJson(ctx as RouteContext<unknown, unknown, unknown>, run);
      return streamEvents(
        ctx as RouteContext<unknown, unknown, unknown>,
        run.id,
        run.workspaceId,
        0,
        run,
      );
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/runs',
    operationId: 'listRuns',
    summary: 'Runs, newest first (filter by agent, conversation, status).',
    tag: 'runs',
    access: { kind: 'workspace', permission: 'runs:read' },
    params: WorkspaceParams,
    query: z.object({
      agentId: z.uuid().optional(),
      conversationId: z.uuid().optional(),
      /** The runs this run started (its child runs: docs/multi-agent.md). */
      parentRunId: z.uuid().optional(),
      status: z.enum(api.RUN_STATUS_NAMES).optional(),
      limit: Limit,
      before: Before,
      beforeId: BeforeId,
    }),
    responses: { 200: z.array(api.RunSchema) },
    handler: async (ctx) => {
      const q = ctx.query;
      const runs = await ctx.inWorkspace((ws) =>
        ws.runs.list({
          ...(q.agentId ? { agentId: q.agentId } : {}),
          ...(q.conversationId ? { conversationId: q.conversationId } : {}),
          ...(q.parentRunId ? { parentRunId: q.parentRunId } : {}),
          ...(q.status ? { status: q.status } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
          ...(q.before ? { before: new Date(q.before) } : {}),
          ...(q.beforeId ? { beforeId: q.beforeId } : {}),
        }),
      );
      return runs.map(runDto);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/runs/:runId',
    operationId: 'getRun',
    summary: 'A run: status, model, usage, timing, error.',
    tag: 'runs',
    access: { kind: 'run', permission: 'runs:read' },
    params: RunParams,
    responses: { 200: api.RunSchema },
    handler: async (ctx) => {
      const run = await ctx.inWorkspace(async (ws) => {
        const row = await ws.runs.get(ctx.params.runId);
        if (!row) throw notFound('Run');
        if (await ctx.services.runs.closeIfOrphaned(ws, row)) return ws.runs.get(row.id);
        return row;
      });
      return runDto(run!);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/runs/:runId/events',
    operationId: 'streamRunEvents',
    summary:
      'The run’s events as SSE: replays the stored log after Last-Event-ID (or ?after=), then follows the live run to its end.',
    tag: 'runs',
    access: { kind: 'run', permission: 'runs:read' },
    params: RunParams,
    query: z.object({ after: z.coerce.number().int().min(0).max(1_000_000_000).optional() }),
    sse: true,
    responses: { 200: z.string().describe('text/event-stream') },
    handler: async (ctx) => {
      const afterSeq = resumeFrom(ctx.request, ctx.query.after);
      const live = ctx.services.runs.get(ctx.params.runId);
      const row = live ? undefined : await ctx.inWorkspace((ws) => ws.runs.get(ctx.params.runId));
      // A run whose row is not stored yet may execute on another instance (it said so when
      // the request was authorised): followed from the bus until its log has it.
      if (
        !live &&
        !row &&
        (await ctx.services.runs.locate(ctx.params.runId)) !== ctx.grant().workspaceId
      )
        throw notFound('Run');
      // A client cannot have seen past an ended run's last seq (a crash's lost events lie in
      // the run.gap before it): say so instead of streaming nothing.
      if (row && hasEnded(row) && afterSeq > row.lastSeq)
        throw new HttpProblem(
          'run.resume_beyond_log',
          `Last-Event-ID ${afterSeq} is past the end of run ${row.id}, whose log ends at seq ${row.lastSeq}: read the run again from the start (Last-Event-ID 0) to show what it kept.`,
        );
      return streamEvents(
        ctx as RouteContext<unknown, unknown, unknown>,
        ctx.params.runId,
        ctx.grant().workspaceId,
        afterSeq,
      );
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/runs/:runId/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a run: it ends with run.abort (reason cancelled) and keeps what it produced.',
    tag: 'runs',
    access: { kind: 'run', permission: 'runs:cancel' },
    params: RunParams,
    responses: { 200: api.CancelResponseSchema },
    handler: async (ctx) => {
      const result = await ctx.services.runs.cancel(
        ctx.grant().workspaceId,
        ctx.params.runId,
        startedByOf(ctx.principal),
        { actor: actorOf(ctx.principal), ip: ctx.request.ip, requestId: ctx.request.id },
      );
      if (result.cancelled) {
        await ctx.inWorkspace((ws) =>
          ws.audit.record({
            action: 'run.cancel',
            targetType: 'run',
            targetId: ctx.params.runId,
            runId: ctx.params.runId,
          }),
        );
      }
      return { runId: ctx.params.runId, ...result };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/runs/:runId/approvals/:callId',
    operationId: 'decideApproval',
    summary: 'Approve or deny a tool call the run is waiting on (tool.approval_requested).',
    tag: 'runs',
    access: { kind: 'run', permission: 'runs:create' },
    params: RunParams.extend({ callId: z.string().min(1).max(200) }),
    body: api.ApprovalRequestSchema,
    responses: { 200: api.ApprovalResponseSchema },
    handler: async (ctx) => {
      const { runId, callId } = ctx.params;
      const workspaceId = ctx.grant().workspaceId;
      if (!(await ctx.services.runs.decide(workspaceId, runId, callId, ctx.body.decision))) {
        const run =
          ctx.services.runs.get(runId) ?? (await ctx.inWorkspace((ws) => ws.runs.get(runId)));
        const ended = run && ('closed' in run ? run.closed : hasEnded(run));
        if (ended)
          throw new HttpProblem(
            'run.not_running',
            'The run has ended; nothing waits for approval.',
          );
        throw new HttpProblem(
          'run.approval_not_pending',
          `No approval is waiting for tool call ${callId}.`,
        );
      }
      await ctx.inWorkspace((ws) =>
        ws.audit.record({
          action: `tool.${ctx.body.decision === 'approved' ? 'approve' : 'deny'}`,
          targetType: 'tool_call',
          targetId: callId,
          runId,
        }),
      );
      return { toolCallId: callId, decision: ctx.body.decision };
    },
  }),
];
