import type { Command } from '../command.ts';
import { CliError } from '../io.ts';

// Placeholder while the command is being written (replaced before it lands).
export const createCommand: Command = {
  name: 'create',
  summary: '(being written)',
  usage: 'parley create',
  examples: [],
  async run() {
    throw new CliError('parley create is not available yet.');
  },
};
