import { createEventStamper } from '@parley/protocol';
import { expect, it } from 'vitest';
import { loadMigrations } from '../src/internal.ts';
import { INDEXED_EMBEDDING_DIMENSIONS } from '../src/repositories/memories.ts';
import { describeEachEngineFromEmpty, type Harness, seedWorkspace } from './support/engines.ts';

/*
 * The database's own catalog is the proof of isolation: these queries fail the build if any
 * workspace table lacks ENABLE, FORCE or a policy, if a foreign key between workspace tables
 * is not composite, if a view runs with its owner's rights, or if a SECURITY DEFINER function
 * appears that nobody reviewed. Each guard is also shown to catch a planted violation.
 */

const WORKSPACE_TABLES = [
  'agent_versions',
  'agents',
  'api_tokens',
  'audit_events',
  'conversations',
  // drizzle/0008_agents_evals.sql: one row per eval of a dataset against an agent version.
  'eval_results',
  'invitations',
  // drizzle/0010_knowledge.sql: knowledge bases, their documents and chunks.
  'knowledge_bases',
  'knowledge_chunks',
  'knowledge_documents',
  'memberships',
  'memories',
  'messages',
  'run_events',
  'runs',
  'secrets',
  'security_signals',
  'support_sla_policies',
  'support_ticket_events',
  'support_tickets',
  'trust_page_versions',
  'trust_pages',
  'trust_partners',
  'trust_status_updates',
  'workspace_keys',
];
const SYSTEM_TABLES = [
  // drizzle/0007_cluster_state.sql: what a cluster's instances share (no workspace, no content).
  'cluster_counters',
  'cluster_jobs',
  'plugin_switches',
  'product_events',
  'retired_trust_slugs',
  'sessions',
  'users',
];

/** Reviewed cross-workspace paths (drizzle/0001_security.sql, 0004_trust.sql). Adding one is a security review. */
const DEFINER_FUNCTIONS = [
  // drizzle/0011_channel_workspaces.sql: workspaces whose deployed agents list channels, ids only.
  'parley_channel_workspaces',
  // drizzle/0006_run_leases.sql: the lease columns of unfinished runs, ids only.
  'parley_claim_lapsed_runs',
  'parley_data_keys_by_master_version',
  // drizzle/0015_event_log_cascade.sql: a deleted run's events, from the statement's deleted rows.
  'parley_drop_run_events',
  'parley_find_api_token',
  'parley_find_invitation',
  'parley_find_published_trust_page',
  'parley_list_instance_signals',
  'parley_record_instance_signal',
  'parley_release_run_leases',
  'parley_renew_run_leases',
  'parley_support_workspaces',
  'parley_user_workspaces',
];

// G1: a table with workspace_id (or the workspaces table itself) without ENABLE + FORCE + a
// policy for the runtime role that mentions app.workspace_id.
const G1 = `
  select c.relname as table
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p')
    and (c.relname = 'workspaces' or exists (
      select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'workspace_id' and not a.attisdropped))
    and not (c.relrowsecurity and c.relforcerowsecurity and exists (
      select 1 from pg_policy p
      where p.polrelid = c.oid and p.polroles @> array[(select oid from pg_roles where rolname = 'parley_app')]
        and p.polcmd = '*' and pg_get_expr(p.polqual, p.polrelid) like '%app.workspace_id%'
        and pg_get_expr(p.polwithcheck, p.polrelid) like '%app.workspace_id%'))
  order by 1`;

// G5: a foreign key from a workspace table to another workspace table that does not carry
// workspace_id on both sides (referential checks bypass RLS: a single-column key would let
// workspace A point at B's rows and probe for their existence).
const G5 = `
  select con.conrelid::regclass::text as table, con.conname as constraint
  from pg_constraint con
  where con.contype = 'f' and con.connamespace = 'public'::regnamespace
    and exists (select 1 from pg_attribute a where a.attrelid = con.conrelid and a.attname = 'workspace_id')
    and exists (select 1 from pg_attribute a where a.attrelid = con.confrelid and a.attname = 'workspace_id')
    and not exists (
      select 1 from unnest(con.conkey, con.confkey) as k(local, remote)
      join pg_attribute la on la.attrelid = con.conrelid and la.attnum = k.local
      join pg_attribute ra on ra.attrelid = con.confrelid and ra.attnum = k.remote
      where la.attname = 'workspace_id' and ra.attname = 'workspace_id')
  order by 1, 2`;

