import { strictFields } from '@parley/plugin-scam-guard';
import { api } from '@parley/protocol';
import type { TrustPage, TrustPartner, TrustStatusUpdate } from '@parley/store';
import {
  computeTrustMetrics,
  publicTrustDocument,
  renderTrustHtml,
  STATUS_OVERDUE_MS,
  TRUST_PAGE_CSP,
} from '@parley/trust';
import { z } from 'zod';
import { HttpProblem } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { TrustContentInput } from '../trust/content-schema.ts';
import { Limit, Timestamp, WorkspaceParams, withWorkspace } from './params.ts';

/*
 * The workspace's canonical trust page (docs/trust.md): public, unauthenticated HTML and JSON
 * at /trust/<slug> once an owner or admin publishes it; the draft, every edit (a new version),
 * publication, weekly status updates and the partner matrix for owners and admins.
 */

const DAY_MS = 86_400_000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const pageDto = (p: TrustPage): api.TrustPage => ({
  slug: p.slug,
  published: p.publishedAt !== null,
  publishedAt: iso(p.publishedAt),
  version: p.version,
  updatedAt: iso(p.updatedAt),
  content: p.content,
});
const partnerDto = (p: TrustPartner): api.TrustPartner => ({
  id: p.id,
  name: p.name,
  kind: p.kind,
  migrationStatus: p.migrationStatus as api.PartnerStatus,
  lastVerifiedOn: p.lastVerifiedOn,
  note: p.note,
  updatedAt: p.updatedAt.toISOString(),
});
const statusDto = (s: TrustStatusUpdate): api.TrustStatus => ({
  id: s.id,
  postedAt: s.postedAt.toISOString(),
  body: s.body,
  postedBy: s.postedBy,
});

/** `acme` or `acme.json` (the JSON twin). */
const SlugParams = z.object({
  workspaceSlug: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.json)?$/, 'must be a trust page slug'),
});

function wantsJson(slug: string, accept: string | undefined): boolean {
  if (slug.endsWith('.json')) return true;
  if (!accept) return false;
  // Prefer HTML unless the client asks for JSON and not for HTML.
  return /application\/json/.test(accept) && !/text\/html/.test(accept);
}

