import { randomUUID } from 'node:crypto';
import {
  eventJson,
  isTerminalEvent,
  type ParleyEvent,
  ParleyEventSchema,
  RUN_STATUS_NAMES,
  type RunStatus,
  runStatusOf,
  type Usage,
  wasStamped,
} from '@parley/protocol';
import { and, asc, desc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { arrayParam, queryRows } from '../db.ts';
import { StoreError } from '../errors.ts';
import { runEvents, runs } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { LIMITS, limitSchema, parse, parseId, text, uuidSchema } from '../validation.ts';
import { afterRow, notFound } from './common.ts';
import { type NewConversation, newConversationRow } from './conversations.ts';

export type Run = typeof runs.$inferSelect;
export type { RunStatus };
export const RUN_STATUSES: readonly RunStatus[] = RUN_STATUS_NAMES;

const NewRunSchema = z.object({
  /** Chosen by the caller (the server starts the model call before the row is written). */
  id: uuidSchema.optional(),
  agentId: uuidSchema,
  agentVersionId: uuidSchema.optional(),
  conversationId: uuidSchema.optional(),
  provider: text(LIMITS.name).optional(),
  model: text(LIMITS.name).optional(),
  /** The run's W3C trace id (docs/observability.md). */
  traceId: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  /** `user:<id>`, `token:<id>`, `agent:<id>`, `system`. */
  startedBy: text(LIMITS.name).optional(),
  createdBy: uuidSchema.optional(),
  /** The run that started this one (an agent called as a tool, a handoff). */
  parentRunId: uuidSchema.optional(),
  /** The instance executing the run takes its lease (clusters: docs/scaling.md). */
  lease: z
    .object({ owner: text(LIMITS.name, 1), ttlMs: z.int().min(100).max(3_600_000) })
    .optional(),
});

export interface AppendOptions {
  /**
   * false (default): events carry their seq (from the run loop's stamper) and must continue
   * the log exactly at lastSeq + 1, else `store.seq_conflict` and nothing is written.
   * true: the store numbers them itself (and overwrites `seq`): for a second writer, such
   * as a cancel handled by another server instance that appends `run.abort`.
   */
  assignSeq?: boolean;
  /**
   * The batch starts with a `run.gap`: events numbered past seqs a crashed server may have
   * shown but never stored. The log must end at this seq (instead of right before the batch),
   * and its counter moves to the batch's last seq, so no seq a client may have seen is ever
   * stored with other content.
   */
  gapAfter?: number;
  /**
   * The server instance writing (a cluster): refused with `store.not_owner` unless it holds
   * the run's lease, so an instance whose lease lapsed while it was still alive cannot write
   * over the instance that took the run over (fencing).
   */
  owner?: string;
  /**
   * With `owner`: the write extends the owner's lease to at least this long from now (a run
   * whose log is being written is alive; the renewal skips rows a write holds).
   */
  leaseMs?: number;
}

export interface AppendBatch extends AppendOptions {
  runId: string;
  events: readonly ParleyEvent[];
}

export type AppendOutcome = { ok: true; result: AppendResult } | { ok: false; error: StoreError };

export interface AppendResult {
  firstSeq: number;
  lastSeq: number;
  /** The events as stored (with the seqs the store assigned). */
  events: ParleyEvent[];
  /** True when the batch ended the run (its last event is terminal). */
  closed: boolean;
}

/**
 * The run row is kept as a projection of its log, in the same statement that reserves the
 * seqs: `run.start` → running, `step.start` → provider/model, a terminal event → final
 * status, usage, timing, error, finished_at. The log is the truth; the row is for listing.
 */
function projection(events: ParleyEvent[]): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  for (const event of events) {
    switch (event.type) {
      case 'run.start':
        set.status = 'running';
        set.startedAt = new Date(event.startedAt).toISOString();
        break;
      case 'step.start':
        set.provider = event.provider;
        set.model = event.model;
        break;
      case 'run.finish':
        Object.assign(set, usageColumns(event.usage), {
          finishReason: event.finishReason.unified,
          ttftMs: event.timing.ttftMs ?? null,
          durationMs: event.timing.durationMs,
        });
        break;
      case 'run.error':
        set.error = event.error;
        set.finishReason = 'error';
        break;
      case 'run.abort':
        set.finishReason = `abort:${event.reason}`;
        break;
      default:
        break;
    }
    if (isTerminalEvent(event)) {
      set.status = runStatusOf(event);
      set.finishedAt = true; // the database's now()
    }
  }
  return set;
}

