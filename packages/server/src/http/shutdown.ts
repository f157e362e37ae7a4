import type { FastifyInstance } from 'fastify';
import type { RunManager } from '../runs/run-manager.ts';

/** After the runs have ended, how long their streams get to deliver the end before being cut. */
export const STREAM_FLUSH_MS = 1_000;

/**
 * The stop sequence, bounded by the grace period (issue #30: with clients connected a stop took
 * 89 s, because the HTTP server waited for open streams and keep-alive sockets before the runs'
 * grace period even started). On close, before the HTTP server waits for its connections: new
 * requests get 503 (return503OnClosing), runs get `graceMs` to finish and the rest are aborted
 * with their terminal stored (RunManager.shutdown), then idle keep-alive sockets are closed and,
 * after STREAM_FLUSH_MS for streams to send the end they now have, every connection still open
 * (a stream following another server's run, a client that stopped reading) is cut.
 */
export function boundShutdown(app: FastifyInstance, runs: RunManager, graceMs: number) {
  app.addHook('preClose', async () => {
    await runs.shutdown(graceMs);
    app.server.closeIdleConnections();
    setTimeout(() => app.server.closeAllConnections(), STREAM_FLUSH_MS).unref();
  });
}
