-- Hand-written: a lease renewal never waits for a run's row (docs/scaling.md, "How a run lives").
-- The renewal updated every run row its instance owns while the instance's write rounds update
-- some of the same rows (reserving their log's seqs) in another order: the two deadlocked, and
-- when the renewal was the one PostgreSQL cancelled, leases lapsed under runs that were alive.
-- Now it renews the rows no transaction holds (FOR UPDATE SKIP LOCKED: it never waits, so it
-- can take part in no deadlock) and still answers every run its instance owns. A row held by a
-- write round needs no renewal: the owner's writes extend its lease themselves (appendMany).
CREATE OR REPLACE FUNCTION public.parley_renew_run_leases(p_owner text, p_ttl_ms integer)
RETURNS TABLE (run_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = '' AS $$
  WITH mine AS (
    SELECT id FROM public.runs WHERE owner = p_owner AND status IN ('queued', 'running')
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
$$;
