import type { Command } from '../command.ts';
import { CliError, line } from '../io.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Create or upgrade the database schema (the server also does it on start).',
  usage:
    'parley migrate   (uses PARLEY_DATABASE_URL / PARLEY_MIGRATION_DATABASE_URL, else ./.parley)',
  examples: [
    'parley migrate',
    'PARLEY_DATABASE_URL=postgres://parley_app@db/parley PARLEY_MIGRATION_DATABASE_URL=postgres://postgres@db/parley parley migrate',
  ],
  async run(_args, io) {
    // Loaded when the command runs: `parley --help` and light commands never pay for the server.
    const { loadConfig, migrateDatabase } = await import('@parley/server');
    const config = (() => {
      try {
        return loadConfig({
          ...io.env,
          PARLEY_DATA_DIR: io.env.PARLEY_DATA_DIR ?? `${io.cwd}/.parley`,
        });
      } catch (error) {
        throw new CliError((error as Error).message, 2);
      }
    })();
    // The server's own mapping from its configuration to the database, so `parley migrate`
    // migrates exactly the database `parley start` opens (key file included).
    const result = await migrateDatabase(config).catch((error: Error) => {
      throw new CliError(error.message);
    });
    line(
      io,
      result.applied.length ? `Applied ${result.applied.join(', ')}.` : 'The schema is up to date.',
    );
    line(io, `Isolation: ${result.isolation.level} (${result.isolation.reason})`);
    return 0;
  },
};
