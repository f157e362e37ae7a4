import { api } from '@parley/protocol';
import type { EvalResult } from '@parley/store';
import { z } from 'zod';
import { userIdOf } from '../auth/principal.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { findAgent } from '../runs/run-manager.ts';
import { withWorkspace } from './params.ts';

/*
 * Eval results (docs/evals.md): `parley eval` stores one per run of a dataset against an
 * agent version, and reads the previous ones to compare. Storing needs runs:create (the eval
 * ran the agent), reading runs:read.
 */

const EvalParams = withWorkspace({ agent: z.string().min(1).max(200) });

const evalDto = (r: EvalResult): api.EvalResult => ({
  id: r.id,
  agentId: r.agentId,
  agentVersionId: r.agentVersionId ?? null,
  versionLabel: r.versionLabel,
  dataset: r.dataset,
  caseCount: r.caseCount,
  meanScore: r.meanScore,
  cases: r.cases as api.EvalCaseResult[],
  createdAt: r.createdAt.toISOString(),
});

export const evalRoutes = [
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/agents/:agent/evals',
    operationId: 'createEvalResult',
    summary: 'Stores the result of an eval of a dataset against a version of the agent.',
    tag: 'evals',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: EvalParams,
    body: api.CreateEvalResultRequestSchema,
    responses: { 201: api.EvalResultSchema },
    handler: async (ctx) => {
      const body = ctx.body;
      const createdBy = userIdOf(ctx.principal);
      const row = await ctx.inWorkspace(async (ws) => {
        const agent = await findAgent(ws, ctx.params.agent);
        if (!agent) throw notFound('Agent');
        const version =
          body.version === 'draft' ? null : await ws.agents.getVersion(agent.id, body.version);
        if (body.version !== 'draft' && !version)
          throw new HttpProblem('request.invalid', `The agent has no version ${body.version}.`, {
            errors: [{ path: 'body.version', message: 'no such version' }],
          });
        return ws.evals.create({
          agentId: agent.id,
          ...(version ? { agentVersionId: version.id } : {}),
          versionLabel: version ? `v${version.version}` : 'draft',
          dataset: body.dataset,
          meanScore: body.meanScore,
          cases: body.cases,
          ...(createdBy ? { createdBy } : {}),
        });
      });
      ctx.reply.code(201);
      return evalDto(row);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/agents/:agent/evals',
    operationId: 'listEvalResults',
    summary: "The agent's eval results, newest first (of one dataset with ?dataset=).",
    tag: 'evals',
    access: { kind: 'workspace', permission: 'runs:read' },
    params: EvalParams,
    query: z.object({
      dataset: z.string().min(1).max(200).optional(),
      limit: z.coerce.number().int().min(1).max(100).optional(),
    }),
    responses: { 200: z.array(api.EvalResultSchema) },
    handler: async (ctx) => {
      const rows = await ctx.inWorkspace(async (ws) => {
        const agent = await findAgent(ws, ctx.params.agent);
        if (!agent) throw notFound('Agent');
        return ws.evals.list({
          agentId: agent.id,
          ...(ctx.query.dataset ? { dataset: ctx.query.dataset } : {}),
          ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
        });
      });
      return rows.map(evalDto);
    },
  }),
];
