import { sql } from 'drizzle-orm';
import {
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents } from './agents.ts';
import {
  createdAt,
  id,
  tsvector,
  updatedAt,
  vector,
  workspaceIdColumn,
  workspaceIsolation,
} from './columns.ts';
import { workspaces } from './identity.ts';

/** An embedding model reference as agent definitions write it (@parley/core's schema). */
export interface KnowledgeEmbeddingModelRef {
  provider: string;
  model: string;
  baseURL?: string;
  apiKeySecret?: string;
  dimensions?: number;
}

/*
 * Knowledge bases (docs/memory.md, "Knowledge"): documents a workspace's agents retrieve
 * from, cut into chunks that are embedded and full-text indexed like memories. Hand-written
 * migration drizzle/0010_knowledge.sql (FORCE RLS, grants, one partial HNSW index per common
 * embedding size, as for memories).
 */
export const knowledgeBases = pgTable(
  'knowledge_bases',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Unique in the workspace; an agent's own base is named after the agent. */
    name: text('name').notNull(),
    /** The agent whose own base this is (retrieved by its runs without being named), if any. */
    agentId: uuid('agent_id'),
    description: text('description'),
    /** The vector space of its chunks (`provider/model[@size]`), fixed by the first embedding. */
    embeddingModel: text('embedding_model'),
    embeddingDimensions: integer('embedding_dimensions'),
    /**
     * The model the base embeds documents and queries with (an agent's model reference);
     * null: its agent's embedding model, and full-text only for a base of no agent.
     */
    embeddingModelRef: jsonb('embedding_model_ref').$type<KnowledgeEmbeddingModelRef>(),
    /** Target chunk length in characters, and how much consecutive chunks overlap. */
    chunkSize: integer('chunk_size').notNull().default(1200),
    chunkOverlap: integer('chunk_overlap').notNull().default(150),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('knowledge_bases_workspace_id_id_key').on(t.workspaceId, t.id),
    unique('knowledge_bases_workspace_name_key').on(t.workspaceId, t.name),
    index('knowledge_bases_agent_idx').on(t.workspaceId, t.agentId),
    check(
      'knowledge_bases_chunking_check',
      sql`${t.chunkSize} between 100 and 20000 and ${t.chunkOverlap} >= 0 and ${t.chunkOverlap} < ${t.chunkSize}`,
    ),
    foreignKey({
      name: 'knowledge_bases_agent_fkey',
      columns: [t.workspaceId, t.agentId],
      foreignColumns: [agents.workspaceId, agents.id],
    }).onDelete('cascade'),
    workspaceIsolation('knowledge_bases', t.workspaceId),
  ],
).enableRLS();

export const knowledgeDocuments = pgTable(
  'knowledge_documents',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    baseId: uuid('base_id').notNull(),
    /** Where it came from (a relative path, a URL, a title): unique in its base. */
    name: text('name').notNull(),
    /** text/plain, text/markdown, text/html or application/pdf. */
    mediaType: text('media_type').notNull(),
    /** 1 when added, +1 each time different content replaces it. */
    version: integer('version').notNull().default(1),
    /** sha256 of the original bytes: re-adding the same content changes nothing. */
    contentHash: text('content_hash').notNull(),
    bytes: integer('bytes').notNull(),
    chunkCount: integer('chunk_count').notNull().default(0),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('knowledge_documents_workspace_id_id_key').on(t.workspaceId, t.id),
    unique('knowledge_documents_base_name_key').on(t.workspaceId, t.baseId, t.name),
    foreignKey({
      name: 'knowledge_documents_base_fkey',
      columns: [t.workspaceId, t.baseId],
      foreignColumns: [knowledgeBases.workspaceId, knowledgeBases.id],
    }).onDelete('cascade'),
    workspaceIsolation('knowledge_documents', t.workspaceId),
  ],
).enableRLS();

export const knowledgeChunks = pgTable(
  'knowledge_chunks',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    baseId: uuid('base_id').notNull(),
    documentId: uuid('document_id').notNull(),
    /** Its order in the document, from 0. */
    position: integer('position').notNull(),
    /** The headings above it ("Install > Linux"), when the document has any. */
    heading: text('heading'),
    content: text('content').notNull(),
    embedding: vector('embedding'),
    embeddingDimensions: integer('embedding_dimensions'),
    searchVector: tsvector('search_vector')
      .notNull()
      .generatedAlwaysAs(
        sql`to_tsvector('english'::regconfig, coalesce("heading", '') || ' ' || "content")`,
      ),
    createdAt: createdAt(),
  },
  (t) => [
    // The RLS predicate and the base filter use it (as memories_workspace_agent_idx).
    index('knowledge_chunks_workspace_base_idx').on(t.workspaceId, t.baseId),
    index('knowledge_chunks_document_idx').on(t.documentId, t.position),
    index('knowledge_chunks_search_vector_idx').using('gin', t.searchVector),
    check(
      'knowledge_chunks_embedding_dimensions_check',
      sql`(${t.embedding} is null and ${t.embeddingDimensions} is null) or vector_dims(${t.embedding}) = ${t.embeddingDimensions}`,
    ),
    foreignKey({
      name: 'knowledge_chunks_document_fkey',
      columns: [t.workspaceId, t.documentId],
      foreignColumns: [knowledgeDocuments.workspaceId, knowledgeDocuments.id],
    }).onDelete('cascade'),
    workspaceIsolation('knowledge_chunks', t.workspaceId),
  ],
).enableRLS();