/** The row's columns a projection may set: its key, the column, the SQL type. */
const PROJECTED = [
  ['status', 'status', 'text'],
  ['startedAt', 'started_at', 'timestamptz'],
  ['provider', 'provider', 'text'],
  ['model', 'model', 'text'],
  ['inputTokens', 'input_tokens', 'int'],
  ['cachedInputTokens', 'cached_input_tokens', 'int'],
  ['outputTokens', 'output_tokens', 'int'],
  ['reasoningTokens', 'reasoning_tokens', 'int'],
  ['costUsd', 'cost_usd', 'float8'],
  ['costSource', 'cost_source', 'text'],
  ['finishReason', 'finish_reason', 'text'],
  ['ttftMs', 'ttft_ms', 'float8'],
  ['durationMs', 'duration_ms', 'float8'],
  ['error', 'error', 'jsonb'],
] as const;

/**
 * The run row's columns set from a batch's projection (`v.p`, JSON; null when the batch sets
 * none): a column the batch does not set keeps its value (a run sets each of them once in its
 * life: null over null is the only null written).
 */
const PROJECTION_SET = [
  ...PROJECTED.map(([key, column, type]) =>
    type === 'jsonb'
      ? `${column} = coalesce(nullif(v.p->'${key}', 'null'::jsonb), runs.${column})`
      : `${column} = coalesce((v.p->>'${key}')::${type}, runs.${column})`,
  ),
  `finished_at = case when v.p ? 'finishedAt' then now() else runs.finished_at end`,
].join(', ');

function usageColumns(usage: Usage) {
  return {
    inputTokens: usage.inputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens ?? null,
    costUsd: usage.costUsd ?? null,
    costSource: usage.costSource,
  };
}

/** A checked event and its JSON text (serialised once: checked, then stored as is). */
interface CheckedEvent {
  event: ParleyEvent;
  json: string;
}

/**
 * An event as given, checked against the stream's schema unless this process's stamper made
 * it (`wasStamped`: the run loop's events, typed payloads stamped in the server): those are
 * trusted, and stored with the bytes of their SSE frame (`eventJson`, one serialisation for
 * the log and every subscriber). Events from anywhere else (an import, another program) are
 * parsed.
 */
function checkEvent(raw: unknown, assignSeq: boolean): z.ZodSafeParseResult<ParleyEvent> {
  if (wasStamped(raw)) {
    const event = raw as ParleyEvent;
    return { success: true, data: assignSeq ? { ...event, seq: 1 } : event };
  }
  const candidate = assignSeq && raw && typeof raw === 'object' ? { ...raw, seq: 1 } : raw;
  return ParleyEventSchema.safeParse(candidate);
}

/** Built once: a schema made per call cost more than the check (every event-log write). */
const EventList = z.array(z.unknown()).min(1).max(LIMITS.eventsPerAppend);

/** listRunEvents' options (a follower catching up reads the log often). */
const EventListOptions = z.object({
  afterSeq: z.number().int().nonnegative().default(0),
  limit: z.number().int().min(1).max(10_000).default(1_000),
});

