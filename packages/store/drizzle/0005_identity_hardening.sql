CREATE TABLE "retired_trust_slugs" (
	"slug" text PRIMARY KEY NOT NULL,
	"retired_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_tokens" DROP CONSTRAINT "api_tokens_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "parent_id" uuid;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "operator_confirmed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "operator_code_hash" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_parent_fk" FOREIGN KEY ("workspace_id","parent_id") REFERENCES "public"."api_tokens"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_tokens_parent_id_idx" ON "api_tokens" USING btree ("parent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_operator_code_hash_key" ON "users" USING btree ("operator_code_hash");--> statement-breakpoint
-- Hand-written: what drizzle-kit does not emit.
-- Retired slugs are kept for good: the runtime role may read and add, never change or remove.
GRANT SELECT, INSERT ON "retired_trust_slugs" TO parley_app;--> statement-breakpoint
-- Tokens whose creator was deleted before this migration had become unlimited service tokens
-- (created_by SET NULL); no route makes tokens without a creator, so every such token is one
-- of those: revoke it. FORCE makes the owner subject to RLS, so lift it for this one update.
ALTER TABLE "api_tokens" NO FORCE ROW LEVEL SECURITY;--> statement-breakpoint
UPDATE "api_tokens" SET "revoked_at" = now() WHERE "created_by" IS NULL AND "revoked_at" IS NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" FORCE ROW LEVEL SECURITY;
