import type { FastifyBaseLogger } from 'fastify';

/**
 * No request may end the process (issue #30): a promise rejected with nobody to handle it is
 * a bug in Parley, logged at error level with its stack and survived, not Node's default (print
 * and exit, which took every open stream and run down with one bad request). Installed by
 * serve(), so for `npm start` and `parley start`; the count is for tests and /healthz readers.
 */
export function surviveUnhandledRejections(log: () => FastifyBaseLogger | undefined) {
  let count = 0;
  process.on('unhandledRejection', (reason) => {
    count += 1;
    const logger = log();
    if (logger) logger.error({ err: reason }, 'BUG: unhandled promise rejection (survived)');
    else
      process.stderr.write(
        `parley: BUG: unhandled promise rejection (survived): ${(reason as Error)?.stack ?? String(reason)}\n`,
      );
  });
  return { count: () => count };
}