export const trustRoutes = [
  defineRoute({
    method: 'GET',
    url: '/trust/:workspaceSlug',
    operationId: 'publicTrustPage',
    summary:
      'The published trust page (HTML, no script); `/trust/<slug>.json` or `Accept: application/json` gives the same document as JSON. 404 until published.',
    tag: 'trust',
    access: { kind: 'public' },
    params: SlugParams,
    responses: { 200: null },
    handler: async ({ params, request, reply, services }) => {
      const json = wantsJson(params.workspaceSlug, request.headers.accept);
      const slug = params.workspaceSlug.replace(/\.json$/, '');
      const workspaceId = await services.store.system.trust.findPublishedPage(slug);
      if (!workspaceId)
        throw new HttpProblem('resource.not_found', `No published trust page ${slug}.`);
      const data = await services.store.withWorkspace(workspaceId, async (ws) => ({
        page: await ws.trust.getPage(),
        partners: await ws.trust.listPartners(),
        statusUpdates: await ws.trust.listStatus({ limit: 12 }),
      }));
      const doc = publicTrustDocument({ slug, ...data, now: services.trust.now() });
      // Always revalidated: a corrected link or a page taken down must not linger in caches.
      reply.header('cache-control', 'no-cache');
      reply.header('vary', 'accept');
      if (json) {
        reply.type('application/json; charset=utf-8');
        return JSON.stringify(doc);
      }
      reply.type('text/html; charset=utf-8');
      reply.header('content-security-policy', TRUST_PAGE_CSP);
      return renderTrustHtml(doc);
    },
  }),

  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/trust',
    operationId: 'getTrustPage',
    summary:
      'The trust page as its editors see it: publication, current version, partners, the latest status updates and whether the weekly one is overdue.',
    tag: 'trust',
    access: { kind: 'workspace', permission: 'workspace:read' },
    params: WorkspaceParams,
    responses: { 200: api.TrustDraftSchema },
    handler: async (ctx) => {
      const data = await ctx.inWorkspace(async (ws) => ({
        page: await ws.trust.getPage(),
        partners: await ws.trust.listPartners(),
        statusUpdates: await ws.trust.listStatus({ limit: 12 }),
      }));
      const last = data.statusUpdates[0]?.postedAt;
      return {
        page: pageDto(data.page),
        partners: data.partners.map(partnerDto),
        statusUpdates: data.statusUpdates.map(statusDto),
        statusOverdue:
          !last || ctx.services.trust.now().getTime() - last.getTime() > STATUS_OVERDUE_MS,
      };
    },
  }),

  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/trust',
    operationId: 'updateTrustPage',
    summary:
      'Replaces the trust page content: a new version (every edit is one), audited as trust.page_update.',
    tag: 'trust',
    access: { kind: 'workspace', permission: 'workspace:manage' },
    params: WorkspaceParams,
    body: strictFields({
      content: TrustContentInput,
      note: z.string().max(1_000).optional().describe('Why this version was written (audited).'),
    }),
    responses: { 200: api.TrustPageSchema },
    handler: async (ctx) =>
      pageDto(
        await ctx.inWorkspace((ws) =>
          ws.trust.updatePage({
            content: ctx.body.content,
            ...(ctx.body.note !== undefined ? { note: ctx.body.note } : {}),
          }),
        ),
      ),
  }),

  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/trust/versions',
    operationId: 'listTrustVersions',
    summary: 'Every version of the trust page, newest first, with who wrote it.',
    tag: 'trust',
    access: { kind: 'workspace', permission: 'workspace:read' },
    params: WorkspaceParams,
    query: z.object({ limit: Limit }),
    responses: { 200: z.array(api.TrustVersionSchema) },
    handler: async (ctx) => {
      const rows = await ctx.inWorkspace((ws) =>
        ws.trust.listVersions(ctx.query.limit ? { limit: ctx.query.limit } : {}),
      );
      return rows.map((v) => ({
        version: v.version,
        content: v.content,
        editedBy: v.editedBy,
        note: v.note,
        createdAt: v.createdAt.toISOString(),
      }));
    },
  }),

  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/trust/publication',
    operationId: 'publishTrustPage',
    summary:
      'Publishes the page at /trust/<slug> (a slug is needed the first time) or takes it down; audited.',
    tag: 'trust',
    access: { kind: 'workspace', permission: 'workspace:manage' },
    params: WorkspaceParams,
    body: api.PublishTrustPageRequestSchema,
    responses: { 200: api.TrustPageSchema },
    handler: async (ctx) =>
      pageDto(
        await ctx.inWorkspace((ws) =>
          ws.trust.setPublication({
            published: ctx.body.published,
            ...(ctx.body.slug !== undefined ? { slug: ctx.body.slug } : {}),
          }),
        ),
      ),
  }),

  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/trust/status',
    operationId: 'postTrustStatus',
    summary: 'Posts the dated weekly status update (shown newest first on the page); audited.',
    tag: 'trust',
    access: { kind: 'workspace', permission: 'workspace:manage' },
    params: WorkspaceParams,
    body: api.PostTrustStatusRequestSchema,
    responses: { 201: api.TrustStatusSchema },
    handler: async (ctx) => {
      ctx.reply.code(201);
      return statusDto(
        await ctx.inWorkspace((ws) =>
          ws.trust.postStatus({ body: ctx.body.body, postedAt: ctx.services.trust.now() }),
        ),
      );
    },
  }),

  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/trust/partners',
    operationId: 'upsertTrustPartner',
    summary:
      'Adds a row to the exchange/partner matrix, or replaces the row with the same name; audited.',
    tag: 'trust',
    access: { kind: 'workspace', permission: 'workspace:manage' },
    params: WorkspaceParams,
    body: api.UpsertTrustPartnerRequestSchema,
    responses: { 200: api.TrustPartnerSchema },
    handler: async (ctx) =>
      partnerDto(
        await ctx.inWorkspace((ws) =>
          ws.trust.upsertPartner({
            name: ctx.body.name,
            migrationStatus: ctx.body.migrationStatus,
            ...(ctx.body.kind !== undefined ? { kind: ctx.body.kind } : {}),
            ...(ctx.body.lastVerifiedOn !== undefined
              ? { lastVerifiedOn: ctx.body.lastVerifiedOn }
              : {}),
            ...(ctx.body.note !== undefined ? { note: ctx.body.note } : {}),
          }),
        ),
      ),
  }),

  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId/trust/partners/:partnerId',
    operationId: 'deleteTrustPartner',
    summary: 'Removes a row of the partner matrix; audited.',
    tag: 'trust',
    access: { kind: 'workspace', permission: 'workspace:manage' },
    params: withWorkspace({ partnerId: z.uuid() }),
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace((ws) => ws.trust.deletePartner(ctx.params.partnerId));
      ctx.reply.code(204);
      return null;
    },
  }),

  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/trust/metrics',
    operationId: 'trustMetrics',
    summary:
      'Trust metrics since a time (default 30 days): first response p50/p90, share within SLA, breaches per week and channel, backlog by age band, oldest open ticket, reopen rate, scam-guard verdicts per day, repeated questions.',
    tag: 'trust',
    access: { kind: 'workspace', permission: 'workspace:read' },
    params: WorkspaceParams,
    query: z.object({ since: Timestamp.optional() }),
    responses: { 200: api.TrustMetricsSchema },
    handler: async (ctx) => {
      const now = ctx.services.trust.now();
      const since = ctx.query.since
        ? new Date(ctx.query.since)
        : new Date(now.getTime() - 30 * DAY_MS);
      return ctx.inWorkspace((ws) => computeTrustMetrics(ws, { since, now }));
    },
  }),
];
