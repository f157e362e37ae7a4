CREATE TABLE "support_sla_policies" (
	"workspace_id" uuid NOT NULL,
	"priority" text NOT NULL,
	"first_response_hours" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "support_sla_policies_pkey" PRIMARY KEY("workspace_id","priority"),
	CONSTRAINT "support_sla_policies_priority_check" CHECK ("support_sla_policies"."priority" in ('low', 'normal', 'high', 'urgent')),
	CONSTRAINT "support_sla_policies_hours_check" CHECK ("support_sla_policies"."first_response_hours" between 1 and 8760)
);
--> statement-breakpoint
ALTER TABLE "support_sla_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "support_ticket_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "support_ticket_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"actor" text NOT NULL,
	"direction" text,
	"body" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "support_ticket_events_workspace_id_id_key" UNIQUE("workspace_id","id"),
	CONSTRAINT "support_ticket_events_kind_check" CHECK ("support_ticket_events"."kind" in ('activate', 'pause', 'fulfill', 'breach', 'reopen', 'message', 'status', 'assign', 'priority')),
	CONSTRAINT "support_ticket_events_direction_check" CHECK ("support_ticket_events"."direction" is null or "support_ticket_events"."direction" in ('inbound', 'outbound'))
);
--> statement-breakpoint
ALTER TABLE "support_ticket_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "support_tickets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"status" text DEFAULT 'new' NOT NULL,
	"priority" text DEFAULT 'normal' NOT NULL,
	"channel" text NOT NULL,
	"requester" text NOT NULL,
	"assignee" text,
	"external_key" text,
	"sla_hours" integer NOT NULL,
	"first_response_due_at" timestamp with time zone,
	"sla_remaining_seconds" integer,
	"first_responded_at" timestamp with time zone,
	"sla_breached_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "support_tickets_workspace_id_id_key" UNIQUE("workspace_id","id"),
	CONSTRAINT "support_tickets_status_check" CHECK ("support_tickets"."status" in ('new', 'open', 'pending', 'solved', 'closed')),
	CONSTRAINT "support_tickets_priority_check" CHECK ("support_tickets"."priority" in ('low', 'normal', 'high', 'urgent'))
);
--> statement-breakpoint
ALTER TABLE "support_tickets" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "trust_page_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"content" jsonb NOT NULL,
	"edited_by" text NOT NULL,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "trust_page_versions_workspace_id_id_key" UNIQUE("workspace_id","id"),
	CONSTRAINT "trust_page_versions_version_check" CHECK ("trust_page_versions"."version" >= 1)
);
--> statement-breakpoint
ALTER TABLE "trust_page_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "trust_pages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"slug" text,
	"published_at" timestamp with time zone,
	"current_version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "trust_pages_workspace_id_id_key" UNIQUE("workspace_id","id"),
	CONSTRAINT "trust_pages_slug_check" CHECK ("trust_pages"."slug" ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
);
--> statement-breakpoint
ALTER TABLE "trust_pages" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "trust_partners" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text DEFAULT 'exchange' NOT NULL,
	"migration_status" text NOT NULL,
	"last_verified_on" date,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "trust_partners_workspace_id_id_key" UNIQUE("workspace_id","id"),
	CONSTRAINT "trust_partners_status_check" CHECK ("trust_partners"."migration_status" in ('not_started', 'in_progress', 'completed', 'not_supported'))
);
--> statement-breakpoint
ALTER TABLE "trust_partners" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "trust_status_updates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"posted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"body" text NOT NULL,
	"posted_by" text NOT NULL,
	CONSTRAINT "trust_status_updates_workspace_id_id_key" UNIQUE("workspace_id","id")
);
--> statement-breakpoint
ALTER TABLE "trust_status_updates" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "support_sla_policies" ADD CONSTRAINT "support_sla_policies_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "support_ticket_events" ADD CONSTRAINT "support_ticket_events_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "support_ticket_events" ADD CONSTRAINT "support_ticket_events_ticket_fkey" FOREIGN KEY ("workspace_id","ticket_id") REFERENCES "public"."support_tickets"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "support_tickets" ADD CONSTRAINT "support_tickets_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trust_page_versions" ADD CONSTRAINT "trust_page_versions_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trust_pages" ADD CONSTRAINT "trust_pages_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trust_partners" ADD CONSTRAINT "trust_partners_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trust_status_updates" ADD CONSTRAINT "trust_status_updates_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "support_ticket_events_ticket_idx" ON "support_ticket_events" USING btree ("workspace_id","ticket_id","at");--> statement-breakpoint
CREATE INDEX "support_ticket_events_kind_idx" ON "support_ticket_events" USING btree ("workspace_id","kind","at");--> statement-breakpoint
CREATE INDEX "support_tickets_status_idx" ON "support_tickets" USING btree ("workspace_id","status","created_at");--> statement-breakpoint
CREATE INDEX "support_tickets_due_idx" ON "support_tickets" USING btree ("first_response_due_at");--> statement-breakpoint
CREATE INDEX "support_tickets_external_idx" ON "support_tickets" USING btree ("workspace_id","channel","external_key");--> statement-breakpoint
CREATE UNIQUE INDEX "trust_page_versions_version_key" ON "trust_page_versions" USING btree ("workspace_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "trust_pages_workspace_key" ON "trust_pages" USING btree ("workspace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "trust_pages_slug_key" ON "trust_pages" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "trust_partners_name_key" ON "trust_partners" USING btree ("workspace_id",lower("name"));--> statement-breakpoint
CREATE INDEX "trust_status_updates_posted_idx" ON "trust_status_updates" USING btree ("workspace_id","posted_at");--> statement-breakpoint
CREATE POLICY "support_sla_policies_workspace_isolation" ON "support_sla_policies" AS PERMISSIVE FOR ALL TO "parley_app" USING ("support_sla_policies"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("support_sla_policies"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "support_ticket_events_workspace_isolation" ON "support_ticket_events" AS PERMISSIVE FOR ALL TO "parley_app" USING ("support_ticket_events"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("support_ticket_events"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "support_tickets_workspace_isolation" ON "support_tickets" AS PERMISSIVE FOR ALL TO "parley_app" USING ("support_tickets"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("support_tickets"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "support_tickets_definer_read" ON "support_tickets" AS PERMISSIVE FOR SELECT TO "parley_owner" USING (true);--> statement-breakpoint
CREATE POLICY "trust_page_versions_workspace_isolation" ON "trust_page_versions" AS PERMISSIVE FOR ALL TO "parley_app" USING ("trust_page_versions"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("trust_page_versions"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "trust_pages_workspace_isolation" ON "trust_pages" AS PERMISSIVE FOR ALL TO "parley_app" USING ("trust_pages"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("trust_pages"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "trust_pages_definer_read" ON "trust_pages" AS PERMISSIVE FOR SELECT TO "parley_owner" USING ("trust_pages"."published_at" is not null);--> statement-breakpoint
CREATE POLICY "trust_partners_workspace_isolation" ON "trust_partners" AS PERMISSIVE FOR ALL TO "parley_app" USING ("trust_partners"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("trust_partners"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "trust_status_updates_workspace_isolation" ON "trust_status_updates" AS PERMISSIVE FOR ALL TO "parley_app" USING ("trust_status_updates"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("trust_status_updates"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint

-- Hand-written below (what drizzle-kit does not emit; see 0001_security.sql for the pattern).
-- 1. FORCE ROW LEVEL SECURITY on every new workspace table.
ALTER TABLE "trust_pages" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "trust_page_versions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "trust_partners" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "trust_status_updates" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "support_tickets" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "support_ticket_events" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "support_sla_policies" FORCE ROW LEVEL SECURITY;--> statement-breakpoint

-- 2. Grants to the runtime role. Page versions and ticket events are append-only logs.
GRANT SELECT, INSERT, UPDATE, DELETE ON
  "trust_pages", "trust_partners", "trust_status_updates", "support_tickets", "support_sla_policies"
  TO parley_app;--> statement-breakpoint
GRANT SELECT, INSERT ON "trust_page_versions", "support_ticket_events" TO parley_app;--> statement-breakpoint

-- 3. Reviewed SECURITY DEFINER functions (docs/identity.md lists them; the catalog test keeps
--    the list closed).

-- The public trust page: which workspace publishes this slug (nothing for an unpublished one).
CREATE FUNCTION public.parley_find_published_trust_page(p_slug text)
RETURNS TABLE (workspace_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT p.workspace_id FROM public.trust_pages p
  WHERE p.slug = p_slug AND p.published_at IS NOT NULL
$$;--> statement-breakpoint

-- The SLA scheduler: the workspaces that have support tickets (ids only), so it can check
-- each inside its own workspace transaction.
CREATE FUNCTION public.parley_support_workspaces()
RETURNS TABLE (workspace_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT DISTINCT t.workspace_id FROM public.support_tickets t ORDER BY 1
$$;--> statement-breakpoint

REVOKE ALL ON FUNCTION
  public.parley_find_published_trust_page(text), public.parley_support_workspaces()
  FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION
  public.parley_find_published_trust_page(text), public.parley_support_workspaces()
  TO parley_app;
