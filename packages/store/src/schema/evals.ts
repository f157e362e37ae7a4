import { sql } from 'drizzle-orm';
import {
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents, agentVersions } from './agents.ts';
import { createdAt, id, workspaceIdColumn, workspaceIsolation } from './columns.ts';
import { users, workspaces } from './identity.ts';

/**
 * One `parley eval` of a dataset against an agent: the version it ran (null: the draft), the
 * mean score and every case's scores (docs/evals.md). Written once, read to compare.
 */
export const evalResults = pgTable(
  'eval_results',
  {
    id: id(),
    workspaceId: workspaceIdColumn().references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id').notNull(),
    agentVersionId: uuid('agent_version_id'),
    /** `v3`, or `draft`. */
    versionLabel: text('version_label').notNull(),
    /** The dataset's name (its file name without `.jsonl`): results of one dataset compare. */
    dataset: text('dataset').notNull(),
    caseCount: integer('case_count').notNull(),
    meanScore: doublePrecision('mean_score').notNull(),
    cases: jsonb('cases').$type<unknown[]>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    unique('eval_results_workspace_id_id_key').on(t.workspaceId, t.id),
    check('eval_results_mean_score_check', sql`${t.meanScore} between 0 and 1`),
    index('eval_results_dataset_idx').on(t.workspaceId, t.agentId, t.dataset, t.createdAt),
    foreignKey({
      name: 'eval_results_agent_fkey',
      columns: [t.workspaceId, t.agentId],
      foreignColumns: [agents.workspaceId, agents.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'eval_results_agent_version_fkey',
      columns: [t.workspaceId, t.agentVersionId],
      foreignColumns: [agentVersions.workspaceId, agentVersions.id],
    }).onDelete('cascade'),
    workspaceIsolation('eval_results', t.workspaceId),
  ],
).enableRLS();
