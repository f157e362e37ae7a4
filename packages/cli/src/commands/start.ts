import type { Command } from '../command.ts';

export const startCommand: Command = {
  name: 'start',
  summary:
    'Run the Parley server here (embedded database in ./.parley unless PARLEY_DATABASE_URL is set).',
  usage: 'parley start   (configure with PARLEY_* variables: see docs/server.md)',
  examples: [
    'parley start',
    'PARLEY_PORT=4100 parley start',
    'PARLEY_MULTI_USER=1 PARLEY_DATABASE_URL=postgres://… parley start',
  ],
  async run(_args, io) {
    // Loaded when the command runs: `parley --help` and light commands never pay for the server.
    // First the store's resolve hook, as the server's main.js does (drizzle-orm loads fast).
    (await import('@parley/server/fast-resolve')).registerFastResolve();
    const { serve } = await import('@parley/server');
    await serve({ ...io.env, PARLEY_DATA_DIR: io.env.PARLEY_DATA_DIR ?? `${io.cwd}/.parley` });
    // serve() keeps the process alive until SIGINT/SIGTERM and exits it itself.
    return new Promise<never>(() => {});
  },
};
