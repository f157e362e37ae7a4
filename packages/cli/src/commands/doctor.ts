import type { Command } from '../command.ts';
import { CliError } from '../io.ts';

// Placeholder while the command is being written (replaced before it lands).
export const doctorCommand: Command = {
  name: 'doctor',
  summary: '(being written)',
  usage: 'parley doctor',
  examples: [],
  async run() {
    throw new CliError('parley doctor is not available yet.');
  },
};
