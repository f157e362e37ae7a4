import { type EmbeddingModelRef, EmbeddingModelRefSchema, embeddingModelId } from '@parley/core';
import { api } from '@parley/protocol';
import type { KnowledgeBase, KnowledgeDocument, WorkspaceScope } from '@parley/store';
import { z } from 'zod';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute, type RouteContext } from '../http/route.ts';
import { isUuid } from '../http/uuid.ts';
import { mediaTypeOf } from '../knowledge/extract.ts';
import { ingestDocument } from '../knowledge/ingest.ts';
import { reembedBase } from '../knowledge/reembed.ts';
import { retrieveKnowledge } from '../knowledge/retrieve.ts';
import { forgetKnowledgeBases } from '../knowledge/run-knowledge.ts';
import type { RunEmbedding } from '../runs/embedder.ts';
import { findAgent } from '../runs/run-manager.ts';
import { withWorkspace } from './params.ts';

/*
 * Knowledge bases (docs/memory.md, "Knowledge"): per workspace, an agent's own or shared;
 * documents in, chunks out. Reads need memories:read, changes memories:write.
 */

const BaseRef = z.string().min(1).max(200);
const BaseParams = withWorkspace({ base: BaseRef });
const DocumentParams = withWorkspace({ base: BaseRef, document: z.uuid() });

const iso = (d: Date) => d.toISOString();
const baseDto = (b: KnowledgeBase): z.infer<typeof api.KnowledgeBaseSchema> => ({
  id: b.id,
  name: b.name,
  agentId: b.agentId,
  description: b.description,
  embeddingModel: b.embeddingModel,
  embeddingDimensions: b.embeddingDimensions,
  embeddingModelRef: b.embeddingModelRef ?? null,
  chunkSize: b.chunkSize,
  chunkOverlap: b.chunkOverlap,
  createdAt: iso(b.createdAt),
  updatedAt: iso(b.updatedAt),
});
const documentDto = (d: KnowledgeDocument): z.infer<typeof api.KnowledgeDocumentSchema> => ({
  id: d.id,
  baseId: d.baseId,
  name: d.name,
  mediaType: d.mediaType as z.infer<typeof api.KnowledgeDocumentSchema>['mediaType'],
  version: d.version,
  bytes: d.bytes,
  chunkCount: d.chunkCount,
  createdAt: iso(d.createdAt),
  updatedAt: iso(d.updatedAt),
});

/** A base by name or id. */
async function findBase(ws: WorkspaceScope, ref: string) {
  return isUuid(ref) ? ws.knowledge.getBase(ref) : ws.knowledge.getBaseByName(ref);
}
async function baseOr404(ws: WorkspaceScope, ref: string) {
  const base = await findBase(ws, ref);
  if (!base) throw notFound('Knowledge base');
  return base;
}

/**
 * What a base's documents and queries are embedded with: its own model when it names one
 * (a shared base's), else its agent's; a shared base without one is full-text only.
 */
async function embeddingOf(
  ctx: RouteContext<unknown, unknown, unknown>,
  base: KnowledgeBase,
): Promise<RunEmbedding> {
  const { workspaceId } = ctx.grant();
  if (base.embeddingModelRef)
    return ctx.services.runs.embeddingForModel(
      workspaceId,
      base.embeddingModelRef as EmbeddingModelRef,
      ctx.scope,
    );
  if (!base.agentId)
    return {
      note: 'the base belongs to no agent and names no embedding model (PUT it with embeddingModel)',
    };
  return ctx.services.runs.embeddingFor(workspaceId, base.agentId, ctx.scope);
}

/** The body's embedding model, checked like an agent definition's. */
function embeddingModelOfBody(value: unknown): EmbeddingModelRef | undefined {
  if (value === undefined) return undefined;
  const parsed = EmbeddingModelRefSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new HttpProblem('request.invalid', 'The embedding model is not one Parley can call.', {
    errors: parsed.error.issues.map((issue) => ({
      path: ['body', 'embeddingModel', ...issue.path].join('.'),
      message: issue.message,
    })),
  });
}

