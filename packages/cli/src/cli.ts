import { ParleyApiError, ParleyConnectionError } from '@parley/client';
import { type Command, helpText, parse } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { CliError, type Io, painter } from './io.ts';

const VERSION = '0.1.0';

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'parley: build, run and deploy AI agents.',
    '',
    'Usage: parley <command> [options]   (parley <command> --help for examples)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Start here: parley create my-agent && cd my-agent && parley start',
    '',
  ].join('\n');
}

function closest(name: string): string | undefined {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [
      i,
      ...Array<number>(b.length).fill(0),
    ]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  const best = COMMANDS.map((c) => ({ c, d: distance(name, c.name) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? best.c.name : undefined;
}

/** Runs `parley <argv>`; resolves with the exit code. Never throws for a user's mistake. */
export async function main(argv: string[], io: Io): Promise<number> {
  const p = painter(io);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview());
    return name ? 0 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const hint = closest(name);
    io.stderr.write(
      `parley: unknown command "${name}".${hint ? ` Did you mean "parley ${hint}"?` : ''} See parley --help.\n`,
    );
    return 2;
  }
  try {
    const args = parse(command, rest);
    if (args.values.help) {
      io.stdout.write(helpText(command));
      return 0;
    }
    return (await command.run(args, io)) ?? 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`${p.red('parley:')} ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ParleyApiError) {
      const fields = error.fieldErrors.map((f) => `\n  ${f.path}: ${f.message}`).join('');
      io.stderr.write(`${p.red('parley:')} ${error.message} (${error.code})${fields}\n`);
      if (error.code === 'auth.invalid_token' || error.code === 'auth.required')
        io.stderr.write('  Log in again: parley login <server-url>\n');
      return 1;
    }
    if (error instanceof ParleyConnectionError) {
      io.stderr.write(
        `${p.red('parley:')} ${error.message}\n  Is the server running? (parley start, or check --server)\n`,
      );
      return 1;
    }
    io.stderr.write(`${p.red('parley: unexpected error:')} ${(error as Error).stack ?? error}\n`);
    return 1;
  }
}
