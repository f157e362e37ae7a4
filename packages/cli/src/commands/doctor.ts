import type { Command } from '../command.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'Check this machine and project: Node, data directory, database, port, model keys, server and token.',
  usage: 'parley doctor [--json] [--server <url>]',
  examples: [
    'parley doctor',
    'PARLEY_DATABASE_URL=postgres://parley_api@db/parley parley doctor',
    'parley doctor --json | jq \'.[] | select(.status == "fail")\'',
  ],
  async run({ values }, io) {
    // The checks load the server (and through it the store): only when the command runs.
    const { runDoctor } = await import('./doctor/index.ts');
    return runDoctor(values, io);
  },
};
