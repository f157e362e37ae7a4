CREATE POLICY "agents_definer_channels_read" ON "agents" AS PERMISSIVE FOR SELECT TO "parley_owner" USING ("agents"."current_version" is not null and "agents"."archived_at" is null);--> statement-breakpoint
CREATE POLICY "agent_versions_definer_channels_read" ON "agent_versions" AS PERMISSIVE FOR SELECT TO "parley_owner" USING (jsonb_typeof("agent_versions"."definition" -> 'channels') = 'array');--> statement-breakpoint
-- Hand-written: the channel manager's start (docs/channels.md). Every instance opens the chat
-- channels of every workspace's deployed agents; this reviewed SECURITY DEFINER function says
-- which workspaces have any (ids only). The two policies above let it read, as parley_owner,
-- only deployed agents and only versions that list channels; the agents and their tokens are
-- then read in each workspace's own transaction.
CREATE FUNCTION public.parley_channel_workspaces()
RETURNS TABLE (workspace_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT DISTINCT a.workspace_id FROM public.agents a
  JOIN public.agent_versions v
    ON v.workspace_id = a.workspace_id AND v.agent_id = a.id AND v.version = a.current_version
  WHERE a.current_version IS NOT NULL AND a.archived_at IS NULL
    AND jsonb_typeof(v.definition -> 'channels') = 'array'
    AND jsonb_array_length(v.definition -> 'channels') > 0
  ORDER BY 1
$$;--> statement-breakpoint

REVOKE ALL ON FUNCTION public.parley_channel_workspaces() FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION public.parley_channel_workspaces() TO parley_app;
