import type { Bus } from '@parley/cluster';
import type { RunAbortReason } from '@parley/core';
import { type api, runStatusOf } from '@parley/protocol';
import type { Run, ScopeOptions, Store, WorkspaceScope } from '@parley/store';
import { notFound } from '../http/problem.ts';
import type { Doorbell } from './doorbell.ts';
import type { LiveRun } from './live-run.ts';
import { cancelRunElsewhere } from './orphan-close.ts';
import {
  createRunCommands,
  type RunCommand,
  type RunCommands,
  type RunReply,
} from './run-commands.ts';
import { hasEnded } from './stored-run.ts';

const SYSTEM_SCOPE: ScopeOptions = { actor: { type: 'system' } };

const MAX_ANSWER_MS = 15_000;
/** How long an answer to a cancel is awaited when the run's end is already stored. */
const ENDED_GRACE_MS = 250;
/**
 * How long the instance executing a run has to say so when asked over the bus (a run streams
 * while its row is being written: a client of another instance may ask for it before it is
 * stored). Also what a request for a run nobody executes and nobody stored waits before its 404.
 */
const LOCATE_MS = 250;
/** How long one instance's answer to where a run executes is reused (followers ask together). */
const LOCATED_FOR_MS = 1_000;

/**
 * How long to wait for the instance executing a run to answer a command: a live lease means it
 * is there (under load a cancel waits for the run's end to be stored); a lapsed one means it
 * is gone (another instance is about to take the run over), so the fallback comes soon.
 */
function answerWithin(row: Run): number {
  const alive = row.leaseExpiresAt !== null && row.leaseExpiresAt.getTime() > Date.now();
  return alive ? MAX_ANSWER_MS : 1_000;
}

