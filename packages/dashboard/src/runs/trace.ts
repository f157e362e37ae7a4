import type { ParleyEvent } from '@parley/protocol';

/*
 * A run's trace as a waterfall, built from its own stored events (no exporter needed): the
 * run, each model call, each tool call, each wait for an approval, each memory recall and
 * knowledge retrieval, placed on the run's clock (`t`, milliseconds since its start).
 */

export type TraceRowKind = 'run' | 'step' | 'tool' | 'approval' | 'recall' | 'retrieval';

export interface TraceRow {
  key: string;
  kind: TraceRowKind;
  label: string;
  startMs: number;
  /** Undefined while it is still going (a live run, or one that ended without closing it). */
  endMs?: number;
  /** What else is worth a glance: time to first token, an error, the number of hits. */
  detail?: string;
  failed?: boolean;
}

export interface Trace {
  rows: TraceRow[];
  /** The run's length so far (its end, or its last event). */
  totalMs: number;
  ttftMs?: number;
  /** Time in model calls, in tools, and waiting for people (approvals). */
  modelMs: number;
  toolMs: number;
  waitMs: number;
  traceId?: string;
}

const span = (row: TraceRow) => (row.endMs ?? row.startMs) - row.startMs;

export function traceOf(events: readonly ParleyEvent[]): Trace {
  const rows: TraceRow[] = [];
  const open = new Map<string, TraceRow>();
  let run: TraceRow | undefined;
  let traceId: string | undefined;
  let ttftMs: number | undefined;
  let last = 0;
  const close = (key: string, t: number, detail?: string, failed?: boolean) => {
    const row = open.get(key);
    if (!row) return;
    open.delete(key);
    row.endMs = t;
    if (detail) row.detail = detail;
    if (failed) row.failed = true;
  };
  for (const event of events) {
    last = Math.max(last, event.t);
    switch (event.type) {
      case 'run.start':
        traceId = event.traceId;
        run = { key: 'run', kind: 'run', label: 'run', startMs: event.t };
        rows.push(run);
        break;
      case 'step.start': {
        close('step', event.t, 'reset', true);
        const row: TraceRow = {
          key: `step-${event.seq}`,
          kind: 'step',
          label: `model call ${event.stepIndex + 1}${event.attempt > 0 ? ` (attempt ${event.attempt + 1})` : ''}: ${event.model}`,
          startMs: event.t,
        };
        rows.push(row);
        open.set('step', row);
        break;
      }
      case 'step.finish':
        close(
          'step',
          event.t,
          event.timing.ttftMs !== undefined
            ? `first token after ${Math.round(event.timing.ttftMs)} ms`
            : undefined,
          !!event.error,
        );
        break;
      case 'step.reset':
        close('step', event.t, `reset: ${event.reason}`, true);
        break;
      case 'tool_call.complete': {
        const row: TraceRow = {
          key: `tool-${event.toolCallId}`,
          kind: 'tool',
          label: `tool: ${event.name}`,
          startMs: event.t,
        };
        rows.push(row);
        open.set(row.key, row);
        break;
      }
      case 'tool.approval_requested': {
        // The tool's own time starts once a person has decided.
        const tool = open.get(`tool-${event.toolCallId}`);
        const row: TraceRow = {
          key: `approval-${event.toolCallId}`,
          kind: 'approval',
          label: 'waiting for approval',
          startMs: event.t,
        };
        rows.splice(tool ? rows.indexOf(tool) : rows.length, 0, row);
        open.set(row.key, row);
        break;
      }
      case 'tool.result':
        close(`approval-${event.toolCallId}`, event.t);
        close(
          `tool-${event.toolCallId}`,
          event.t,
          event.ok ? undefined : (event.error ?? 'failed'),
          !event.ok,
        );
        break;
      case 'memory.recall':
        rows.push({
          key: `recall-${event.seq}`,
          kind: 'recall',
          label: `memory recall (${event.method ?? 'fulltext'})`,
          startMs: Math.max(0, event.t - event.latencyMs),
          endMs: event.t,
          detail: `${event.hits.length} found`,
        });
        break;
      case 'knowledge.retrieve':
        rows.push({
          key: `retrieval-${event.seq}`,
          kind: 'retrieval',
          label: `knowledge retrieval (${event.method})`,
          startMs: Math.max(0, event.t - event.latencyMs),
          endMs: event.t,
          detail: `${event.chunks.length} chunks`,
        });
        break;
      case 'run.finish':
        ttftMs = event.timing.ttftMs;
        if (run) run.endMs = event.t;
        break;
      case 'run.error':
        if (run) Object.assign(run, { endMs: event.t, failed: true, detail: event.error.code });
        break;
      case 'run.abort':
        if (run) Object.assign(run, { endMs: event.t, detail: `stopped: ${event.reason}` });
        break;
    }
  }
  const sum = (kind: TraceRowKind) =>
    rows.filter((r) => r.kind === kind).reduce((total, r) => total + span(r), 0);
  return {
    rows,
    totalMs: run?.endMs ?? last,
    ...(ttftMs !== undefined ? { ttftMs } : {}),
    modelMs: sum('step'),
    // A tool's row includes the wait for its approval: that time is the person's, not the tool's.
    toolMs: sum('tool') - sum('approval'),
    waitMs: sum('approval'),
    ...(traceId ? { traceId } : {}),
  };
}
