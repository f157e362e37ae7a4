-- Hand-written: the W3C trace id of a run (docs/observability.md), so a run can be found in
-- the tracing tool it was exported to, and its log lines by the same id. 32 lowercase hex
-- digits; runs from before this migration have none.
ALTER TABLE "runs" ADD COLUMN "trace_id" text;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_trace_id_check" CHECK ("runs"."trace_id" ~ '^[0-9a-f]{32}$');