function validateEvents(
  runId: string,
  input: unknown,
  assignSeq: boolean,
  gapAfter: number | undefined,
): CheckedEvent[] {
  const list = parse(EventList, input, 'run events');
  const events = list.map((raw, i) => {
    const result = checkEvent(raw, assignSeq);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new StoreError(
        'store.invalid_input',
        `Invalid run event ${i}: ${issue?.path.join('.')} ${issue?.message}.`,
        {
          issues: result.error.issues.map((x) => ({
            path: [i, ...x.path].join('.'),
            message: x.message,
          })),
        },
      );
    }
    const event = result.data;
    const json = event === raw ? eventJson(event) : JSON.stringify(event);
    const problem =
      event.runId !== runId
        ? `belongs to run ${event.runId}`
        : json.length > LIMITS.eventBytes
          ? `is larger than ${LIMITS.eventBytes} characters of JSON`
          : json.includes('\\u0000')
            ? 'contains a NUL character'
            : isTerminalEvent(event) && i !== list.length - 1
              ? 'is terminal but not the last of the batch'
              : undefined;
    if (problem) {
      throw new StoreError('store.invalid_input', `Run event ${i} ${problem}.`, {
        issues: [{ path: String(i), message: problem }],
      });
    }
    return { event, json };
  });
  if (gapAfter !== undefined) {
    const first = events[0]!.event;
    if (assignSeq || first.type !== 'run.gap' || first.seq <= gapAfter || first.afterSeq > gapAfter)
      throw new StoreError(
        'store.invalid_input',
        'A batch after a gap starts with a run.gap numbered past the log, from where it ends.',
        { issues: [{ path: '0', message: 'not a run.gap past the log' }] },
      );
  }
  if (!assignSeq) {
    events.forEach(({ event: e }, i) => {
      if (i > 0 && e.seq !== events[0]!.event.seq + i) {
        throw new StoreError(
          'store.invalid_input',
          `Run event ${i} has seq ${e.seq}; a batch must be contiguous.`,
          {
            issues: [{ path: `${i}.seq`, message: 'not contiguous' }],
          },
        );
      }
    });
  }
  return events;
}

/** Runs, tokens and time to first token over a period (the dashboard's metrics view). */
export interface RunSummary {
  since: Date;
  total: number;
  byStatus: Record<string, number>;
  tokens: { input: number; output: number; cachedInput: number };
  costUsd: number;
  /** Per provider and model: TTFT percentiles in ms over the runs that streamed content. */
  ttft: {
    provider: string;
    model: string;
    count: number;
    p50: number | null;
    p95: number | null;
    p99: number | null;
  }[];
}

/** One time bucket of runs for one provider and model (the dashboard's TTFT chart). */
export interface RunSeriesPoint {
  /** The bucket's start, in UTC. */
  at: Date;
  provider: string;
  model: string;
  runs: number;
  failed: number;
  cancelled: number;
  /** Runs with a time to first token (the percentiles are over these). */
  ttftCount: number;
  ttftP50: number | null;
  ttftP95: number | null;
  outputTokens: number;
}

export type SeriesBucket = 'hour' | 'day';

