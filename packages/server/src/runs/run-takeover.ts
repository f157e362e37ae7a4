import type { RunAbortReason } from '@parley/core';
import type { ClaimedRun, ScopeOptions, Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import { HttpProblem } from '../http/problem.ts';
import { beginRunTrace, type RunTrace, refuseRunTrace } from '../telemetry/run-spans.ts';
import { formatTraceparent, newSpanId } from '../telemetry/trace-context.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import {
  type Continuation,
  continuedRunPort,
  NotContinuable,
  readContinuation,
} from './continuation.ts';
import type { Doorbell } from './doorbell.ts';
import { LiveRun } from './live-run.ts';
import { failUncontinuableRun } from './orphan-close.ts';
import type { Ownership } from './ownership.ts';
import type { createProvisioner, Provisioned } from './provision.ts';
import type { createRunExecutor } from './run-executor.ts';
import { createRunWrites, storeRunPort } from './store-ports.ts';
import type { WorkspaceBatcher } from './workspace-batcher.ts';

const SYSTEM_SCOPE: ScopeOptions = { actor: { type: 'system' } };

/** What handing runs over and continuing them uses of the run manager's machinery. */
export interface RunTakeoverDeps {
  store: Store;
  log: FastifyBaseLogger;
  tracing: Tracing | undefined;
  batcher: WorkspaceBatcher;
  provision: ReturnType<typeof createProvisioner>;
  executor: ReturnType<typeof createRunExecutor>;
  doorbell: Doorbell;
  /** Runs executing here, and those whose lease this instance holds. */
  live: Map<string, LiveRun>;
  leased: Set<string>;
  /** This instance's leases (PostgreSQL); none where runs are not leased (PGlite). */
  ownership: Ownership | undefined;
}

/**
 * Failover, both ends: a run this instance stops executing without ending it (SIGTERM, or
 * another instance took it over), and a run another instance stopped that this one claimed
 * and continues from its stored log (continuation.ts reads what that needs).
 */
export function createRunTakeover(deps: RunTakeoverDeps) {
  const { store, log, live, leased } = deps;

  /**
   * Stops executing a run without ending it: nothing more of it is stored (its log holds what
   * was stored so far), and another instance continues it. Its local followers go on reading
   * the log.
   */
  function handOver(run: LiveRun) {
    // Everything produced so far is stored (clients may have seen it); nothing after.
    run.handedOver = true;
    run.handoffSeq = run.lastSeq;
    leased.delete(run.id);
    run.controller.abort({ reason: 'shutdown', by: 'server' } satisfies RunAbortReason);
  }

  /** Another instance took over a run this one still executes: stop it, write nothing more. */
  function stopLost(runId: string) {
    const run = live.get(runId);
    if (run && !run.closed) {
      log.warn({ runId }, 'another instance took this run over: stopping it here');
      handOver(run);
    }
  }

  /**
   * Continues a run whose lease this instance just claimed: reads where its log stands, and
   * executes it from its last finished step. A run nobody can continue (its agent deleted)
   * ends with a typed run.error.
   */
  async function continueRun(claim: ClaimedRun): Promise<void> {
    const { workspaceId, runId } = claim;
    if (live.has(runId)) return;
    log.warn(
      { runId, from: claim.previousOwner ?? 'handed over' },
      'taking over a run whose instance stopped',
    );
    const found = await readOrEnd(claim);
    if (!found) return;
    const { run: row, definition, trust } = found;
    // Its spans join the trace it began in (their parent there is unknown: a new span id).
    const runTrace = beginRunTrace(
      deps.tracing?.tracer,
      { agentName: definition.name, agentId: row.agentId, workspaceId, runId },
      row.traceId ? { traceId: row.traceId, spanId: newSpanId(), sampled: true } : undefined,
    );
    let provisioned: Provisioned;
    try {
      provisioned = await deps.provision({
        definition,
        workspaceId,
        runId,
        scope: SYSTEM_SCOPE,
        trust,
        traceparent: formatTraceparent(runTrace.context),
      });
    } catch (error) {
      refuseRunTrace(runTrace, error);
      return endForGood(workspaceId, runId, error instanceof Error ? error.message : String(error));
    }
    await launch(claim, found, runTrace, provisioned);
  }

  /**
   * What continuing the claimed run needs; undefined when it has nothing left to continue,
   * or cannot be continued (then it is ended here).
   */
  async function readOrEnd(claim: ClaimedRun): Promise<Continuation | undefined> {
    const { workspaceId, runId } = claim;
    try {
      return await store.withWorkspace(
        workspaceId,
        (ws) => readContinuation(ws, runId, claim.previousOwner === null),
        SYSTEM_SCOPE,
      );
    } catch (error) {
      if (error instanceof NotContinuable || error instanceof HttpProblem) {
        await endForGood(workspaceId, runId, error.message);
        return undefined;
      }
      // The database failed us: let the run's lease lapse now, so it is claimed again.
      await deps.ownership?.release([runId]).catch(() => 0);
      throw error;
    }
  }

  /** Ends the run for good: what it needs is gone (its agent, a plugin, a key). */
  async function endForGood(workspaceId: string, runId: string, why: string) {
    log.warn({ runId, why }, 'a run could not be continued: ending it');
    await store.withWorkspace(
      workspaceId,
      (ws) => failUncontinuableRun(ws, runId, why),
      SYSTEM_SCOPE,
    );
    deps.doorbell.ring(runId, Number.MAX_SAFE_INTEGER);
  }

  /** Executes the claimed run here, from the point its stored log stands at. */
  async function launch(
    claim: ClaimedRun,
    found: Continuation,
    runTrace: RunTrace,
    provisioned: Provisioned,
  ) {
    const { workspaceId, runId } = claim;
    const { run: row, point } = found;
    const conversationId = row.conversationId!;
    const run = new LiveRun(runId, workspaceId, row.agentId, conversationId, point.lastSeq);
    run.trace = runTrace.context;
    live.set(runId, run);
    leased.add(runId);
    const created = Promise.resolve();
    const conversation = await store.withWorkspace(
      workspaceId,
      (ws) => ws.conversations.get(conversationId),
      SYSTEM_SCOPE,
    );
    const writes = createRunWrites();
    deps.executor.launch(run, {
      ...provisioned,
      definition: found.definition,
      trace: runTrace,
      input: found.input,
      ...(conversation?.userId ? { userId: conversation.userId } : {}),
      scope: SYSTEM_SCOPE,
      port: continuedRunPort(
        storeRunPort(deps.batcher, workspaceId, {
          newConversation: false,
          agentId: row.agentId,
          created,
          writes,
        }),
        found.history,
      ),
      writes,
      created,
      resume: { point, ...(found.gapUpTo ? { gapUpTo: found.gapUpTo } : {}) },
    });
  }

  return { handOver, stopLost, continueRun };
}
