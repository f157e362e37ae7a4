CREATE TABLE "cluster_counters" (
	"key" text PRIMARY KEY NOT NULL,
	"count" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cluster_jobs" (
	"name" text PRIMARY KEY NOT NULL,
	"last_tick" bigint NOT NULL,
	"ran_by" text,
	"ran_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "plugin_switches" (
	"name" text PRIMARY KEY NOT NULL,
	"disabled" boolean NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "cluster_counters_expires_idx" ON "cluster_counters" USING btree ("expires_at");--> statement-breakpoint
-- Hand-written: what a cluster's instances share (docs/scaling.md, "Cluster-wide state").
-- System tables with no workspace and no content: the runtime role reads and writes them.
GRANT SELECT, INSERT, UPDATE, DELETE ON "cluster_counters", "cluster_jobs", "plugin_switches" TO parley_app;
