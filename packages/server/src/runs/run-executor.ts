import {
  type AgentDefinition,
  createRedactor,
  type NestedEvents,
  type RunAbortReason,
  type RunResume,
  type RunStore,
  runAgent,
} from '@parley/core';
import {
  createEventStamper,
  isTerminalEvent,
  type ParleyEvent,
  streamError,
} from '@parley/protocol';
import type { ContentPart, ModelMessage, ModelTool } from '@parley/providers';
import type { AppendBatch, ScopeOptions, Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import { runKnowledge } from '../knowledge/run-knowledge.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { watchRunSecrets } from '../telemetry/run-secrets.ts';
import { createRunSpans, type RunTrace } from '../telemetry/run-spans.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import type { Doorbell } from './doorbell.ts';
import { createEventLog } from './event-log.ts';
import type { LiveRun } from './live-run.ts';
import type { Provisioned } from './provision.ts';
import { type RunWrites, storeMemoryPort } from './store-ports.ts';
import { EndRefused, type WorkspaceBatcher } from './workspace-batcher.ts';

export interface GivenConversation {
  history: ModelMessage[];
  after?: ModelMessage[];
  tools?: ModelTool[];
}

/** What executing a run needs, whether it starts here or continues a stopped instance's. */
export interface Execution extends Provisioned {
  definition: AgentDefinition;
  input: string | ContentPart[];
  userId?: string;
  scope: ScopeOptions;
  /** Core's persistence for the run. */
  port: RunStore;
  /** Settles when the run's row (and a new conversation's) is stored. */
  created: Promise<unknown>;
  /** The run's place in its trace (and its span, when tracing is on). */
  trace: RunTrace;
  /** The run's message writes (`port`'s): its end is stored only if none failed. */
  writes: RunWrites;
  resume?: RunResume;
  given?: GivenConversation;
  /** Child runs' events, carried into this run's stream while its agent tools wait. */
  nested?: NestedEvents;
}

/** Events whose payload may quote a provider's error message. */
const CARRIES_ERROR = new Set([
  'run.error',
  'step.finish',
  'step.reset',
  'tool.result',
  'tool_call.invalid',
]);

export interface RunExecutorOptions {
  store: Store;
  batcher: WorkspaceBatcher;
  doorbell: Doorbell;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** Store every event (resume, replay); false stores only each run's start and end. */
  eventLog: boolean;
  /**
   * This instance and its lease's length, when runs are leased (PostgreSQL): its appends are
   * fenced by the lease, and extend it (a run that writes is alive).
   */
  owner?: { instanceId: string; leaseMs: number } | undefined;
  /** Stops a run here that another instance took over (its write was fenced). */
  handOver(run: LiveRun): void;
  /** Where runs' spans go, when tracing is on (OTEL_EXPORTER_OTLP_*). */
  tracing?: Tracing | undefined;
  /**
   * The run ended here (stored, or handed over): drop what tracks it. `unstored`: its log
   * failed (the database was unreachable past the retries), so its clients were shown an end
   * the log does not hold, and its row still says running.
   */
  ended(run: LiveRun, unstored: boolean): void;
}

/** The run's knowledge retriever, when its agent retrieves any (spread into its capabilities). */
function knowledgeOf(store: Store, ctx: Execution, workspaceId: string, agentId: string) {
  const knowledge = runKnowledge({
    store,
    workspaceId,
    agentId,
    definition: ctx.definition,
    scope: ctx.scope,
    embedding: ctx.embedding,
  });
  return knowledge ? { knowledge } : {};
}

/**
 * Executes runs on this instance: the run loop with the run's models, plugins and ports, its
 * events redacted, counted and stored through the event log (group commit, fenced by the
 * run's lease), then rung on the cluster's bus for followers elsewhere; a loop that fails
 * still ends the stream with a typed error. Starting and continuing runs, and where they
 * come from, is the run manager's.
 */
export function createRunExecutor(options: RunExecutorOptions) {
  const { store, batcher, doorbell, metrics, log } = options;
  const executions = new Set<Promise<void>>();

  /** Stores a batch of the run's events, then rings the bus for followers elsewhere. */
  function persistFor(run: LiveRun, writes: RunWrites) {
    const { workspaceId, id: runId } = run;
    /**
     * Appends in the run's lane. Its end is stored only if none of the run's writes before it
     * failed (they go first in the same lane, usually in the same round); else it says why.
     */
    const appendInLane = async (batch: AppendBatch) => {
      const ends = isTerminalEvent(batch.events.at(-1)!);
      try {
        return await batcher.append(workspaceId, batch, ends ? () => writes.failed : undefined);
      } catch (error) {
        if (!(error instanceof EndRefused)) throw error;
        const end = await failedEnd(run, writes);
        return await batcher.append(workspaceId, {
          ...batch,
          events: [...batch.events.slice(0, -1), end],
        });
      }
    };
    const append = async (events: ParleyEvent[]) => {
      // A handed-over run stores nothing past the handoff: its next instance goes on from there.
      if (run.handedOver) events = events.filter((e) => e.seq <= run.handoffSeq);
      if (events.length === 0) return;
      const gap = events[0]!.type === 'run.gap' ? events[0] : undefined;
      try {
        await appendInLane({
          runId,
          events,
          ...(gap?.type === 'run.gap' ? { gapAfter: gap.afterSeq } : {}),
          // Fenced: once another instance holds the run's lease, this one cannot write.
          ...(options.owner
            ? { owner: options.owner.instanceId, leaseMs: options.owner.leaseMs }
            : {}),
        });
      } catch (error) {
        if ((error as { code?: string }).code !== 'store.not_owner') throw error;
        if (!run.handedOver) {
          log.warn({ runId }, 'another instance took this run over: stopping it here');
          options.handOver(run);
        }
        return;
      }
      doorbell.ring(runId, events.at(-1)!.seq);
    };
    if (options.eventLog) return append;
    // Without the log only the outcome is stored (the run row's projection): no resume.
    return async (batch: ParleyEvent[]) => {
      const ends = batch.filter((e) => e.type === 'run.start' || isTerminalEvent(e));
      if (ends.length === 0) return;
      await appendInLane({ runId, events: ends, assignSeq: true });
      doorbell.ring(runId, ends.at(-1)!.seq);
    };
  }

  async function execute(run: LiveRun, ctx: Execution) {
    const { workspaceId, id: runId } = run;
    // Followers on other instances see what this instance's clients see, when they see it.
    run.onShown = (events) => doorbell.show(runId, events);
    const eventLog = createEventLog(run, {
      persist: persistFor(run, ctx.writes),
      onFailure: (error) => {
        log.error({ err: error, runId }, 'the event log failed: stopping the run');
        run.controller.abort({ reason: 'cancelled', by: 'server' } satisfies RunAbortReason);
      },
    });
    const observe = metrics.runObserver();
    // Traced only when an exporter is configured: otherwise nothing of OpenTelemetry runs.
    const spans =
      options.tracing &&
      ctx.trace.span &&
      createRunSpans(options.tracing.tracer, ctx.trace.span, {
        captureContent: options.tracing.captureContent,
        input: ctx.input,
      });
    // The run's secrets are scrubbed from its spans as they are exported (redaction.ts).
    const unwatch = spans
      ? watchRunSecrets(ctx.trace.context.traceId, ctx.secretValues)
      : undefined;
    // Some OpenAI-compatible servers quote the whole key in their error message: errors are
    // scrubbed of the run's keys before they are streamed or stored; so are tool results, of
    // every secret the run resolved (an MCP server may echo its token).
    const { redact } = createRedactor(ctx.secretValues);
    const emit = (raw: ParleyEvent) => {
      const event =
        ctx.secretValues.size > 0 && CARRIES_ERROR.has(raw.type)
          ? (redact(raw) as ParleyEvent)
          : raw;
      run.push(event);
      run.track(event);
      // The run tree's token budget counts every model call of every run in it.
      if (event.type === 'step.finish' && event.usage) run.family?.tree.add(event.usage);
      observe(event);
      spans?.observe(event);
      eventLog.append(event);
      run.show();
    };
    metrics.liveRuns.inc();
    try {
      for await (const event of runAgent(
        {
          agent: ctx.definition,
          agentId: run.agentId,
          workspaceId,
          conversationId: run.conversationId,
          ...(ctx.userId ? { userId: ctx.userId } : {}),
          input: ctx.input,
          runId,
          traceId: ctx.trace.context.traceId,
          ...(ctx.resume ? { resume: ctx.resume } : {}),
          ...(ctx.given?.after?.length ? { after: ctx.given.after } : {}),
          ...(ctx.given?.tools?.length ? { clientTools: ctx.given.tools } : {}),
        },
        {
          models: ctx.models,
          store: guardedPort(ctx.port, run),
          memory: storeMemoryPort(store, workspaceId, ctx.scope, ctx.created, ctx.embedding, log),
          ...(ctx.embedding.embed ? { embed: ctx.embedding.embed } : {}),
          ...(ctx.embedding.note ? { embedNote: ctx.embedding.note } : {}),
          ...knowledgeOf(store, ctx, workspaceId, run.agentId),
          plugins: ctx.plugins,
          approvals: run.approvals,
          signal: run.controller.signal,
          ...(ctx.nested ? { nested: ctx.nested } : {}),
        },
      )) {
        emit(event);
        if (isTerminalEvent(event)) break;
      }
    } catch (error) {
      // The run loop itself failed (a bug or the database): still end the stream properly.
      log.error({ err: error, runId }, 'run loop failed');
      const last = run.events.at(-1);
      if (!last || !isTerminalEvent(last)) {
        const stamper = createEventStamper({ runId, lastSeq: run.lastSeq });
        if (!last)
          emit(
            stamper.stamp({
              type: 'run.start',
              agentId: run.agentId,
              conversationId: run.conversationId,
              startedAt: new Date().toISOString(),
            }),
          );
        emit(
          stamper.stamp({
            type: 'run.error',
            error: streamError(
              'internal',
              'The run failed inside Parley; the server log has the details.',
            ),
            partial: run.events.some((e) => e.type === 'text.delta'),
          }),
        );
      }
    } finally {
      await eventLog.flush();
      await ctx.release();
      // The terminal is stored (or given up on): show it even if the log failed. A handed-over
      // run shows what it stored; its followers read the rest from the log.
      run.reveal(run.handedOver ? run.handoffSeq : run.lastSeq, true);
      metrics.liveRuns.dec();
      unwatch?.();
      options.ended(run, eventLog.failed && !run.handedOver);
    }
  }

  return {
    /** Executes the run in the background. */
    launch(run: LiveRun, ctx: Execution) {
      const execution = execute(run, ctx).finally(() => executions.delete(execution));
      executions.add(execution);
    },
    /** Resolves when every run executing now has ended here (its events stored). */
    async settled() {
      await Promise.all([...executions]);
    },
  };
}

/**
 * The run's end when a write of the run before it failed: a run.error saying why, in place of
 * the end the loop produced (not shown yet: an end is shown once stored), with its seq.
 */
async function failedEnd(run: LiveRun, writes: RunWrites): Promise<ParleyEvent> {
  const error = await writes.settled();
  const end = run.events.at(-1)!;
  const stamper = createEventStamper({
    runId: run.id,
    lastSeq: end.seq - 1,
    resume: { lastT: end.t, stepOrdinal: 0 },
  });
  const replacement = stamper.stamp({
    type: 'run.error',
    error: streamError(
      'internal',
      error instanceof Error
        ? error.message
        : 'A write of this run failed; nothing after it was kept.',
    ),
    partial: run.events.some((e) => e.type === 'text.delta'),
  });
  run.events[run.events.length - 1] = replacement;
  return replacement;
}

/**
 * Core's run port, silent once the run is handed over: the next instance writes its messages
 * and its outcome.
 */
function guardedPort(port: RunStore, run: LiveRun): RunStore {
  return {
    loadHistory: (conversationId) => port.loadHistory(conversationId),
    startRun: (record) => port.startRun(record),
    saveMessage: async (message) => {
      if (!run.handedOver) await port.saveMessage(message);
    },
    finishRun: async (runId, outcome) => {
      if (!run.handedOver) await port.finishRun(runId, outcome);
    },
  };
}
