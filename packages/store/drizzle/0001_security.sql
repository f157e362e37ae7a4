-- Hand-written (drizzle-kit generate --custom): what drizzle-kit does not emit.
-- Runs as parley_owner, like every migration (see src/migrate.ts).
--
-- 1. FORCE ROW LEVEL SECURITY on every workspace table: without it the owner bypasses the
--    policies. (drizzle-kit emits ENABLE and the policies; never FORCE.)
ALTER TABLE "workspaces" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "memberships" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "invitations" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "api_tokens" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "workspace_keys" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "secrets" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agents" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_versions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "conversations" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "messages" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "runs" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "run_events" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "memories" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "audit_events" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "security_signals" FORCE ROW LEVEL SECURITY;--> statement-breakpoint

-- 2. Grants to the runtime role: data only, never DDL. The log tables are append-only.
GRANT SELECT, INSERT, UPDATE, DELETE ON
  "users", "sessions", "workspaces", "memberships", "invitations", "api_tokens", "secrets",
  "agents", "agent_versions", "conversations", "messages", "runs", "memories"
  TO parley_app;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "workspace_keys" TO parley_app;--> statement-breakpoint
GRANT SELECT, INSERT ON "run_events", "audit_events", "product_events" TO parley_app;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "security_signals" TO parley_app;--> statement-breakpoint

-- 3. Vector search: one partial HNSW index per common embedding size (an unsized `vector`
--    column cannot be indexed directly). Queries repeat the same cast and predicate so the
--    planner can use them (src/repositories/memories.ts). 3072 dimensions exceed HNSW's
--    2000-dimension limit for `vector`, so that size is indexed as halfvec.
CREATE INDEX "memories_embedding_384_hnsw" ON "memories"
  USING hnsw (("embedding"::vector(384)) vector_cosine_ops) WHERE "embedding_dimensions" = 384;--> statement-breakpoint
CREATE INDEX "memories_embedding_768_hnsw" ON "memories"
  USING hnsw (("embedding"::vector(768)) vector_cosine_ops) WHERE "embedding_dimensions" = 768;--> statement-breakpoint
CREATE INDEX "memories_embedding_1024_hnsw" ON "memories"
  USING hnsw (("embedding"::vector(1024)) vector_cosine_ops) WHERE "embedding_dimensions" = 1024;--> statement-breakpoint
CREATE INDEX "memories_embedding_1536_hnsw" ON "memories"
  USING hnsw (("embedding"::vector(1536)) vector_cosine_ops) WHERE "embedding_dimensions" = 1536;--> statement-breakpoint
CREATE INDEX "memories_embedding_3072_hnsw" ON "memories"
  USING hnsw (("embedding"::halfvec(3072)) halfvec_cosine_ops) WHERE "embedding_dimensions" = 3072;--> statement-breakpoint

-- 4. The reviewed SECURITY DEFINER functions: the only paths across workspaces. Each runs as
--    parley_owner, which FORCE subjects to RLS too; the narrow `*_definer_*` policies in the
--    schema say exactly what they may see. Fixed empty search_path, fully qualified names,
--    EXECUTE for parley_app only. The catalog test keeps this list closed.

-- Authentication: a bearer token's row by the SHA-256 of the presented token.
CREATE FUNCTION public.parley_find_api_token(p_token_hash text)
RETURNS TABLE (id uuid, workspace_id uuid, scopes text[], expires_at timestamptz,
               revoked_at timestamptz, created_by uuid, last_used_at timestamptz, last_used_ip text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT t.id, t.workspace_id, t.scopes, t.expires_at, t.revoked_at, t.created_by,
         t.last_used_at, t.last_used_ip
  FROM public.api_tokens t WHERE t.token_hash = p_token_hash
$$;--> statement-breakpoint

-- Accepting an invitation: the invitee does not know the workspace yet.
CREATE FUNCTION public.parley_find_invitation(p_token_hash text)
RETURNS TABLE (id uuid, workspace_id uuid, workspace_name text, email text, role text,
               expires_at timestamptz, accepted_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT i.id, i.workspace_id, w.name, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at
  FROM public.invitations i JOIN public.workspaces w ON w.id = i.workspace_id
  WHERE i.token_hash = p_token_hash
$$;--> statement-breakpoint

-- The workspace switcher: which workspaces a signed-in user belongs to, with the role.
CREATE FUNCTION public.parley_user_workspaces(p_user_id uuid)
RETURNS TABLE (workspace_id uuid, name text, role text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT w.id, w.name, m.role, w.created_at
  FROM public.memberships m JOIN public.workspaces w ON w.id = m.workspace_id
  WHERE m.user_id = p_user_id
  ORDER BY w.created_at, w.id
$$;--> statement-breakpoint

-- Master-key rotation: how many data keys each master-key version still wraps, and where.
CREATE FUNCTION public.parley_data_keys_by_master_version()
RETURNS TABLE (master_key_version integer, workspace_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT k.master_key_version, k.workspace_id FROM public.workspace_keys k
  ORDER BY k.workspace_id, k.version
$$;--> statement-breakpoint

-- Instance-wide security signals (no workspace known yet, e.g. invalid tokens from one address).
CREATE FUNCTION public.parley_record_instance_signal(
  p_kind text, p_severity text, p_ip text, p_actor_type text, p_actor_id text, p_details jsonb)
RETURNS uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = '' AS $$
  INSERT INTO public.security_signals (workspace_id, kind, severity, ip, actor_type, actor_id, details)
  VALUES (NULL, p_kind, p_severity, p_ip, p_actor_type, p_actor_id, p_details)
  RETURNING id
$$;--> statement-breakpoint

CREATE FUNCTION public.parley_list_instance_signals(p_since timestamptz, p_limit integer)
RETURNS TABLE (id uuid, at timestamptz, kind text, severity text, ip text, actor_type text,
               actor_id text, details jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT s.id, s.at, s.kind, s.severity, s.ip, s.actor_type, s.actor_id, s.details
  FROM public.security_signals s
  WHERE s.workspace_id IS NULL AND s.at >= p_since
  ORDER BY s.at DESC, s.id
  LIMIT p_limit
$$;--> statement-breakpoint

REVOKE ALL ON FUNCTION
  public.parley_find_api_token(text), public.parley_find_invitation(text),
  public.parley_user_workspaces(uuid), public.parley_data_keys_by_master_version(),
  public.parley_record_instance_signal(text, text, text, text, text, jsonb),
  public.parley_list_instance_signals(timestamptz, integer)
  FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION
  public.parley_find_api_token(text), public.parley_find_invitation(text),
  public.parley_user_workspaces(uuid), public.parley_data_keys_by_master_version(),
  public.parley_record_instance_signal(text, text, text, text, text, jsonb),
  public.parley_list_instance_signals(timestamptz, integer)
  TO parley_app;
