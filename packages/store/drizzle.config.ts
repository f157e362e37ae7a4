import { defineConfig } from 'drizzle-kit';

// `npm run db:generate -w @parley/store` writes a new migration from src/schema. FORCE ROW
// LEVEL SECURITY, grants, the reviewed SECURITY DEFINER functions and the per-size HNSW
// indexes are not something drizzle-kit emits: they live in hand-written (`--custom`)
// migrations, see README.md ("Changing the schema").
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: './drizzle',
  entities: { roles: true },
});
