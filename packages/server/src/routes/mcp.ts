import { createAgentMcpServer } from '@parley/mcp';
import { reduceEvents, textOf } from '@parley/protocol';
import { z } from 'zod';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { findAgent } from '../runs/run-manager.ts';
import { AgentRef, withWorkspace } from './params.ts';

/** One JSON-RPC message (MCP over Streamable HTTP posts one per request). */
const JsonRpcMessage = z.looseObject({
  jsonrpc: z.literal('2.0'),
  method: z.string().max(200).optional(),
  id: z.union([z.string().max(200), z.number()]).optional(),
  params: z.looseObject({}).optional(),
});

export const mcpRoutes = [
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/agents/:agent/mcp',
    operationId: 'agentMcp',
    summary:
      'The agent as an MCP server over Streamable HTTP: one tool, run_<agent>, runs it and answers its final text.',
    description:
      'Point any MCP client at this URL with a Parley token (runs:create) as Bearer. Each tools/call is a run of the deployed agent (conversationId continues one). Stateless: answers are JSON, GET and DELETE are not served.',
    tag: 'runs',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: withWorkspace({ agent: AgentRef }),
    body: JsonRpcMessage,
    bodyLimit: 10 * 1024 * 1024,
    responses: { 200: JsonRpcMessage, 202: null },
    handler: async (ctx) => {
      const workspaceId = ctx.grant().workspaceId;
      const agent = await ctx.inWorkspace((ws) => findAgent(ws, ctx.params.agent));
      if (!agent || agent.archivedAt) throw notFound('Agent');
      const scope = ctx.scope;
      const server = await createAgentMcpServer([
        {
          name: agent.name,
          ...(agent.description ? { description: agent.description } : {}),
          async run(input, { conversationId, signal }) {
            const run = await ctx.services.runs.start({
              workspaceId,
              principal: ctx.principal,
              scope,
              trace: ctx.request.trace,
              agent: agent.id,
              body: { input, ...(conversationId ? { conversationId } : {}) },
            });
            // The MCP client cancelled its request: the run ends with run.abort.
            const cancel = () => run.controller.abort({ reason: 'cancelled', by: 'mcp' });
            signal.addEventListener('abort', cancel, { once: true });
            try {
              while (!run.closed) await run.changed();
            } finally {
              signal.removeEventListener('abort', cancel);
            }
            const terminal = run.events.at(-1);
            if (terminal?.type === 'run.error') throw new Error(terminal.error.message);
            if (terminal?.type === 'run.abort') throw new Error(`the run was ${terminal.reason}`);
            return {
              text: textOf(reduceEvents(run.events)),
              conversationId: run.conversationId,
              runId: run.id,
            };
          },
        },
      ]);
      const { createMcpHandler } = await import('@modelcontextprotocol/server');
      const handler = createMcpHandler(() => server);
      const headers = new Headers();
      for (const [name, value] of Object.entries(ctx.request.headers))
        if (typeof value === 'string') headers.set(name, value);
      // A client that accepts only JSON is served too (this endpoint never streams on its own).
      headers.set('accept', 'application/json, text/event-stream');
      headers.set('content-type', 'application/json');
      const url = `http://${ctx.request.hostname}${ctx.request.url}`;
      const body = JSON.stringify(ctx.body);
      try {
        const response = await handler.fetch(new Request(url, { method: 'POST', headers, body }), {
          parsedBody: ctx.body,
        });
        const text = await response.text();
        // The SDK refuses a message it cannot take with a JSON-RPC error and a 4xx: answered
        // as every API error is (problem+json), its message kept.
        if (response.status >= 400) {
          const message = (() => {
            try {
              return String((JSON.parse(text) as { error?: { message?: string } }).error?.message);
            } catch {
              return response.statusText;
            }
          })();
          throw new HttpProblem(
            'request.invalid',
            `Not an MCP message this endpoint takes: ${message}`,
          );
        }
        ctx.reply.hijack();
        const raw = ctx.reply.raw;
        raw.writeHead(response.status, {
          'content-type': response.headers.get('content-type') ?? 'application/json',
          'cache-control': 'no-store',
        });
        raw.end(text);
      } finally {
        await handler.close();
      }
      return undefined;
    },
  }),
];
