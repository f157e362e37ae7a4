-- Hand-written: knowledge retrieval that stays fast on PGlite (docs/performance.md, "Knowledge"),
-- and a shared knowledge base with an embedding model of its own (docs/memory.md, "Knowledge").
--
-- The full-text indexes without a pending list: with fastupdate (the default) new entries wait
-- in an unsorted list that every search reads in full until a VACUUM or autovacuum merges it,
-- and PGlite runs neither. Chunks are written in batches and memories one at a time, so the
-- direct insert costs little. gin_clean_pending_list merges what is already waiting.
ALTER INDEX "knowledge_chunks_search_vector_idx" SET (fastupdate = off);--> statement-breakpoint
ALTER INDEX "memories_search_vector_idx" SET (fastupdate = off);--> statement-breakpoint
SELECT gin_clean_pending_list('knowledge_chunks_search_vector_idx'::regclass);--> statement-breakpoint
SELECT gin_clean_pending_list('memories_search_vector_idx'::regclass);--> statement-breakpoint
-- The model a base embeds its documents and queries with (an agent definition's model
-- reference: provider, model, baseURL?, apiKeySecret?, dimensions?); null: its agent's.
ALTER TABLE "knowledge_bases" ADD COLUMN "embedding_model_ref" jsonb;