/** Re-embeds a base whose model changed, in the background (its chunks are found by words). */
async function reembedInBackground(
  ctx: RouteContext<unknown, unknown, unknown>,
  base: KnowledgeBase,
): Promise<void> {
  const embedding = await embeddingOf(ctx, base);
  void reembedBase({
    store: ctx.services.store,
    workspaceId: ctx.grant().workspaceId,
    scope: ctx.scope,
    baseId: base.id,
    embedding,
    onError: (error) =>
      ctx.services.log.warn(
        { err: error, base: base.id },
        'knowledge base re-embedding stopped; its chunks are found by their words',
      ),
  });
}

export const knowledgeRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/knowledge-bases',
    operationId: 'listKnowledgeBases',
    summary: "The workspace's knowledge bases.",
    tag: 'knowledge',
    access: { kind: 'workspace', permission: 'memories:read' },
    params: withWorkspace({}),
    responses: { 200: z.array(api.KnowledgeBaseSchema) },
    handler: async (ctx) => (await ctx.inWorkspace((ws) => ws.knowledge.listBases())).map(baseDto),
  }),
  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/knowledge-bases/:base',
    operationId: 'putKnowledgeBase',
    summary:
      "Create a knowledge base of that name (an agent's own with `agent`), or return the existing one (200).",
    tag: 'knowledge',
    access: { kind: 'workspace', permission: 'memories:write' },
    params: BaseParams,
    body: api.PutKnowledgeBaseRequestSchema,
    responses: { 200: api.KnowledgeBaseSchema, 201: api.KnowledgeBaseSchema },
    handler: async (ctx) => {
      const model = embeddingModelOfBody(ctx.body.embeddingModel);
      const { base, created, moved } = await ctx.inWorkspace(async (ws) => {
        const existing = await findBase(ws, ctx.params.base);
        if (existing && model && !sameModel(existing.embeddingModelRef, model)) {
          const changed = await ws.knowledge.setEmbeddingModelRef(
            existing.id,
            model,
            embeddingModelId(model),
          );
          return { base: changed, created: false, moved: true };
        }
        if (existing) return { base: existing, created: false, moved: false };
        const agent = ctx.body.agent ? await findAgent(ws, ctx.body.agent) : undefined;
        if (agent === null) throw notFound('Agent');
        if (isUuid(ctx.params.base))
          throw new HttpProblem('request.invalid', 'Name a new knowledge base, not an id.');
        const made = await ws.knowledge.createBase({
          name: ctx.params.base,
          ...(agent ? { agentId: agent.id } : {}),
          ...(ctx.body.description ? { description: ctx.body.description } : {}),
          ...(model ? { embeddingModelRef: model } : {}),
          ...(ctx.body.chunkSize ? { chunkSize: ctx.body.chunkSize } : {}),
          ...(ctx.body.chunkOverlap !== undefined ? { chunkOverlap: ctx.body.chunkOverlap } : {}),
        });
        return { base: made, created: true, moved: false };
      });
      if (created || moved) forgetKnowledgeBases(ctx.services.store, ctx.grant().workspaceId);
      if (moved) await reembedInBackground(ctx, base);
      if (created) ctx.reply.code(201);
      return baseDto(base);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/knowledge-bases/:base',
    operationId: 'getKnowledgeBase',
    summary: 'One knowledge base, by name or id.',
    tag: 'knowledge',
    access: { kind: 'workspace', permission: 'memories:read' },
    params: BaseParams,
    responses: { 200: api.KnowledgeBaseSchema },
    handler: async (ctx) => baseDto(await ctx.inWorkspace((ws) => baseOr404(ws, ctx.params.base))),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId/knowledge-bases/:base',
    operationId: 'deleteKnowledgeBase',
    summary: 'Delete a knowledge base with its documents and chunks.',
    tag: 'knowledge',
    access: { kind: 'workspace', permission: 'memories:write' },
    params: BaseParams,
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace(async (ws) =>
        ws.knowledge.deleteBase((await baseOr404(ws, ctx.params.base)).id),
      );
      forgetKnowledgeBases(ctx.services.store, ctx.grant().workspaceId);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/knowledge-bases/:base/documents',
    operationId: 'listKnowledgeDocuments',
    summary: 'The documents of a knowledge base, by name.',
    tag: 'knowledge',
    access: { kind: 'workspace', permission: 'memories:read' },
    params: BaseParams,
    responses: { 200: z.array(api.KnowledgeDocumentSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace(async (ws) =>
          ws.knowledge.listDocuments((await baseOr404(ws, ctx.params.base)).id),
        )
      ).map(documentDto),
  }),
  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/knowledge-bases/:base/documents',
    operationId: 'putKnowledgeDocument',
    summary:
      'Add a document (text, Markdown, HTML or PDF), or replace the one of that name (its version goes up; the same content changes nothing).',
    tag: 'knowledge',
    access: { kind: 'workspace', permission: 'memories:write' },
    params: BaseParams,
    body: api.PutKnowledgeDocumentRequestSchema,
    responses: {
      200: api.PutKnowledgeDocumentResponseSchema,
      201: api.PutKnowledgeDocumentResponseSchema,
    },
    handler: async (ctx) => {
      const { body } = ctx;
      const mediaType = body.mediaType ?? mediaTypeOf(body.name);
      if (!mediaType)
        throw new HttpProblem(
          'request.invalid',
          `Cannot tell the type of ${body.name}: send mediaType (${api.KNOWLEDGE_MEDIA_TYPES.join(', ')}).`,
          { errors: [{ path: 'body.mediaType', message: 'required for this name' }] },
        );
      const bytes =
        body.base64 !== undefined
          ? new Uint8Array(Buffer.from(body.base64, 'base64'))
          : new TextEncoder().encode(body.text);
      const base = await ctx.inWorkspace((ws) => baseOr404(ws, ctx.params.base));
      const result = await ingestDocument({
        store: ctx.services.store,
        workspaceId: ctx.grant().workspaceId,
        scope: ctx.scope,
        base,
        name: body.name,
        mediaType,
        bytes,
        embedding: await embeddingOf(ctx, base),
      }).catch((error: unknown) => {
        if (error instanceof HttpProblem) throw error;
        if ((error as { code?: string }).code?.startsWith('store.')) throw error;
        throw new HttpProblem(
          'request.invalid',
          `Could not read ${body.name} as ${mediaType}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      if (result.changed && result.document.version === 1) ctx.reply.code(201);
      return {
        document: documentDto(result.document),
        changed: result.changed,
        embeddingModel: result.embeddingModel ?? null,
        ...(result.note ? { note: result.note } : {}),
      };
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId/knowledge-bases/:base/documents/:document',
    operationId: 'deleteKnowledgeDocument',
    summary: 'Delete a document and its chunks.',
    tag: 'knowledge',
    access: { kind: 'workspace', permission: 'memories:write' },
    params: DocumentParams,
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace(async (ws) => {
        const base = await baseOr404(ws, ctx.params.base);
        const document = await ws.knowledge.getDocument(ctx.params.document);
        if (!document || document.baseId !== base.id) throw notFound('Document');
        await ws.knowledge.deleteDocument(document.id);
      });
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/knowledge-bases/:base/search',
    operationId: 'searchKnowledgeBase',
    summary: 'The chunks of a base a run would retrieve for a query, best first.',
    tag: 'knowledge',
    access: { kind: 'workspace', permission: 'memories:read' },
    params: BaseParams,
    body: api.KnowledgeSearchRequestSchema,
    responses: { 200: api.KnowledgeSearchResponseSchema },
    handler: async (ctx) => {
      const base = await ctx.inWorkspace((ws) => baseOr404(ws, ctx.params.base));
      return retrieveKnowledge({
        store: ctx.services.store,
        workspaceId: ctx.grant().workspaceId,
        scope: ctx.scope,
        baseIds: [base.id],
        query: ctx.body.query,
        limit: ctx.body.limit ?? 5,
        embeddings: [await embeddingOf(ctx, base)],
      });
    },
  }),
];

/** Whether a base's stored model reference is this one (key order aside). */
function sameModel(stored: KnowledgeBase['embeddingModelRef'], ref: EmbeddingModelRef): boolean {
  if (!stored) return false;
  const a: Record<string, unknown> = { ...stored };
  const b: Record<string, unknown> = { ...ref };
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}
