import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.ts';
import type { Io } from '../../src/io.ts';

export interface TestIo extends Io {
  /** Everything written to stdout / stderr so far. */
  out(): string;
  err(): string;
  /** Feeds text to stdin (and ends it unless `keepOpen`). */
  type(text: string, keepOpen?: boolean): void;
}

/** An Io with in-memory streams, a private HOME/XDG config dir, and the given cwd and env. */
export async function testIo(
  options: { cwd?: string; env?: Record<string, string | undefined>; tty?: boolean } = {},
): Promise<TestIo> {
  const home = await mkdtemp(join(tmpdir(), 'parley-cli-home-'));
  const stdout = Object.assign(new PassThrough(), { isTTY: options.tty ?? false });
  const stderr = Object.assign(new PassThrough(), { isTTY: false });
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty ?? false });
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return {
    stdout,
    stderr,
    stdin,
    cwd: options.cwd ?? home,
    env: {
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      PATH: process.env.PATH,
      NO_COLOR: '1',
      ...options.env,
    },
    out: () => out,
    err: () => err,
    type(text, keepOpen = false) {
      stdin.write(text);
      if (!keepOpen) stdin.end();
    },
  };
}

/** Runs `parley <argv>` in process; resolves with the exit code and the output. */
export async function parley(argv: string[], io: TestIo) {
  const before = { out: io.out().length, err: io.err().length };
  const code = await main(argv, io);
  return { code, stdout: io.out().slice(before.out), stderr: io.err().slice(before.err) };
}
