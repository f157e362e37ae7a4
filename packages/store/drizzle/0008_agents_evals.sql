-- Teams of agents (docs/multi-agent.md): a run another run started (an agent called as a tool,
-- or handed the conversation) points at its parent; the runs API lists children with it.
ALTER TABLE "runs" ADD COLUMN "parent_run_id" uuid;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_parent_fkey" FOREIGN KEY ("workspace_id","parent_run_id") REFERENCES "public"."runs"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "runs_parent_idx" ON "runs" USING btree ("workspace_id","parent_run_id") WHERE "runs"."parent_run_id" is not null;--> statement-breakpoint
-- Evals (docs/evals.md): one row per `parley eval` of a dataset against an agent version (or the
-- draft when agent_version_id is null), its cases' scores as JSON.
CREATE TABLE "eval_results" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"agent_version_id" uuid,
	"version_label" text NOT NULL,
	"dataset" text NOT NULL,
	"case_count" integer NOT NULL,
	"mean_score" double precision NOT NULL,
	"cases" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "eval_results_workspace_id_id_key" UNIQUE("workspace_id","id"),
	CONSTRAINT "eval_results_mean_score_check" CHECK ("eval_results"."mean_score" between 0 and 1)
);
--> statement-breakpoint
ALTER TABLE "eval_results" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "eval_results" ADD CONSTRAINT "eval_results_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "eval_results" ADD CONSTRAINT "eval_results_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "eval_results" ADD CONSTRAINT "eval_results_agent_fkey" FOREIGN KEY ("workspace_id","agent_id") REFERENCES "public"."agents"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "eval_results" ADD CONSTRAINT "eval_results_agent_version_fkey" FOREIGN KEY ("workspace_id","agent_version_id") REFERENCES "public"."agent_versions"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "eval_results_dataset_idx" ON "eval_results" USING btree ("workspace_id","agent_id","dataset","created_at");--> statement-breakpoint
CREATE POLICY "eval_results_workspace_isolation" ON "eval_results" AS PERMISSIVE FOR ALL TO "parley_app" USING ("eval_results"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid) WITH CHECK ("eval_results"."workspace_id" = nullif(current_setting('app.workspace_id', true), '')::uuid);--> statement-breakpoint

-- Hand-written below (see 0001_security.sql for the pattern): FORCE row-level security, and the
-- runtime role's grants (results are written once and read; deleting an agent removes them).
ALTER TABLE "eval_results" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
GRANT SELECT, INSERT ON "eval_results" TO parley_app;