// G2: views that run with their owner's rights.
const G2 = `
  select c.relname as view from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('v', 'm')
    and not coalesce(c.reloptions @> array['security_invoker=true'], false)`;

// G3: SECURITY DEFINER functions, with whether their search_path is pinned.
const G3 = `
  select p.proname as name, coalesce(array_to_string(p.proconfig, ','), '') like '%search_path=%' as pinned,
         has_function_privilege('public', p.oid, 'EXECUTE') as public_execute
  from pg_proc p where p.prosecdef and p.pronamespace = 'public'::regnamespace order by 1`;

/** Creates a deliberately broken table as superuser, runs the guard, drops the table again. */
async function withPlanted<R>(h: Harness, plant: string[], guard: string): Promise<R[]> {
  const name = `planted_${Math.random().toString(36).slice(2, 8)}`;
  try {
    for (const statement of plant) await h.admin(statement.replaceAll('PLANTED', name));
    return await h.admin<R>(guard);
  } finally {
    await h.admin(`drop table if exists ${name}_child`);
    await h.admin(`drop table if exists ${name}`);
  }
}

// From empty databases, migrated here: what migrating builds is what these tests check.
describeEachEngineFromEmpty('schema catalog', (h, engine) => {
  it('applies every migration to an empty database, then does nothing on the next run', async () => {
    const recorded = await h().admin<{ tag: string }>(
      'select tag from parley_meta.migrations order by tag',
    );
    expect(recorded.map((r) => r.tag)).toEqual(loadMigrations().map((m) => m.tag));
    const again = await h().store.migrate();
    expect(again.applied).toEqual([]);
    expect(again.all).toEqual(recorded.map((r) => r.tag));
  });

  it('runs concurrent migrate() calls one after the other', async () => {
    const results = await Promise.all([h().store.migrate(), h().store.migrate()]);
    expect(results.map((r) => r.applied)).toEqual([[], []]);
  });

  it('has exactly the expected tables', async () => {
    const rows = await h().admin<{ table: string }>(
      `select tablename as table from pg_tables where schemaname = 'public' order by 1`,
    );
    expect(rows.map((r) => r.table)).toEqual(
      [...WORKSPACE_TABLES, ...SYSTEM_TABLES, 'workspaces'].sort(),
    );
  });

  it('G1: every workspace table has ENABLE, FORCE and a workspace policy for the runtime role', async () => {
    expect(await h().admin(G1)).toEqual([]);
    const withColumn = await h().admin<{ table: string }>(
      `select distinct c.relname as table from pg_attribute a join pg_class c on c.oid = a.attrelid
       where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and a.attname = 'workspace_id' order by 1`,
    );
    expect(withColumn.map((r) => r.table)).toEqual(WORKSPACE_TABLES);
  });

  it('G1 catches a workspace table without FORCE or without a policy', async () => {
    const noForce = await withPlanted<{ table: string }>(
      h(),
      [
        'create table PLANTED (id uuid primary key, workspace_id uuid not null)',
        'alter table PLANTED enable row level security',
        `create policy p on PLANTED to parley_app using (workspace_id = nullif(current_setting('app.workspace_id', true), '')::uuid)
           with check (workspace_id = nullif(current_setting('app.workspace_id', true), '')::uuid)`,
      ],
      G1,
    );
    expect(noForce.map((r) => r.table)).toHaveLength(1);
    const noPolicy = await withPlanted<{ table: string }>(
      h(),
      [
        'create table PLANTED (id uuid primary key, workspace_id uuid not null)',
        'alter table PLANTED enable row level security',
        'alter table PLANTED force row level security',
      ],
      G1,
    );
    expect(noPolicy).toHaveLength(1);
  });

  it('G5: every foreign key between workspace tables includes workspace_id', async () => {
    expect(await h().admin(G5)).toEqual([]);
    const planted = await withPlanted<{ constraint: string }>(
      h(),
      [
        'create table PLANTED (id uuid primary key, workspace_id uuid not null, agent_id uuid references agents (id))',
      ],
      G5,
    );
    expect(planted).toHaveLength(1);
  });

  it('G2: no view runs with its owner rights', async () => {
    expect(await h().admin(G2)).toEqual([]);
  });

  it('G3: only the reviewed SECURITY DEFINER functions exist, each with a pinned search_path and no PUBLIC execute', async () => {
    const rows = await h().admin<{ name: string; pinned: boolean; public_execute: boolean }>(G3);
    expect(rows.map((r) => r.name)).toEqual(DEFINER_FUNCTIONS);
    for (const row of rows) {
      expect(row.pinned, row.name).toBe(true);
      expect(row.public_execute, row.name).toBe(false);
    }
  });

  it('G4: the runtime role cannot bypass RLS and owns nothing; parley_owner owns every table', async () => {
    const [app] = await h().admin<{
      rolsuper: boolean;
      rolbypassrls: boolean;
      rolcanlogin: boolean;
    }>(`select rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = 'parley_app'`);
    expect(app).toEqual({ rolsuper: false, rolbypassrls: false, rolcanlogin: false });
    const owners = await h().admin<{ owner: string }>(
      `select distinct tableowner as owner from pg_tables where schemaname in ('public', 'parley_meta')`,
    );
    expect(owners).toEqual([{ owner: 'parley_owner' }]);
  });

  it('keeps the logs append-only, and the migration record read-only for the runtime role', async () => {
    const rows = await h().admin<{ tbl: string; privilege: string }>(
      `select t.tbl, p.privilege from unnest(array['audit_events', 'run_events', 'product_events']) as t(tbl),
              unnest(array['UPDATE', 'DELETE', 'TRUNCATE']) as p(privilege)
       where has_table_privilege('parley_app', t.tbl, p.privilege)`,
    );
    expect(rows).toEqual([]);
    // The runtime role may see which migrations are applied (to start without owner rights
    // when nothing is pending), and nothing else: no writes, no other object in parley_meta.
    const [meta] = await h().admin<{
      usage: boolean;
      create: boolean;
      read: boolean;
      write: boolean;
    }>(
      `select has_schema_privilege('parley_app', 'parley_meta', 'USAGE') as usage,
              has_schema_privilege('parley_app', 'parley_meta', 'CREATE') as create,
              has_table_privilege('parley_app', 'parley_meta.migrations', 'SELECT') as read,
              has_table_privilege('parley_app', 'parley_meta.migrations', 'INSERT')
                or has_table_privilege('parley_app', 'parley_meta.migrations', 'UPDATE')
                or has_table_privilege('parley_app', 'parley_meta.migrations', 'DELETE')
                or has_table_privilege('parley_app', 'parley_meta.migrations', 'TRUNCATE') as write`,
    );
    expect(meta).toEqual({ usage: true, create: false, read: true, write: false });
    const others = await h().admin<{ name: string }>(
      `select c.relname as name from pg_class c where c.relnamespace = 'parley_meta'::regnamespace
         and c.relname <> 'migrations' and has_table_privilege('parley_app', c.oid, 'SELECT')`,
    );
    expect(others).toEqual([]);
  });

  it('checks no event-log row against another table, and a deleted run, conversation, agent or workspace takes its log with it', async () => {
    // A reference is a lookup and a lock per appended event (migrations 0014, 0015): the log
    // has none; the trigger on runs deletes a deleted run's events instead.
    const references = await h().admin<{ name: string }>(
      `select conname as name from pg_constraint
       where conrelid = 'run_events'::regclass and contype = 'f'`,
    );
    expect(references).toEqual([]);
    const { workspaceId } = await seedWorkspace(h().store, 'gone');
    const logged = (agentId: string, conversationId?: string) =>
      h().store.withWorkspace(workspaceId, async (w) => {
        const run = await w.runs.create({
          agentId,
          startedBy: 'system',
          ...(conversationId ? { conversationId } : {}),
        });
        const stamper = createEventStamper({ runId: run.id });
        await w.runs.appendRunEvents(run.id, [
          stamper.stamp({ type: 'run.start', agentId, startedAt: new Date().toISOString() }),
          stamper.stamp({ type: 'text.start', partId: 'p1' }),
        ]);
        return run.id;
      });
    const count = (runId?: string) =>
      h().admin<{ n: number }>(
        `select count(*)::int as n from run_events where workspace_id = $1${runId ? ' and run_id = $2' : ''}`,
        runId ? [workspaceId, runId] : [workspaceId],
      );
    const { stays, goes, conversationId } = await h().store.withWorkspace(
      workspaceId,
      async (w) => {
        const agent = await w.agents.create({ name: 'stays' });
        const conversation = await w.conversations.create({ agentId: agent.id });
        return {
          stays: agent.id,
          goes: (await w.agents.create({ name: 'goes' })).id,
          conversationId: conversation.id,
        };
      },
    );
    const keptRun = await logged(stays);
    const conversationRun = await logged(stays, conversationId);
    const agentRun = await logged(goes);
    expect(await count()).toEqual([{ n: 6 }]);
    // By the runtime role, which may not delete log rows itself.
    await h().store.withWorkspace(workspaceId, (w) => w.conversations.delete(conversationId));
    expect(await count(conversationRun)).toEqual([{ n: 0 }]);
    await h().store.withWorkspace(workspaceId, (w) => w.agents.delete(goes));
    expect(await count(agentRun)).toEqual([{ n: 0 }]);
    expect(await count(keptRun)).toEqual([{ n: 2 }]);
    // Another workspace's log is not touched by this one's deletes.
    const other = await seedWorkspace(h().store, 'stays');
    const otherRun = await h().store.withWorkspace(other.workspaceId, async (w) => {
      const agent = await w.agents.create({ name: 'other' });
      const run = await w.runs.create({ agentId: agent.id, startedBy: 'system' });
      const stamper = createEventStamper({ runId: run.id });
      await w.runs.appendRunEvents(run.id, [
        stamper.stamp({
          type: 'run.start',
          agentId: agent.id,
          startedAt: new Date().toISOString(),
        }),
      ]);
      return run.id;
    });
    await h().admin('delete from workspaces where id = $1', [workspaceId]);
    expect(await count()).toEqual([{ n: 0 }]);
    const [left] = await h().admin<{ n: number }>(
      'select count(*)::int as n from run_events where run_id = $1',
      [otherRun],
    );
    expect(left).toEqual({ n: 1 });
  });

  it('has the partial HNSW index for every indexed embedding size, and btree indexes on workspace_id', async () => {
    const rows = await h().admin<{ name: string; def: string }>(
      `select indexname as name, indexdef as def from pg_indexes where tablename = 'memories' and indexdef like '%hnsw%' order by 1`,
    );
    expect(rows).toHaveLength(Object.keys(INDEXED_EMBEDDING_DIMENSIONS).length);
    for (const [dimensions, type] of Object.entries(INDEXED_EMBEDDING_DIMENSIONS)) {
      const index = rows.find((r) => r.name === `memories_embedding_${dimensions}_hnsw`);
      expect(index?.def, dimensions).toContain(`${type}(${dimensions})`);
      expect(index?.def, dimensions).toContain(`(embedding_dimensions = ${dimensions})`);
    }
    const unindexed = await h().admin<{ table: string }>(
      `select c.relname as table from pg_class c
       where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
         and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'workspace_id')
         and not exists (select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                         where i.indrelid = c.oid and a.attname = 'workspace_id')`,
    );
    expect(unindexed).toEqual([]);
  });

  it('reports how strongly the runtime connection is isolated', () => {
    const report = h().store.isolation;
    if (engine === 'postgres') {
      expect(report).toMatchObject({ level: 'enforced', sessionRole: 'parley_test_runtime' });
    } else {
      expect(report).toMatchObject({ level: 'guarded', sessionRole: 'postgres' });
    }
  });

  it('refuses to migrate over an applied migration that was edited', async () => {
    const [first] = await h().admin<{ tag: string; hash: string }>(
      'select tag, hash from parley_meta.migrations order by tag limit 1',
    );
    await h().admin('update parley_meta.migrations set hash = $1 where tag = $2', [
      '0'.repeat(64),
      first!.tag,
    ]);
    try {
      await expect(h().store.migrate()).rejects.toMatchObject({ code: 'store.migration_mismatch' });
    } finally {
      await h().admin('update parley_meta.migrations set hash = $1 where tag = $2', [
        first!.hash,
        first!.tag,
      ]);
    }
    expect((await h().store.migrate()).applied).toEqual([]);
  });
});
