import type { ParleyEvent } from '@parley/protocol';
import type { Run, WorkspaceScope } from '@parley/store';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

/** Whether a stored run has ended (succeeded, failed or cancelled). */
export const hasEnded = (run: Run): boolean => ENDED.has(run.status);

/** The run's last stored event, if it has any. */
export async function lastStoredEvent(
  ws: WorkspaceScope,
  run: Run,
): Promise<ParleyEvent | undefined> {
  if (run.lastSeq === 0) return undefined;
  return (await ws.runs.listRunEvents(run.id, { afterSeq: run.lastSeq - 1 }))[0];
}