export function runsRepository(ctx: ScopeContext) {
  return {
    /**
     * Runs per `bucket` (UTC hours or days) since `since`, per provider and model: counts,
     * failures and TTFT percentiles, oldest first. Empty buckets are absent.
     */
    async series(options: { since: Date; bucket: SeriesBucket }): Promise<RunSeriesPoint[]> {
      const { since, bucket } = parse(
        z.object({ since: z.date(), bucket: z.enum(['hour', 'day']) }),
        options,
        'series options',
      );
      const rows = await queryRows<{
        at: string;
        provider: string;
        model: string;
        n: number | string;
        failed: number | string;
        cancelled: number | string;
        ttft_n: number | string;
        p50: number | string | null;
        p95: number | string | null;
        output: number | string | null;
      }>(
        ctx.tx,
        // bucket is 'hour' or 'day' (validated above): a literal, so the grouping is one expression.
        sql`select to_char(date_trunc(${sql.raw(`'${bucket}'`)}, created_at at time zone 'UTC'),
                           'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at,
                   coalesce(provider, 'unknown') as provider, coalesce(model, 'unknown') as model,
                   count(*) as n,
                   count(*) filter (where status = 'failed') as failed,
                   count(*) filter (where status = 'cancelled') as cancelled,
                   count(ttft_ms) as ttft_n,
                   percentile_cont(0.5) within group (order by ttft_ms) as p50,
                   percentile_cont(0.95) within group (order by ttft_ms) as p95,
                   sum(output_tokens) as output
              from runs where workspace_id = ${ctx.workspaceId} and created_at >= ${since.toISOString()}::timestamptz
             group by 1, 2, 3 order by 1, 2, 3`,
      );
      const num = (v: number | string | null) => (v === null ? 0 : Number(v));
      const opt = (v: number | string | null) => (v === null ? null : Number(v));
      return rows.map((r) => ({
        at: new Date(r.at),
        provider: r.provider,
        model: r.model,
        runs: num(r.n),
        failed: num(r.failed),
        cancelled: num(r.cancelled),
        ttftCount: num(r.ttft_n),
        ttftP50: opt(r.p50),
        ttftP95: opt(r.p95),
        outputTokens: num(r.output),
      }));
    },

    /** Totals since `since` (default: the last 7 days), computed by the database. */
    async summary(options: { since?: Date } = {}): Promise<RunSummary> {
      const since = parse(
        z.date().default(() => new Date(Date.now() - 7 * 86_400_000)),
        options.since,
        'since',
      );
      const from = since.toISOString();
      const statusRows = await queryRows<{
        status: string;
        n: number | string;
        input: number | string | null;
        output: number | string | null;
        cached: number | string | null;
        cost: number | string | null;
      }>(
        ctx.tx,
        sql`select status, count(*) as n, sum(input_tokens) as input, sum(output_tokens) as output,
                   sum(cached_input_tokens) as cached, sum(cost_usd) as cost
              from runs where workspace_id = ${ctx.workspaceId} and created_at >= ${from}::timestamptz
             group by status`,
      );
      const ttftRows = await queryRows<{
        provider: string;
        model: string;
        n: number | string;
        p50: number | null;
        p95: number | null;
        p99: number | null;
      }>(
        ctx.tx,
        sql`select coalesce(provider, 'unknown') as provider, coalesce(model, 'unknown') as model, count(*) as n,
                   percentile_cont(0.5) within group (order by ttft_ms) as p50,
                   percentile_cont(0.95) within group (order by ttft_ms) as p95,
                   percentile_cont(0.99) within group (order by ttft_ms) as p99
              from runs where workspace_id = ${ctx.workspaceId} and created_at >= ${from}::timestamptz
               and ttft_ms is not null
             group by 1, 2 order by 1, 2`,
      );
      const num = (v: number | string | null) => (v === null ? 0 : Number(v));
      const byStatus: Record<string, number> = {};
      const tokens = { input: 0, output: 0, cachedInput: 0 };
      let costUsd = 0;
      for (const row of statusRows) {
        byStatus[row.status] = num(row.n);
        tokens.input += num(row.input);
        tokens.output += num(row.output);
        tokens.cachedInput += num(row.cached);
        costUsd += num(row.cost);
      }
      return {
        since,
        total: Object.values(byStatus).reduce((a, b) => a + b, 0),
        byStatus,
        tokens,
        costUsd,
        ttft: ttftRows.map((r) => ({
          provider: r.provider,
          model: r.model,
          count: num(r.n),
          p50: r.p50 === null ? null : Number(r.p50),
          p95: r.p95 === null ? null : Number(r.p95),
          p99: r.p99 === null ? null : Number(r.p99),
        })),
      };
    },

    async create(input: z.input<typeof NewRunSchema>): Promise<Run> {
      const [row] = await ctx.tx.insert(runs).values(newRunRow(ctx, input)).returning();
      return row!;
    },

    /**
     * Starts several runs in one statement whatever their number (a burst arriving at once):
     * the new conversations among them and the runs, from arrays (no per-row query building).
     * Answers each run's id and conversation, in order.
     */
    async startMany(
      items: readonly { conversation?: NewConversation; run: z.input<typeof NewRunSchema> }[],
    ): Promise<StartedRun[]> {
      if (items.length === 0) return [];
      // Ids are chosen here when not given: the statement answers rows by id.
      const fresh = items.flatMap((item) => {
        if (!item.conversation) return [];
        const row = newConversationRow(ctx, item.conversation);
        return [{ ...row, id: row.id ?? randomUUID() }];
      });
      const values = items.map((item) => {
        const run = parse(NewRunSchema, item.run, 'run');
        return { ...run, id: run.id ?? randomUUID() };
      });
      const rows = await queryRows<{ id: string; conversation_id: string | null }>(
        ctx.tx,
        startStatement(ctx.workspaceId, fresh, values),
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      return values.map((value) => {
        const row = byId.get(value.id)!;
        return { id: row.id, conversationId: row.conversation_id };
      });
    },

    async get(runId: string): Promise<Run | null> {
      const id = parseId(runId, 'run id');
      const [row] = await ctx.tx.select().from(runs).where(eq(runs.id, id));
      return row ?? null;
    },

    /** Newest first; page with `beforeId` (the last row's id) or `before` (its createdAt). */
    async list(
      options: {
        agentId?: string;
        conversationId?: string;
        /** Only the runs this run started (its child runs). */
        parentRunId?: string;
        status?: RunStatus;
        limit?: number;
        before?: Date;
        beforeId?: string;
      } = {},
    ): Promise<Run[]> {
      const value = parse(
        z.object({
          agentId: uuidSchema.optional(),
          conversationId: uuidSchema.optional(),
          parentRunId: uuidSchema.optional(),
          status: z.enum(RUN_STATUS_NAMES).optional(),
          limit: limitSchema.default(50),
          before: z.date().optional(),
          beforeId: uuidSchema.optional(),
        }),
        options,
        'list options',
      );
      return ctx.tx
        .select()
        .from(runs)
        .where(
          and(
            eq(runs.workspaceId, ctx.workspaceId),
            value.agentId ? eq(runs.agentId, value.agentId) : undefined,
            value.conversationId ? eq(runs.conversationId, value.conversationId) : undefined,
            value.parentRunId ? eq(runs.parentRunId, value.parentRunId) : undefined,
            value.status ? eq(runs.status, value.status) : undefined,
            value.before ? lt(runs.createdAt, value.before) : undefined,
            value.beforeId
              ? afterRow(
                  runs,
                  { time: runs.createdAt, id: runs.id, workspaceId: runs.workspaceId },
                  ctx.workspaceId,
                  value.beforeId,
                )
              : undefined,
          ),
        )
        .orderBy(desc(runs.createdAt), desc(runs.id))
        .limit(value.limit);
    },

    /**
     * Appends a batch of Parley Stream events to the run's log in one insert. Seqs stay
     * unique per run, and gap-free but for a declared `run.gap` (`gapAfter`), with any number
     * of concurrent writers: the run row's
     * counter is advanced (and locked) by the same transaction that inserts the events.
     * After a terminal event the log is closed (`store.run_closed`).
     */
    async appendRunEvents(
      runId: string,
      input: readonly ParleyEvent[],
      options: AppendOptions = {},
    ): Promise<AppendResult> {
      const [outcome] = await appendMany(ctx, [{ runId, events: input, ...options }]);
      if (!outcome!.ok) throw outcome!.error;
      return outcome!.result;
    },

    /**
     * Appends to many runs at once (group commit: the run path's batcher gathers the appends
     * of every live run in the workspace): one statement reserves every run's seqs, one
     * inserts every event, whatever the number of runs. Each batch succeeds or fails on its
     * own (`store.seq_conflict`, `store.run_closed`, `store.not_found`, invalid events), in
     * the order given.
     */
    async appendRunEventsMany(batches: readonly AppendBatch[]): Promise<AppendOutcome[]> {
      return appendMany(ctx, batches);
    },

    /** The log after `afterSeq` (0: from the start), in order: what a resuming client missed. */
    async listRunEvents(
      runId: string,
      options: { afterSeq?: number; limit?: number } = {},
    ): Promise<ParleyEvent[]> {
      const id = parseId(runId, 'run id');
      const value = parse(EventListOptions, options, 'list options');
      const rows = await ctx.tx
        .select({ event: runEvents.event })
        .from(runEvents)
        .where(
          and(
            eq(runEvents.workspaceId, ctx.workspaceId),
            eq(runEvents.runId, id),
            gt(runEvents.seq, value.afterSeq),
          ),
        )
        .orderBy(asc(runEvents.seq))
        .limit(value.limit);
      if (rows.length === 0) {
        const [run] = await ctx.tx.select({ id: runs.id }).from(runs).where(eq(runs.id, id));
        if (!run) throw notFound('run', id);
      }
      return rows.map((r) => r.event as unknown as ParleyEvent);
    },
  };
}

/** A new run's row: validated, its lease (if any) on the database's clock like every renewal. */
function newRunRow(ctx: ScopeContext, input: z.input<typeof NewRunSchema>) {
  const { lease, ...value } = parse(NewRunSchema, input, 'run');
  return {
    workspaceId: ctx.workspaceId,
    ...value,
    ...(lease
      ? {
          owner: lease.owner,
          leaseExpiresAt: sql`now() + make_interval(secs => ${lease.ttlMs / 1000})`,
        }
      : {}),
  };
}

/** What starting a run answers. */
export interface StartedRun {
  id: string;
  conversationId: string | null;
}

type NewRun = z.output<typeof NewRunSchema> & { id: string };

/**
 * The new conversations and runs of a burst in one statement: the conversations in a CTE (the
 * runs' references to them are checked at the statement's end, when both are in), columns as
 * array parameters. A run's lease is on the database's clock, as every renewal.
 */
function startStatement(
  workspaceId: string,
  fresh: readonly (ReturnType<typeof newConversationRow> & { id: string })[],
  values: readonly NewRun[],
) {
  const column = <T, K extends keyof T>(rows: readonly T[], key: K) =>
    rows.map((row) => row[key] ?? null);
  const conversationsCte = fresh.length
    ? sql`with fresh as (
        insert into conversations (workspace_id, id, agent_id, title, user_id, created_by, metadata)
        select ${workspaceId}::uuid, c.id, c.agent_id, c.title, c.user_id, c.created_by,
          coalesce(c.metadata::jsonb, '{}'::jsonb)
        from unnest(${arrayParam(column(fresh, 'id'), 'uuid[]')}, ${arrayParam(column(fresh, 'agentId'), 'uuid[]')},
          ${arrayParam(column(fresh, 'title'), 'text[]')}, ${arrayParam(column(fresh, 'userId'), 'text[]')},
          ${arrayParam(column(fresh, 'createdBy'), 'uuid[]')},
          ${arrayParam(
            fresh.map((c) => (c.metadata ? JSON.stringify(c.metadata) : null)),
            'text[]',
          )}) as c(id, agent_id, title, user_id, created_by, metadata)
        returning id
      ) `
    : sql``;
  return sql`${conversationsCte}insert into runs (workspace_id, id, agent_id, agent_version_id,
      conversation_id, provider, model, trace_id, started_by, created_by, parent_run_id, owner,
      lease_expires_at)
    select ${workspaceId}::uuid, r.id, r.agent_id, r.agent_version_id, r.conversation_id,
      r.provider, r.model, r.trace_id, r.started_by, r.created_by, r.parent_run_id, r.owner,
      case when r.lease_ms is null then null else now() + make_interval(secs => r.lease_ms / 1000.0) end
    from unnest(${arrayParam(column(values, 'id'), 'uuid[]')}, ${arrayParam(column(values, 'agentId'), 'uuid[]')},
      ${arrayParam(column(values, 'agentVersionId'), 'uuid[]')},
      ${arrayParam(column(values, 'conversationId'), 'uuid[]')},
      ${arrayParam(column(values, 'provider'), 'text[]')}, ${arrayParam(column(values, 'model'), 'text[]')},
      ${arrayParam(column(values, 'traceId'), 'text[]')}, ${arrayParam(column(values, 'startedBy'), 'text[]')},
      ${arrayParam(column(values, 'createdBy'), 'uuid[]')},
      ${arrayParam(column(values, 'parentRunId'), 'uuid[]')},
      ${arrayParam(
        values.map((v) => v.lease?.owner ?? null),
        'text[]',
      )},
      ${arrayParam(
        values.map((v) => v.lease?.ttlMs ?? null),
        'int[]',
      )})
      as r(id, agent_id, agent_version_id, conversation_id, provider, model, trace_id, started_by,
        created_by, parent_run_id, owner, lease_ms)
    returning id, conversation_id`;
}

/** How long a write may extend its owner's lease (as a renewal may: run-leases.ts). */
const LEASE_MS = z.int().min(100).max(3_600_000);

/** A batch as appendMany validated it. */
interface ValidBatch {
  i: number;
  id: string;
  events: ParleyEvent[];
  /** Each event's JSON as validated (numbered batches are stored with it as is). */
  jsons: string[];
  assignSeq: boolean;
  gapAfter: number | undefined;
  owner: string | null;
  leaseMs: number | null;
}

/**
 * One statement for every batch, whatever their number: reserves each run's seqs (and sets
 * its row's projection) in one UPDATE, and inserts the events of the runs it reserved. Array
 * parameters, not a VALUES list: building one through the query builder cost more CPU than
 * the database spent storing the rows. The events go as one JSON array of their stored JSON
 * (joined, not escaped element by element into a text array: that was 2 % of the server's CPU
 * with a hundred runs streaming). Events the store numbers (`assignSeq`) get their seq
 * from the reserved counter. Answers each reserved run's new last seq; a run missing from it
 * was refused (see the caller).
 */
async function reserveAndInsert(ctx: ScopeContext, valid: readonly ValidBatch[]) {
  const events = { run: [] as string[], seq: [] as (number | null)[], k: [] as number[] };
  const types: string[] = [];
  const jsons: string[] = [];
  for (const batch of valid)
    batch.events.forEach((event, k) => {
      events.run.push(batch.id);
      events.seq.push(batch.assignSeq ? null : event.seq);
      events.k.push(k + 1);
      types.push(event.type);
      jsons.push(batch.jsons[k]!);
    });
  const rows = await queryRows<{ id: string; last_seq: number }>(
    ctx.tx,
    // Numbered batches move the counter to their last seq (past a declared gap, too).
    sql`with v as (
        select * from unnest(
          ${arrayParam(
            valid.map((b) => b.id),
            'uuid[]',
          )},
          ${arrayParam(
            valid.map((b) => b.events.length),
            'int[]',
          )},
          ${arrayParam(
            valid.map((b) => (b.assignSeq ? null : (b.gapAfter ?? b.events[0]!.seq - 1))),
            'int[]',
          )},
          ${arrayParam(
            valid.map((b) => (b.assignSeq ? null : b.events.at(-1)!.seq)),
            'int[]',
          )},
          ${arrayParam(
            valid.map((b) => b.owner),
            'text[]',
          )},
          ${arrayParam(
            valid.map((b) => (b.owner === null ? null : b.leaseMs)),
            'int[]',
          )},
          ${arrayParam(
            valid.map((b) => projectionJson(b.events)),
            'jsonb[]',
          )}
        ) as v(id, n, expected, last, owner, lease_ms, p)
      ), reserved as (
        update runs set last_seq = coalesce(v.last, runs.last_seq + v.n), updated_at = now(),
          lease_expires_at = case when v.lease_ms is null then runs.lease_expires_at
            else greatest(runs.lease_expires_at, now() + make_interval(secs => v.lease_ms / 1000.0)) end,
          ${sql.raw(PROJECTION_SET)}
        from v
        where runs.id = v.id and runs.workspace_id = ${ctx.workspaceId}
          and runs.finished_at is null and (v.expected is null or runs.last_seq = v.expected)
          and (v.owner is null or runs.owner is not distinct from v.owner)
        returning runs.id, runs.last_seq, v.n
      ), stored as (
        insert into run_events (workspace_id, run_id, seq, type, event)
        select ${ctx.workspaceId}::uuid, u.r, coalesce(u.s, r.last_seq - r.n + u.k), u.t,
          case when u.s is null
            then jsonb_set(u.e, '{seq}', to_jsonb(r.last_seq - r.n + u.k))
            else u.e end
        from rows from (unnest(${arrayParam(events.run, 'uuid[]')}), unnest(${arrayParam(events.seq, 'int[]')}),
          unnest(${arrayParam(events.k, 'int[]')}), unnest(${arrayParam(types, 'text[]')}),
          jsonb_array_elements(${sql.param(`[${jsons.join(',')}]`)}::jsonb))
          as u(r, s, k, t, e)
        join reserved r on r.id = u.r
      )
      select id, last_seq from reserved`,
  );
  return new Map(rows.map((r) => [r.id, Number(r.last_seq)]));
}

/** A batch's projection as JSON for the statement, or null when it sets nothing. */
function projectionJson(events: ParleyEvent[]): string | null {
  const set = projection(events);
  return Object.keys(set).length > 0 ? JSON.stringify(set) : null;
}

/** Validates, then reserves seqs, projects and inserts every batch's events in one statement. */
async function appendMany(
  ctx: ScopeContext,
  batches: readonly AppendBatch[],
): Promise<AppendOutcome[]> {
  const outcomes: (AppendOutcome | undefined)[] = batches.map(() => undefined);
  const valid: ValidBatch[] = [];
  const seen = new Set<string>();
  const later: number[] = [];
  batches.forEach((batch, i) => {
    try {
      const id = parseId(batch.runId, 'run id');
      const assignSeq = batch.assignSeq ?? false;
      const gapAfter = batch.gapAfter;
      const checked = validateEvents(id, batch.events, assignSeq, gapAfter);
      const events = checked.map((c) => c.event);
      const jsons = checked.map((c) => c.json);
      // A run twice in one call: its second batch goes after the first is stored.
      if (seen.has(id)) later.push(i);
      else {
        seen.add(id);
        valid.push({
          i,
          id,
          events,
          jsons,
          assignSeq,
          gapAfter,
          owner: batch.owner ?? null,
          leaseMs:
            batch.leaseMs === undefined ? null : parse(LEASE_MS, batch.leaseMs, 'lease length'),
        });
      }
    } catch (error) {
      outcomes[i] = { ok: false, error: error as StoreError };
    }
  });
  if (valid.length > 0) {
    const lastSeqOf = await reserveAndInsert(ctx, valid);
    const refused: typeof valid = [];
    for (const batch of valid) {
      const lastSeq = lastSeqOf.get(batch.id);
      if (lastSeq === undefined) {
        refused.push(batch);
        continue;
      }
      const n = batch.events.length;
      const firstSeq = batch.assignSeq ? lastSeq - n + 1 : batch.events[0]!.seq;
      const stored = batch.assignSeq
        ? batch.events.map((e, k) => ({ ...e, seq: firstSeq + k }))
        : batch.events;
      outcomes[batch.i] = {
        ok: true,
        result: { firstSeq, lastSeq, events: stored, closed: isTerminalEvent(stored[n - 1]!) },
      };
    }
    if (refused.length > 0) {
      const found = await ctx.tx
        .select({
          id: runs.id,
          lastSeq: runs.lastSeq,
          finishedAt: runs.finishedAt,
          owner: runs.owner,
        })
        .from(runs)
        .where(
          inArray(
            runs.id,
            refused.map((b) => b.id),
          ),
        );
      const byId = new Map(found.map((r) => [r.id, r]));
      for (const batch of refused) {
        const run = byId.get(batch.id);
        outcomes[batch.i] = {
          ok: false,
          error: !run
            ? notFound('run', batch.id)
            : run.finishedAt
              ? new StoreError('store.run_closed', `Run ${batch.id} has ended; its log is closed.`)
              : batch.owner !== null && run.owner !== batch.owner
                ? new StoreError(
                    'store.not_owner',
                    `Run ${batch.id} is held by another server instance (${run.owner ?? 'none'}), not ${batch.owner}.`,
                  )
                : new StoreError(
                    'store.seq_conflict',
                    batch.gapAfter === undefined
                      ? `Run ${batch.id} continues at seq ${run.lastSeq + 1}, but the batch starts at ${batch.events[0]!.seq}.`
                      : `Run ${batch.id}'s log ends at seq ${run.lastSeq}, not at ${batch.gapAfter} where the gap starts.`,
                    { details: { expected: run.lastSeq + 1, received: batch.events[0]!.seq } },
                  ),
        };
      }
    }
  }
  for (const i of later) {
    const [outcome] = await appendMany(ctx, [batches[i]!]);
    outcomes[i] = outcome!;
  }
  return outcomes as AppendOutcome[];
}
