import type { ServerResponse } from 'node:http';

/** Whether the response's headers have left for the socket (`headersSent` is true from writeHead on). */
const onTheWire = (raw: ServerResponse) =>
  (raw as ServerResponse & { _headerSent?: boolean })._headerSent === true;

/**
 * Sends an event stream's headers with its first frame when one follows in this turn of the
 * event loop (a new run's `run.start` always does), on their own right after it otherwise (a
 * stream that waits, a resumed one, still starts at once). One socket write instead of two per
 * stream: flushing them at once cost a write call per run, ~7 % of the server's CPU while a
 * burst of a hundred runs started (a CPU profile of the first 300 ms). Two hops: a run shows
 * its events at the end of the turn (LiveRun.show), and its `run.start` may be scheduled there
 * after this call; the flush waits for the end of the next turn.
 */
export function flushHeadersSoon(raw: ServerResponse): void {
  setImmediate(() =>
    setImmediate(() => {
      if (!onTheWire(raw) && !raw.destroyed) raw.flushHeaders();
    }),
  );
}
