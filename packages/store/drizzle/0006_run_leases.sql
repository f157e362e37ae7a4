ALTER TABLE "runs" ADD COLUMN "owner" text;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "lease_expires_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "runs_lease_idx" ON "runs" USING btree ("lease_expires_at") WHERE "runs"."status" in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "runs_owner_idx" ON "runs" USING btree ("owner") WHERE "runs"."status" in ('queued', 'running');--> statement-breakpoint
CREATE POLICY "runs_definer_lease_read" ON "runs" AS PERMISSIVE FOR SELECT TO "parley_owner" USING ("runs"."status" in ('queued', 'running'));--> statement-breakpoint
CREATE POLICY "runs_definer_lease_update" ON "runs" AS PERMISSIVE FOR UPDATE TO "parley_owner" USING ("runs"."status" in ('queued', 'running')) WITH CHECK ("runs"."status" in ('queued', 'running'));--> statement-breakpoint
-- Hand-written: the run leases of a cluster (docs/scaling.md). The instance executing a run
-- holds its lease and renews it; once it lapses (the instance died), another instance claims
-- the run and continues it. A clean handoff (SIGTERM) releases the lease with no owner: the
-- log is complete, the next owner needs no gap. Reviewed SECURITY DEFINER functions: they
-- read and write only the lease columns of unfinished runs, and return only ids.
CREATE FUNCTION public.parley_renew_run_leases(p_owner text, p_ttl_ms integer)
RETURNS TABLE (run_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = '' AS $$
  UPDATE public.runs SET lease_expires_at = now() + make_interval(secs => p_ttl_ms / 1000.0)
  WHERE owner = p_owner AND status IN ('queued', 'running')
  RETURNING id
$$;--> statement-breakpoint

CREATE FUNCTION public.parley_claim_lapsed_runs(p_owner text, p_ttl_ms integer, p_limit integer)
RETURNS TABLE (workspace_id uuid, run_id uuid, previous_owner text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = '' AS $$
  WITH lapsed AS (
    SELECT r.id, r.owner FROM public.runs r
    WHERE r.status IN ('queued', 'running') AND r.lease_expires_at < now()
    ORDER BY r.lease_expires_at
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED)
  UPDATE public.runs r
  SET owner = p_owner, lease_expires_at = now() + make_interval(secs => p_ttl_ms / 1000.0)
  FROM lapsed WHERE r.id = lapsed.id
  RETURNING r.workspace_id, r.id, lapsed.owner
$$;--> statement-breakpoint

CREATE FUNCTION public.parley_release_run_leases(p_owner text, p_run_ids uuid[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = '' AS $$
  WITH released AS (
    UPDATE public.runs SET owner = NULL, lease_expires_at = now() - interval '1 millisecond'
    WHERE owner = p_owner AND id = ANY(p_run_ids) AND status IN ('queued', 'running')
    RETURNING 1)
  SELECT count(*)::integer FROM released
$$;--> statement-breakpoint

REVOKE ALL ON FUNCTION
  public.parley_renew_run_leases(text, integer),
  public.parley_claim_lapsed_runs(text, integer, integer),
  public.parley_release_run_leases(text, uuid[])
  FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION
  public.parley_renew_run_leases(text, integer),
  public.parley_claim_lapsed_runs(text, integer, integer),
  public.parley_release_run_leases(text, uuid[])
  TO parley_app;
