import type { Command } from '../command.ts';
import { CliError } from '../io.ts';

// Placeholder while the command is being written (replaced before it lands).
export const importCommand: Command = {
  name: 'import',
  summary: '(being written)',
  usage: 'parley import',
  examples: [],
  async run() {
    throw new CliError('parley import is not available yet.');
  },
};
