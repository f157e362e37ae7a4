-- The runtime role may read which migrations are applied (tags and hashes, nothing else), so
-- a server started with only its runtime connection can see that the schema is current and
-- skip migrate()'s owner-only steps.
GRANT USAGE ON SCHEMA parley_meta TO parley_app;--> statement-breakpoint
GRANT SELECT ON parley_meta.migrations TO parley_app;