/** `promise`'s value, or undefined if it takes longer than `ms`. */
function within<T>(promise: Promise<T | undefined>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A live run's status as its terminal event says (running until then). */
function statusOf(run: LiveRun): api.Run['status'] {
  const last = run.events.at(-1);
  return last ? runStatusOf(last) : 'running';
}

/** What a cancel did: whether this request ended the run, and where the run stands. */
export interface CancelOutcome {
  cancelled: boolean;
  status: api.Run['status'];
}

/** A cancel's outcome as the instance that applied it replied. */
const outcomeOf = (reply: RunReply): CancelOutcome => ({
  cancelled: reply.taken,
  status: reply.status ?? 'cancelled',
});

type DecideCommand = Extract<RunCommand, { kind: 'decide' }>;

/** `commands.locate`, its answers reused a moment: every follower attaching to a run asks at once. */
function reuseLocated(commands: RunCommands) {
  const located = new Map<string, { at: number; workspaceId: Promise<string | undefined> }>();
  return function locate(runId: string): Promise<string | undefined> {
    const now = Date.now();
    const known = located.get(runId);
    if (known && now - known.at < LOCATED_FOR_MS) return known.workspaceId;
    if (located.size > 1_000)
      for (const [id, entry] of located) if (now - entry.at >= LOCATED_FOR_MS) located.delete(id);
    const workspaceId = commands.locate(runId, LOCATE_MS);
    located.set(runId, { at: now, workspaceId });
    return workspaceId;
  };
}

export interface RunControlDeps {
  bus: Bus;
  /** This instance's name on the bus. */
  instanceId: string;
  store: Store;
  doorbell: Doorbell;
  /** Runs executing here (one handed over is no longer this instance's to command). */
  live: ReadonlyMap<string, LiveRun>;
  /** Closes a run left running by a stopped server; true if it did (the run manager's). */
  closeIfOrphaned(ws: WorkspaceScope, run: Run): Promise<boolean>;
}

/**
 * Cancel and approvals from any instance: applied to the run when it executes here, asked of
 * the instance executing it over the bus (run-commands.ts) otherwise, and answered here for
 * the runs this instance executes; and the workspace of a run another instance executes
 * (`locate`), which that instance says over the bus too.
 */
export function createRunControl(deps: RunControlDeps) {
  const { store, doorbell, live } = deps;
  const commands = createRunCommands({
    bus: deps.bus,
    instanceId: deps.instanceId,
    handle: async (workspaceId, runId, command) => {
      const run = live.get(runId);
      if (!run || run.workspaceId !== workspaceId || run.handedOver) return undefined;
      return command.kind === 'decide' ? decideIn(run, command) : cancelIn(run, command.by);
    },
    workspaceOf: (runId) => {
      const run = live.get(runId);
      return run && !run.closed && !run.handedOver ? run.workspaceId : undefined;
    },
  });

  /** Answers a tool approval of a run executing here (or of a child run it waits for). */
  async function decideIn(run: LiveRun, command: DecideCommand): Promise<RunReply> {
    const approvalId = run.pendingApprovals.get(command.toolCallId);
    const taken = !!approvalId && run.approvals.decide(approvalId, command.decision);
    if (!taken)
      // An approval a child run waits for is answered through its parent too.
      for (const { id } of run.family?.children ?? []) {
        const child = live.get(id);
        if (child && !child.closed && (await decideIn(child, command)).taken)
          return { taken: true, status: statusOf(run) };
      }
    return { taken, status: statusOf(run) };
  }

  /** Cancels a run executing here and waits for its end: taken if this cancel ended it. */
  async function cancelIn(run: LiveRun, by: string): Promise<RunReply> {
    // A run already ending (or ended) is not this command's doing, whatever its end says.
    const already = run.closed || run.controller.signal.aborted;
    if (!already) run.controller.abort({ reason: 'cancelled', by } satisfies RunAbortReason);
    while (!run.closed) await run.changed();
    const terminal = run.events.at(-1);
    const taken =
      !already &&
      terminal?.type === 'run.abort' &&
      terminal.reason === 'cancelled' &&
      terminal.by === by;
    return { taken, status: statusOf(run) };
  }

  /**
   * Cancels a run. Live here: aborts it and waits for its terminal event. Executing on
   * another instance: asks it over the bus. Nobody answering: closes it if it was orphaned,
   * or ends it through the log (that instance stops at its next write). Reports whether this
   * request ended it.
   */
  async function cancel(
    workspaceId: string,
    runId: string,
    by: string,
    scope: ScopeOptions,
  ): Promise<CancelOutcome> {
    const run = live.get(runId);
    if (run && !run.handedOver) return outcomeOf(await cancelIn(run, by));
    return cancelElsewhere(workspaceId, runId, by, scope);
  }

  /** Cancels a run this instance does not execute: its instance's answer, or its stored row. */
  async function cancelElsewhere(
    workspaceId: string,
    runId: string,
    by: string,
    scope: ScopeOptions,
  ): Promise<CancelOutcome> {
    // Asked at once, while the row is read: the instance executing the run checks it is in
    // this workspace (every member of a workspace sees its runs), so the read is off the path.
    const asked = commands.ask(workspaceId, runId, { kind: 'cancel', by }, MAX_ANSWER_MS);
    const read = store.withWorkspace(workspaceId, (ws) => ws.runs.get(runId), scope);
    // The executing instance's answer may come before the row is read (or even stored).
    const early = await Promise.race([asked, read.then(() => undefined)]);
    if (early) return outcomeOf(early);
    const row = await read;
    if (!row) {
      const reply = await within(asked, LOCATE_MS);
      if (reply) return outcomeOf(reply);
      throw notFound('Run');
    }
    // An end already stored may be this very cancel's (the owner is quick): its answer says.
    const reply = await within(asked, hasEnded(row) ? ENDED_GRACE_MS : answerWithin(row));
    if (reply) return outcomeOf(reply);
    if (hasEnded(row)) return { cancelled: false, status: row.status as api.Run['status'] };
    return cancelUnanswered(workspaceId, runId, by, scope);
  }

  /** No instance answered for the run: closes it if orphaned, else ends it through its log. */
  function cancelUnanswered(
    workspaceId: string,
    runId: string,
    by: string,
    scope: ScopeOptions,
  ): Promise<CancelOutcome> {
    return store.withWorkspace(
      workspaceId,
      async (ws) => {
        const current = await ws.runs.get(runId);
        if (!current) throw notFound('Run');
        if (hasEnded(current))
          return { cancelled: false, status: current.status as api.Run['status'] };
        if (await deps.closeIfOrphaned(ws, current))
          return { cancelled: true, status: 'cancelled' as const };
        // Its instance did not answer: the abort in its log stops it at its next write.
        const ended = await cancelRunElsewhere(ws, runId, by);
        if (ended) doorbell.ring(runId, Number.MAX_SAFE_INTEGER);
        if (ended) return { cancelled: true, status: 'cancelled' as const };
        const after = await ws.runs.get(runId);
        return { cancelled: false, status: (after?.status ?? 'cancelled') as api.Run['status'] };
      },
      scope,
    );
  }

  /**
   * Answers a tool approval, here or on the instance executing the run; false when none is
   * pending for that call.
   */
  async function decide(
    workspaceId: string,
    runId: string,
    toolCallId: string,
    decision: 'approved' | 'denied',
  ): Promise<boolean> {
    const run = live.get(runId);
    const command = { kind: 'decide' as const, toolCallId, decision };
    if (run && !run.handedOver) return (await decideIn(run, command)).taken;
    const row = await store.withWorkspace(workspaceId, (ws) => ws.runs.get(runId), SYSTEM_SCOPE);
    if (!row || hasEnded(row)) return false;
    return (await commands.ask(workspaceId, runId, command, answerWithin(row)))?.taken ?? false;
  }

  return {
    cancel,
    decide,
    /**
     * The workspace of a run another instance executes, as that instance says over the bus
     * (before the run's row is stored, or while reading it is slow); undefined when none says
     * within a moment.
     */
    locate: reuseLocated(commands),
  };
}
