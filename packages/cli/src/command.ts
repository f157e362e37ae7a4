import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError, type Io } from './io.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** One `parley` command: its help, its options, and what it does. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Shown under `parley <name> --help`. */
  examples: string[];
  options?: Options;
  run(
    args: { positionals: string[]; values: Record<string, unknown> },
    io: Io,
  ): Promise<number | void>;
}

/** Options every command takes. */
export const COMMON_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  server: { type: 'string' },
  token: { type: 'string' },
  workspace: { type: 'string' },
};

export function parse(command: Command, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new CliError(
      `${(error as Error).message.replace(/\. To specify.*$/s, '')}. See: parley ${command.name} --help`,
      2,
    );
  }
}

export function helpText(command: Command): string {
  const options = Object.entries({ ...command.options, ...COMMON_OPTIONS })
    .map(
      ([name, o]) =>
        `  --${name}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' <value>' : ''}`,
    )
    .join('\n');
  return [
    `parley ${command.name}: ${command.summary}`,
    '',
    `Usage: ${command.usage}`,
    '',
    'Options:',
    options,
    '',
    'Examples:',
    ...command.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}
