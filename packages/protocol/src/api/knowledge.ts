import { z } from 'zod';

/*
 * Knowledge bases (docs/memory.md, "Knowledge"): documents a workspace's agents retrieve from.
 */

const uuid = z.guid();
const timestamp = z.string();

export const KNOWLEDGE_MEDIA_TYPES = [
  'text/plain',
  'text/markdown',
  'text/html',
  'application/pdf',
] as const;

/**
 * The embedding model of a base shared by several agents, written like an agent's
 * `memory.embeddingModel` (the provider's name is checked by the server).
 */
export const KnowledgeEmbeddingModelSchema = z
  .object({
    provider: z.string().min(1).max(100),
    model: z.string().min(1).max(200),
    baseURL: z.url().max(2_000).optional(),
    /** Name of the workspace secret holding its API key (default: its provider's). */
    apiKeySecret: z.string().min(1).max(200).optional(),
    /** Ask for vectors of this size (models that can shorten them). */
    dimensions: z.number().int().min(1).max(16_000).optional(),
  })
  .strict();

export const KnowledgeBaseSchema = z.object({
  id: uuid,
  name: z.string(),
  /** The agent whose own base this is (its runs retrieve from it without naming it). */
  agentId: uuid.nullable(),
  description: z.string().nullable(),
  /** The vector space of its chunks, once a document was embedded. */
  embeddingModel: z.string().nullable(),
  embeddingDimensions: z.number().int().nullable(),
  /**
   * The model the base embeds documents and queries with, set when it was created (or by a
   * later PUT); null: its agent's embedding model, and full-text only for a base of no agent.
   */
  embeddingModelRef: KnowledgeEmbeddingModelSchema.nullable(),
  chunkSize: z.number().int(),
  chunkOverlap: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const PutKnowledgeBaseRequestSchema = z.object({
  /** Make it this agent's own base (name or id). */
  agent: z.string().min(1).max(200).optional(),
  description: z.string().max(2_000).optional(),
  /**
   * The model this base embeds with, whichever agent retrieves from it: what makes a shared
   * base searchable by vector. On an existing base, another model re-embeds its chunks in the
   * background (found by their words meanwhile).
   */
  embeddingModel: KnowledgeEmbeddingModelSchema.optional(),
  /** Target chunk length in characters (default 1200). */
  chunkSize: z.number().int().min(100).max(20_000).optional(),
  /** Characters consecutive chunks share (default 150). */
  chunkOverlap: z.number().int().min(0).max(19_999).optional(),
});

export const KnowledgeDocumentSchema = z.object({
  id: uuid,
  baseId: uuid,
  name: z.string(),
  mediaType: z.enum(KNOWLEDGE_MEDIA_TYPES),
  version: z.number().int(),
  bytes: z.number().int(),
  chunkCount: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const PutKnowledgeDocumentRequestSchema = z
  .object({
    /** Its source: a relative path, a URL or a title; unique in the base. */
    name: z.string().min(1).max(1_000),
    /** Default: from the name's extension (.md, .html, .pdf, .txt …). */
    mediaType: z.enum(KNOWLEDGE_MEDIA_TYPES).optional(),
    /** The document as text (plain text, Markdown, HTML). */
    text: z.string().max(20_000_000).optional(),
    /** The document's bytes in base64 (a PDF). */
    base64: z.string().max(30_000_000).optional(),
  })
  .refine((body) => (body.text === undefined) !== (body.base64 === undefined), {
    message: 'send exactly one of text and base64',
    path: ['text'],
  });

export const PutKnowledgeDocumentResponseSchema = z.object({
  document: KnowledgeDocumentSchema,
  /** False when the same content was there already: nothing changed. */
  changed: z.boolean(),
  /** The embedding model its chunks were embedded with; null: full-text only (see `note`). */
  embeddingModel: z.string().nullable(),
  note: z.string().optional(),
});

export const KnowledgeSearchRequestSchema = z.object({
  query: z.string().min(1).max(2_000),
  limit: z.number().int().min(1).max(50).optional(),
});

export const KnowledgeChunkSchema = z.object({
  /** The document's name: the source a citation names. */
  document: z.string(),
  documentId: uuid,
  text: z.string(),
  /** Its position in the document, from 0. */
  position: z.number().int(),
  heading: z.string().nullable().optional(),
  score: z.number(),
});

export const KnowledgeSearchResponseSchema = z.object({
  method: z.enum(['vector', 'hybrid', 'fulltext']),
  reason: z.string().optional(),
  chunks: z.array(KnowledgeChunkSchema),
});
