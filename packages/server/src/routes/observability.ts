import { api } from '@parley/protocol';
import { z } from 'zod';
import { HttpProblem } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { auditDto, signalDto } from './dto.ts';
import { Before, BeforeId, Limit, Timestamp, WorkspaceParams, withWorkspace } from './params.ts';

const Since = Timestamp.optional();
/** How far back a series may reach, by bucket (a chart, not an export). */
const SERIES_SPAN_DAYS = { hour: 31, day: 400 } as const;

/** Audit log, security signals, usage and TTFT summaries, the product funnel. */
export const observabilityRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/audit',
    operationId: 'listAudit',
    summary: 'The audit log, newest first (filter by action).',
    tag: 'security',
    access: { kind: 'workspace', permission: 'audit:read' },
    params: WorkspaceParams,
    query: z.object({
      action: z.string().max(100).optional(),
      limit: Limit,
      before: Before,
      beforeId: BeforeId,
    }),
    responses: { 200: z.array(api.AuditEventSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace((ws) =>
          ws.audit.list({
            ...(ctx.query.action ? { action: ctx.query.action } : {}),
            ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
            ...(ctx.query.before ? { before: new Date(ctx.query.before) } : {}),
            ...(ctx.query.beforeId ? { beforeId: ctx.query.beforeId } : {}),
          }),
        )
      ).map(auditDto),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/security-signals',
    operationId: 'listSecuritySignals',
    summary:
      'Security signals: auth-failure bursts, new token addresses, probes, decrypt spikes, privilege changes.',
    tag: 'security',
    access: { kind: 'workspace', permission: 'audit:read' },
    params: WorkspaceParams,
    query: z.object({
      kind: z.string().max(100).optional(),
      since: Since,
      unacknowledged: z.stringbool().optional(),
      limit: Limit,
    }),
    responses: { 200: z.array(api.SecuritySignalSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace((ws) =>
          ws.securitySignals.list({
            ...(ctx.query.kind ? { kind: ctx.query.kind } : {}),
            ...(ctx.query.since ? { since: new Date(ctx.query.since) } : {}),
            ...(ctx.query.unacknowledged ? { unacknowledgedOnly: true } : {}),
            ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
          }),
        )
      ).map(signalDto),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/security-signals/:signalId/acknowledge',
    operationId: 'acknowledgeSecuritySignal',
    summary: 'Mark a signal as looked at.',
    tag: 'security',
    access: { kind: 'workspace', permission: 'workspace:manage' },
    params: withWorkspace({ signalId: z.uuid() }),
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace((ws) => ws.securitySignals.acknowledge(ctx.params.signalId));
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/usage',
    operationId: 'usageSummary',
    summary:
      'Runs by status, tokens, cost and TTFT percentiles per provider and model (default: 7 days).',
    tag: 'metrics',
    access: { kind: 'workspace', permission: 'runs:read' },
    params: WorkspaceParams,
    query: z.object({ since: Since }),
    responses: { 200: api.UsageSummarySchema },
    handler: async (ctx) => {
      const s = await ctx.inWorkspace((ws) =>
        ws.runs.summary(ctx.query.since ? { since: new Date(ctx.query.since) } : {}),
      );
      return {
        since: s.since.toISOString(),
        runs: { total: s.total, byStatus: s.byStatus },
        tokens: s.tokens,
        costUsd: s.costUsd,
        ttft: s.ttft,
      };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/usage/series',
    operationId: 'usageSeries',
    summary:
      'Runs, failures and TTFT p50/p95 per hour or day (UTC), provider and model (default: the last 24 hours by hour, 30 days by day).',
    tag: 'metrics',
    access: { kind: 'workspace', permission: 'runs:read' },
    params: WorkspaceParams,
    query: z.object({ since: Since, bucket: z.enum(api.USAGE_BUCKETS).optional() }),
    responses: { 200: api.UsageSeriesSchema },
    handler: async (ctx) => {
      const bucket = ctx.query.bucket ?? 'hour';
      const span = SERIES_SPAN_DAYS[bucket] * 86_400_000;
      const since = ctx.query.since
        ? new Date(ctx.query.since)
        : new Date(Date.now() - (bucket === 'hour' ? 86_400_000 : 30 * 86_400_000));
      if (Date.now() - since.getTime() > span)
        throw new HttpProblem(
          'request.invalid',
          `${bucket} buckets go back at most ${SERIES_SPAN_DAYS[bucket]} days.`,
          {
            errors: [
              {
                path: 'query.since',
                message: `at most ${SERIES_SPAN_DAYS[bucket]} days ago for ${bucket} buckets`,
              },
            ],
          },
        );
      const points = await ctx.inWorkspace((ws) => ws.runs.series({ since, bucket }));
      return {
        since: since.toISOString(),
        bucket,
        points: points.map((p) => ({ ...p, at: p.at.toISOString() })),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/instance/funnel',
    operationId: 'productFunnel',
    summary:
      'Activation funnel across the server: sign-up → agent → provider → first run → deployed, and agents created per new login.',
    tag: 'metrics',
    access: { kind: 'operator' },
    query: z.object({ since: Since }),
    responses: { 200: api.FunnelSchema },
    handler: async (ctx) => {
      const window = ctx.query.since ? { since: new Date(ctx.query.since) } : {};
      const events = ctx.services.store.system.productEvents;
      return {
        since: ctx.query.since ?? null,
        steps: await events.funnel(window),
        activation: await events.activation(window),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/instance/security-signals',
    operationId: 'listInstanceSignals',
    summary:
      'Signals that belong to no workspace (e.g. bursts of unknown tokens from one address).',
    tag: 'security',
    access: { kind: 'operator' },
    query: z.object({ since: Since, limit: Limit }),
    responses: {
      200: z.array(api.SecuritySignalSchema.omit({ acknowledgedAt: true })),
    },
    handler: async (ctx) =>
      (
        await ctx.services.store.system.securitySignals.list({
          ...(ctx.query.since ? { since: new Date(ctx.query.since) } : {}),
          ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
        })
      ).map((s) => ({
        id: s.id,
        at: s.at.toISOString(),
        kind: s.kind,
        severity: s.severity,
        ip: s.ip,
        actorType: s.actorType,
        actorId: s.actorId,
        details: s.details,
      })),
  }),
];
