import { api } from '@parley/protocol';
import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { auditDto, signalDto } from './dto.ts';
import { Before, Limit, Timestamp, WorkspaceParams, withWorkspace } from './params.ts';

const Since = Timestamp.optional();

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
    query: z.object({ action: z.string().max(100).optional(), limit: Limit, before: Before }),
    responses: { 200: z.array(api.AuditEventSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace((ws) =>
          ws.audit.list({
            ...(ctx.query.action ? { action: ctx.query.action } : {}),
            ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
            ...(ctx.query.before ? { before: new Date(ctx.query.before) } : {}),
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
    url: '/v1/instance/funnel',
    operationId: 'productFunnel',
    summary:
      'Activation funnel across the server: sign-up → agent → provider → first run → deployed.',
    tag: 'metrics',
    access: { kind: 'operator' },
    query: z.object({ since: Since }),
    responses: { 200: api.FunnelSchema },
    handler: async (ctx) => ({
      since: ctx.query.since ?? null,
      steps: await ctx.services.store.system.productEvents.funnel(
        ctx.query.since ? { since: new Date(ctx.query.since) } : {},
      ),
    }),
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
