-- Hand-written: a lease renewal never waits for a run's row, and renews only the runs its
-- instance executes (docs/scaling.md, "How a run lives").
--
-- The renewal updated every run row its instance owned while the instance's write rounds update
-- some of the same rows (reserving their log's seqs) in another order: the two deadlocked, and
-- when the renewal was the one PostgreSQL cancelled, leases lapsed under runs that were alive.
-- Now it renews the rows no transaction holds (FOR UPDATE SKIP LOCKED: it never waits, so it
-- can take part in no deadlock). A row held by a write round needs no renewal: the owner's
-- writes extend its lease themselves (appendMany).
--
-- And it renewed by owner name alone: an instance restarted under the same PARLEY_INSTANCE_ID
-- kept alive the leases of the runs its previous process was executing when it died, so no
-- instance ever continued them. It now names the runs it executes, and answers which of them
-- it still holds.
DROP FUNCTION public.parley_renew_run_leases(text, integer);--> statement-breakpoint
CREATE FUNCTION public.parley_renew_run_leases(p_owner text, p_ttl_ms integer, p_run_ids uuid[])
RETURNS TABLE (run_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = '' AS $$
  WITH mine AS (
    SELECT id FROM public.runs
    WHERE id = ANY(p_run_ids) AND owner = p_owner AND status IN ('queued', 'running')
  ), free AS (
    SELECT r.id FROM public.runs r
    WHERE r.id IN (SELECT id FROM mine) AND r.owner = p_owner
    FOR UPDATE SKIP LOCKED
  ), renewed AS (
    UPDATE public.runs r SET lease_expires_at = now() + make_interval(secs => p_ttl_ms / 1000.0)
    FROM free WHERE r.id = free.id
    RETURNING r.id
  )
  SELECT id FROM mine
$$;--> statement-breakpoint
REVOKE ALL ON FUNCTION public.parley_renew_run_leases(text, integer, uuid[]) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION public.parley_renew_run_leases(text, integer, uuid[]) TO parley_app;
