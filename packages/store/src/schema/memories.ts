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
import { agents, conversations } from './agents.ts';
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

/*
 * Long-term memory. Vector search uses one partial HNSW index per common embedding size
 * (created in the custom migration, see INDEXED_EMBEDDING_DIMENSIONS); other sizes still
 * work through an exact scan. Full-text search is the fallback when an agent has no
 * embedding model.
 */
export const memories = pgTable(
  'memories',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id').notNull(),
    /** agent: every conversation of the agent; user: one end user; conversation: one conversation. */
    scope: text('scope').notNull(),
    /** The end user the memory is about (Parley user id or connector participant id). */
    userId: text('user_id'),
    conversationId: uuid('conversation_id'),
    /** fact, preference, summary, episode, document, … (a short lower-case word). */
    kind: text('kind').notNull(),
    content: text('content').notNull(),
    embedding: vector('embedding'),
    embeddingDimensions: integer('embedding_dimensions'),
    searchVector: tsvector('search_vector')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('english'::regconfig, "content")`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** Where it came from: a run id, `import`, `user`, … (provenance for poisoning reviews). */
    source: text('source'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('memories_workspace_id_id_key').on(t.workspaceId, t.id),
    // The RLS predicate and the scope filters use these; without a workspace index HNSW
    // filters after the scan and can return nothing for a small workspace.
    index('memories_workspace_agent_idx').on(t.workspaceId, t.agentId),
    index('memories_search_vector_idx').using('gin', t.searchVector),
    check('memories_scope_check', sql`${t.scope} in ('agent', 'user', 'conversation')`),
    check(
      'memories_scope_target_check',
      sql`(${t.scope} <> 'user' or ${t.userId} is not null) and (${t.scope} <> 'conversation' or ${t.conversationId} is not null)`,
    ),
    check(
      'memories_embedding_dimensions_check',
      sql`(${t.embedding} is null and ${t.embeddingDimensions} is null) or vector_dims(${t.embedding}) = ${t.embeddingDimensions}`,
    ),
    foreignKey({
      name: 'memories_agent_fkey',
      columns: [t.workspaceId, t.agentId],
      foreignColumns: [agents.workspaceId, agents.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'memories_conversation_fkey',
      columns: [t.workspaceId, t.conversationId],
      foreignColumns: [conversations.workspaceId, conversations.id],
    }).onDelete('cascade'),
    workspaceIsolation('memories', t.workspaceId),
  ],
).enableRLS();
