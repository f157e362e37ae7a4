-- Parley's roles and the vector extension, in the database Parley uses: the bootstrap of
-- docs/identity.md §7, with the two login roles it connects as.
--
-- Run it once per database as a superuser, connected to that database:
--   * in compose.yaml, the PostgreSQL image runs it on first start (only while its data
--     volume is empty: later edits need a new volume, or running it by hand as below);
--   * anywhere else (docs/deploy.md):
--       PGOPTIONS="-c parley.api_password=… -c parley.migrator_password=…" \
--         psql -v ON_ERROR_STOP=1 -h <host> -U postgres -d parley -f deploy/postgres-init.sql
--
-- The passwords come from the session, never from this file: the settings
-- parley.api_password and parley.migrator_password (PGOPTIONS above, or set_config() in the
-- same session). They end up in postgres:// URLs, so they are limited to URL-safe characters:
-- `openssl rand -hex 32` makes good ones. The login role names default to parley_api and
-- parley_migrator; parley.api_role and parley.migrator_role change them (one pair per Parley
-- database when several share a PostgreSQL server).
--
-- It may run again: existing roles keep their memberships and get the given passwords (how
-- passwords are rotated) and the attributes below.
--
-- What it makes:
--   parley_api       LOGIN, the runtime connection (PARLEY_DATABASE_URL). Never SUPERUSER or
--                    BYPASSRLS, never a member of parley_owner: row-level security applies to
--                    it, so Parley reports isolation as "enforced".
--   parley_migrator  LOGIN, the migration connection (PARLEY_MIGRATION_DATABASE_URL). Not a
--                    superuser either: a member of parley_owner, which owns every table.
--   parley_owner, parley_app  the NOLOGIN roles migrate() expects (cluster-wide, shared by
--                    every Parley database on the server).
--   vector           the pgvector extension (not a trusted extension: a superuser creates it).

DO $bootstrap$
DECLARE
  api_role text := coalesce(nullif(current_setting('parley.api_role', true), ''), 'parley_api');
  migrator_role text :=
    coalesce(nullif(current_setting('parley.migrator_role', true), ''), 'parley_migrator');
  api_password text := coalesce(current_setting('parley.api_password', true), '');
  migrator_password text := coalesce(current_setting('parley.migrator_password', true), '');
  login record;
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'deploy/postgres-init.sql must run as a superuser (it creates roles and the vector extension); "%" is not one', current_user;
  END IF;
  IF api_password !~ '^[A-Za-z0-9._~-]{16,}$' OR migrator_password !~ '^[A-Za-z0-9._~-]{16,}$' THEN
    RAISE EXCEPTION 'set parley.api_password and parley.migrator_password for this session: 16 or more URL-safe characters (A-Z a-z 0-9 . _ ~ -), for example from openssl rand -hex 32'
      USING HINT = 'PGOPTIONS="-c parley.api_password=… -c parley.migrator_password=…" psql … -f deploy/postgres-init.sql';
  END IF;
  IF api_role = migrator_role OR api_role IN ('parley_owner', 'parley_app')
     OR migrator_role IN ('parley_owner', 'parley_app') THEN
    RAISE EXCEPTION 'parley.api_role (%) and parley.migrator_role (%) must be two different roles, neither parley_owner nor parley_app', api_role, migrator_role;
  END IF;

  -- Roles are cluster-wide: another Parley database (or a Parley starting right now) may have
  -- made them, so "already exists" (42710, or 23505 when racing) means done.
  BEGIN
    CREATE ROLE parley_owner NOLOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  BEGIN
    CREATE ROLE parley_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'parley_app') THEN
    RAISE EXCEPTION 'the role parley_app may bypass row-level security: ALTER ROLE parley_app NOSUPERUSER NOBYPASSRLS';
  END IF;

  FOR login IN
    SELECT * FROM (VALUES (api_role, api_password), (migrator_role, migrator_password)) AS l (name, password)
  LOOP
    IF login.name = current_user
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = login.name) THEN
      RAISE EXCEPTION 'the login role % is a superuser: name a dedicated role (parley.api_role, parley.migrator_role)', login.name;
    END IF;
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN', login.name);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    -- Also when the role existed: a login role that could bypass row-level security would
    -- make the isolation merely "guarded".
    EXECUTE format(
      'ALTER ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD %L',
      login.name, login.password);
  END LOOP;

  IF pg_has_role(api_role, 'parley_owner', 'MEMBER') THEN
    RAISE EXCEPTION 'the runtime role % is a member of parley_owner, which owns the tables: REVOKE parley_owner FROM %', api_role, api_role;
  END IF;
  IF NOT pg_has_role(migrator_role, 'parley_owner', 'MEMBER') THEN
    EXECUTE format('GRANT parley_owner TO %I', migrator_role);
  END IF;
  IF NOT pg_has_role(api_role, 'parley_app', 'MEMBER') THEN
    EXECUTE format('GRANT parley_app TO %I', api_role);
  END IF;
END
$bootstrap$;

CREATE EXTENSION IF NOT EXISTS vector;
GRANT USAGE, CREATE ON SCHEMA public TO parley_owner;
GRANT USAGE ON SCHEMA public TO parley_app;
CREATE SCHEMA IF NOT EXISTS parley_meta AUTHORIZATION parley_owner;
