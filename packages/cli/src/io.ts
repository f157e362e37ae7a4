import type { Readable, Writable } from 'node:stream';
import { styleText } from 'node:util';

/** What a command may touch: its streams, environment and directory (tests pass their own). */
export interface Io {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** A failure the user can fix: printed as one line (no stack trace), exit code 1 (2 for usage). */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

type Style = Parameters<typeof styleText>[0];

/** Colours only on a terminal that wants them (NO_COLOR, FORCE_COLOR respected). */
export function painter(io: Io) {
  const enabled = Boolean(io.stdout.isTTY) && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  const paint = (style: Style) => (text: string) =>
    enabled ? styleText(style, text, { validateStream: false }) : text;
  return {
    dim: paint('dim'),
    bold: paint('bold'),
    red: paint('red'),
    green: paint('green'),
    yellow: paint('yellow'),
    cyan: paint('cyan'),
    magenta: paint('magenta'),
  };
}

export const write = (io: Io, text: string) => io.stdout.write(text);
export const line = (io: Io, text = '') => io.stdout.write(`${text}\n`);
