ALTER TABLE "agents" ADD COLUMN "draft" jsonb;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "draft_updated_at" timestamp with time zone;