import {
  type ParleyEvent,
  reduceEvents,
  STREAM_VERSION,
  type StreamState,
  streamError,
} from '@parley/protocol';
import type { Run, Store, WorkspaceScope } from '@parley/store';
import { MAX_UNSTORED_EVENTS } from './live-run.ts';

/*
 * Closing a run this process does not execute: one whose server died (SIGKILL, OOM, a lost
 * machine) while it streamed, or one cancelled through another server. Events reach clients
 * before the log (live-first), so the log holds a prefix of what clients were shown: up to
 * MAX_UNSTORED_EVENTS more may have been shown and not (yet) stored. The end written here is
 * numbered past all of them, after a `run.gap` that says so, so no seq a client saw ever
 * stands for other content; and the answer the log kept of a dead server's run reaches the
 * conversation, so the next turn's history has it.
 */

/** Every stored event of a run, in order. */
async function storedLog(ws: WorkspaceScope, runId: string): Promise<ParleyEvent[]> {
  const events: ParleyEvent[] = [];
  for (;;) {
    const page = await ws.runs.listRunEvents(runId, {
      afterSeq: events.at(-1)?.seq ?? 0,
      limit: 10_000,
    });
    events.push(...page);
    if (page.length < 10_000) return events;
  }
}

/** How a run closed from outside ends: a server's shutdown close, or a person's cancel. */
export type ClosingAbort = { reason: 'shutdown' | 'cancelled'; by: string };

/** The closing events: the run's start if the log never got it, the gap, the end. */
function closingEvents(run: Run, last: ParleyEvent | undefined, abort: ClosingAbort) {
  const base = {
    v: STREAM_VERSION,
    runId: run.id,
    // Now, on the run's clock: later than anything a client saw before the crash, stored or
    // not (its resumed stream stays monotonic).
    t: Math.max(last?.t ?? 0, Date.now() - run.createdAt.getTime()),
  };
  // A crash before the first write: the start is rebuilt from the run's row. A client that saw
  // seq 1 saw this run's start too (same run, agent, conversation and trace; another start
  // time).
  const start =
    run.lastSeq === 0
      ? {
          ...base,
          seq: 1,
          t: 0,
          type: 'run.start' as const,
          agentId: run.agentId,
          conversationId: run.conversationId ?? run.id,
          startedAt: run.createdAt.toISOString(),
          // The trace the run's events belong to, as its shown start said.
          ...(run.traceId ? { traceId: run.traceId } : {}),
        }
      : undefined;
  const gap = {
    ...base,
    seq: run.lastSeq + MAX_UNSTORED_EVENTS + 1,
    type: 'run.gap' as const,
    afterSeq: Math.max(run.lastSeq, 1),
  };
  const end = {
    ...base,
    seq: gap.seq + 1,
    type: 'run.abort' as const,
    ...abort,
  };
  return { start, gap, end };
}

/**
 * The text of the run's steps that have no assistant message yet (the step under way when the
 * server died: each finished step's message is stored before the run goes on).
 */
function unsavedText(state: StreamState, savedSteps: number): string {
  const steps = state.steps.filter((step) => step.status !== 'reset').slice(savedSteps);
  const ids = new Set(steps.map((step) => step.stepId));
  return state.parts
    .map((part) => (part.kind === 'text' && ids.has(part.stepId ?? '') ? part.text : ''))
    .join('');
}

/** Saves what the log kept of the run's unfinished answer as a partial assistant message. */
async function savePartialAnswer(ws: WorkspaceScope, run: Run, log: ParleyEvent[]) {
  if (!run.conversationId) return;
  const messages = await ws.messages.list(run.conversationId, { last: 200 });
  const saved = messages.filter((m) => m.runId === run.id && m.role === 'assistant').length;
  const text = unsavedText(reduceEvents(log), saved);
  if (!text) return;
  await ws.messages.append(run.conversationId, [
    {
      role: 'assistant',
      content: [{ kind: 'text', text }],
      runId: run.id,
      metadata: { status: 'partial', interrupted: 'server_lost' },
    },
  ]);
}

