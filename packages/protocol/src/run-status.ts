import { isTerminalEvent, type TerminalEventType } from './events.ts';

/** A stored run's status: queued → running → succeeded | failed | cancelled. */
export const RUN_STATUS_NAMES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUS_NAMES)[number];
/** The statuses a run ends in, one per terminal event. */
export type EndedRunStatus = Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled'>;

const STATUS_OF_TERMINAL = {
  'run.finish': 'succeeded',
  'run.error': 'failed',
  'run.abort': 'cancelled',
} as const satisfies Record<TerminalEventType, EndedRunStatus>;

/**
 * The one mapping from a run's events to its status: the terminal event decides how a run
 * ended (`run.finish` → succeeded, `run.error` → failed, `run.abort` → cancelled); a run
 * whose last event is any other is running. The store projects its rows with it, the
 * server answers for live runs with it, core's in-memory store records it.
 */
export function runStatusOf(last: { type: string }): RunStatus {
  return isTerminalEvent(last) ? STATUS_OF_TERMINAL[last.type] : 'running';
}
