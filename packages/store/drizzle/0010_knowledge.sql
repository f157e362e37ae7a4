CREATE TABLE "knowledge_bases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"agent_id" uuid,
	"description" text,
	"embedding_model" text,
	"embedding_dimensions" integer,
	"chunk_size" integer DEFAULT 1200 NOT NULL,
	"chunk_overlap" integer DEFAULT 150 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "knowledge_bases_workspace_id_id_key" UNIQUE("workspace_id","id"),
	CONSTRAINT "knowledge_bases_workspace_name_key" UNIQUE("workspace_id","name"),
	CONSTRAINT "knowledge_bases_chunking_check" CHECK ("knowledge_bases"."chunk_size" between 100 and 20000 and "knowledge_bases"."chunk_overlap" >= 0 and "knowledge_bases"."chunk_overlap" < "knowledge_bases"."chunk_size")
);
--> statement-breakpoint
ALTER TABLE "knowledge_bases" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "knowledge_documents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"base_id" uuid NOT NULL,
	"name" text NOT NULL,
	"media_type" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"content_hash" text NOT NULL,
	"bytes" integer NOT NULL,
	"chunk_count" integer DEFAULT 0 NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "knowledge_documents_workspace_id_id_key" UNIQUE("workspace_id","id"),
	CONSTRAINT "knowledge_documents_base_name_key" UNIQUE("workspace_id","base_id","name")
);
--> statement-breakpoint
ALTER TABLE "knowledge_documents" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "knowledge_chunks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"base_id" uuid NOT NULL,
	"document_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"heading" text,
	"content" text NOT NULL,
	"embedding" vector,
	"embedding_dimensions" integer,
	"search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('english'::regconfig, coalesce("heading", '') || ' ' || "content")) STORED NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "knowledge_chunks_embedding_dimensions_check" CHECK (("knowledge_chunks"."embedding" is null and "knowledge_chunks"."embedding_dimensions" is null) or vector_dims("knowledge_chunks"."embedding") = "knowledge_chunks"."embedding_dimensions")
);
--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "knowledge_bases" ADD CONSTRAINT "knowledge_bases_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knowledge_bases" ADD CONSTRAINT "knowledge_bases_agent_fkey" FOREIGN KEY ("workspace_id","agent_id") REFERENCES "public"."agents"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knowledge_documents" ADD CONSTRAINT "knowledge_documents_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knowledge_documents" ADD CONSTRAINT "knowledge_documents_base_fkey" FOREIGN KEY ("workspace_id","base_id") REFERENCES "public"."knowledge_bases"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_document_fkey" FOREIGN KEY ("workspace_id","document_id") REFERENCES "public"."knowledge_documents"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "knowledge_bases_agent_idx" ON "knowledge_bases" USING btree ("workspace_id","agent_id");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_workspace_base_idx" ON "knowledge_chunks" USING btree ("workspace_id","base_id");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_document_idx" ON "knowledge_chunks" USING btree ("document_id","position");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_search_vector_idx" ON "knowledge_chunks" USING gin ("search_vector");--> statement-breakpoint
CREATE POLICY "knowledge_bases_workspace_isolation" ON "knowledge_bases" AS PERMISSIVE FOR ALL TO "parley_app" USING ("knowledge_bases"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("knowledge_bases"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "knowledge_documents_workspace_isolation" ON "knowledge_documents" AS PERMISSIVE FOR ALL TO "parley_app" USING ("knowledge_documents"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("knowledge_documents"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "knowledge_chunks_workspace_isolation" ON "knowledge_chunks" AS PERMISSIVE FOR ALL TO "parley_app" USING ("knowledge_chunks"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("knowledge_chunks"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
-- Hand-written: knowledge bases (docs/memory.md, "Knowledge"). Workspace tables: FORCE so the
-- owner is confined too, data-only grants to the runtime role, and the chunks' vector indexes
-- as memories have them (drizzle/0001_security.sql, section 3): one partial HNSW index per
-- common embedding size, 3072 as halfvec (HNSW indexes `vector` up to 2000 dimensions).
ALTER TABLE "knowledge_bases" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "knowledge_documents" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "knowledge_bases", "knowledge_documents", "knowledge_chunks" TO parley_app;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_embedding_384_hnsw" ON "knowledge_chunks"
  USING hnsw (("embedding"::vector(384)) vector_cosine_ops) WHERE "embedding_dimensions" = 384;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_embedding_768_hnsw" ON "knowledge_chunks"
  USING hnsw (("embedding"::vector(768)) vector_cosine_ops) WHERE "embedding_dimensions" = 768;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_embedding_1024_hnsw" ON "knowledge_chunks"
  USING hnsw (("embedding"::vector(1024)) vector_cosine_ops) WHERE "embedding_dimensions" = 1024;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_embedding_1536_hnsw" ON "knowledge_chunks"
  USING hnsw (("embedding"::vector(1536)) vector_cosine_ops) WHERE "embedding_dimensions" = 1536;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_embedding_3072_hnsw" ON "knowledge_chunks"
  USING hnsw (("embedding"::halfvec(3072)) halfvec_cosine_ops) WHERE "embedding_dimensions" = 3072;