/** Appends the closing events after what `run` (as read) says the log holds. */
async function appendClosing(
  ws: WorkspaceScope,
  run: Run,
  last: ParleyEvent | undefined,
  abort: ClosingAbort,
) {
  const { start, gap, end } = closingEvents(run, last, abort);
  if (start) await ws.runs.appendRunEvents(run.id, [start]);
  await ws.runs.appendRunEvents(run.id, [gap, end], { gapAfter: gap.afterSeq });
}

/**
 * Ends a run its server left running, in the caller's transaction: `run.gap` past every seq a
 * client may have seen, then `run.abort` (reason shutdown, unless `abort` says how its clients
 * saw it end), and the partial answer saved to the conversation. Throws `store.run_closed`
 * when another server closed it first.
 */
export async function closeOrphanedRun(
  ws: WorkspaceScope,
  run: Run,
  abort: ClosingAbort = { reason: 'shutdown', by: 'server' },
): Promise<void> {
  const log = await storedLog(ws, run.id);
  await appendClosing(ws, run, log.at(-1), abort);
  await savePartialAnswer(ws, run, log);
}

/** Pauses between tries to close a run whose log was lost: the database may take a while. */
const CLOSE_PAUSES_MS = [0, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

/**
 * Closes the row of a run whose event log failed while it executed here (the database was
 * unreachable past the log's retries): its clients were shown its end from memory, as the
 * run was stopped (`run.abort`, cancelled by the server), and its row still says running.
 * Once the database answers: `run.gap` past whatever they saw, that end, the partial answer
 * saved. Tries with growing pauses: true once closed here, false when it was closed already
 * (here or by another instance); throws the last error when every try failed.
 */
export async function closeAfterLostLog(
  store: Store,
  runId: string,
  workspaceId: string,
  pausesMs: readonly number[] = CLOSE_PAUSES_MS,
): Promise<boolean> {
  let failure: unknown;
  for (const pause of pausesMs) {
    await new Promise((resolve) => setTimeout(resolve, pause).unref());
    try {
      return await store.withWorkspace(
        workspaceId,
        async (ws) => {
          const run = await ws.runs.get(runId);
          if (!run || run.finishedAt) return false;
          await closeOrphanedRun(ws, run, { reason: 'cancelled', by: 'server' });
          return true;
        },
        { actor: { type: 'system' } },
      );
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'store.run_closed') return false;
      failure = error;
    }
  }
  throw failure;
}

/**
 * Cancels a run that another server executes: its log ends with `run.gap` and `run.abort`
 * (reason cancelled), which stops that server at its next write. The gap is needed there too:
 * that server's clients may have been shown events it had not stored yet, whose seqs the
 * abort must not take. Its log may grow while this reads it: then this reads it again. Says
 * whether this cancel ended the run (false when it had ended meanwhile).
 */
export async function cancelRunElsewhere(ws: WorkspaceScope, runId: string, by: string) {
  for (let attempt = 0; ; attempt++) {
    const run = await ws.runs.get(runId);
    if (!run || run.finishedAt) return false;
    try {
      const last = (
        await ws.runs.listRunEvents(run.id, { afterSeq: Math.max(0, run.lastSeq - 1) })
      )[0];
      await appendClosing(ws, run, last, { reason: 'cancelled', by });
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'store.run_closed') return false;
      if (code !== 'store.seq_conflict' || attempt >= 20) throw error;
    }
  }
}

/**
 * Ends a run no instance can continue (its agent or version was deleted while its instance
 * was down): `run.gap` past every seq a client may have seen, then a typed `run.error`
 * (`run_lost`), and the partial answer saved. A run never stays `running`.
 */
export async function failUncontinuableRun(ws: WorkspaceScope, runId: string, why: string) {
  const run = await ws.runs.get(runId);
  if (!run || run.finishedAt) return;
  const log = await storedLog(ws, run.id);
  const { start, gap } = closingEvents(run, log.at(-1), { reason: 'shutdown', by: 'server' });
  const end = {
    v: STREAM_VERSION,
    runId: run.id,
    t: gap.t,
    seq: gap.seq + 1,
    type: 'run.error' as const,
    error: streamError('run_lost', `The run could not be continued: ${why}.`),
    partial: log.some((e) => e.type === 'text.delta'),
  };
  if (start) await ws.runs.appendRunEvents(run.id, [start]);
  await ws.runs.appendRunEvents(run.id, [gap, end], { gapAfter: gap.afterSeq });
  await savePartialAnswer(ws, run, log);
}
