import { createInterface } from 'node:readline/promises';
import { CliError, type Io } from './io.ts';

/** Asks a question on the terminal; refuses (with the flag to use) when there is none. */
export async function ask(
  io: Io,
  question: string,
  options: { default?: string; flag?: string } = {},
): Promise<string> {
  if (!io.stdin.isTTY) {
    if (options.default !== undefined) return options.default;
    throw new CliError(
      `${question.replace(/[:?]\s*$/, '')}: not a terminal, pass ${options.flag ?? 'it as a flag'}.`,
      2,
    );
  }
  const rl = createInterface({ input: io.stdin, output: io.stdout });
  try {
    const suffix = options.default ? ` (${options.default})` : '';
    const answer = (await rl.question(`${question}${suffix} `)).trim();
    return answer || options.default || '';
  } finally {
    rl.close();
  }
}

export async function confirm(io: Io, question: string, flag = '--yes'): Promise<boolean> {
  const answer = await ask(io, `${question} [y/N]`, { flag });
  return /^y(es)?$/i.test(answer);
}

/** Reads a secret without echoing it (a terminal), or one line from piped stdin. */
export async function askSecret(io: Io, question: string): Promise<string> {
  if (!io.stdin.isTTY || !io.stdin.setRawMode) {
    let data = '';
    for await (const chunk of io.stdin) data += chunk;
    const value = data.replace(/\r?\n$/, '');
    if (!value) throw new CliError('No value on stdin.', 2);
    return value;
  }
  io.stdout.write(`${question} `);
  io.stdin.setRawMode(true);
  io.stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          io.stdout.write('\n');
          return resolve(value);
        }
        if (ch === '\u0003') {
          done();
          return reject(new CliError('Cancelled.', 130));
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      io.stdin.off('data', onData);
      io.stdin.setRawMode?.(false);
      io.stdin.pause();
    };
    io.stdin.on('data', onData);
  });
}
