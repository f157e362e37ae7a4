import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { type ParleyEvent, readParleyEvents } from '@parley/protocol';
import { freePort } from './harness.ts';

/*
 * A Parley server as a child process (main.js, single-user, PGlite or PostgreSQL) and a slow
 * OpenAI-compatible provider stand-in, for fault tests: signals, killed database connections.
 */

const NODE = new URL('../../../../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../../src/main.js', import.meta.url).pathname;
/** The harness's master key. */
export const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface SlowProvider {
  baseURL: string;
  /** Open responses (streams in progress). */
  open(): number;
  close(): Promise<void>;
}

/**
 * Streams `w0 w1 …` one word every `ms`, `words` words, then finishes. Both come from the model
 * name, `slow-<words>-<ms>` (e.g. `slow-200-50` streams for 10 s); a client that goes away
 * stops its stream.
 */
export async function startSlowProvider(): Promise<SlowProvider> {
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const { model } = JSON.parse(body) as { model: string };
      const [, words = '20', ms = '20'] = /^slow-(\d+)-(\d+)$/.exec(model) ?? [];
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: '' }));
      open.add(res);
      let n = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        if (n >= Number(words)) {
          clearInterval(timer);
          res.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
          return;
        }
        res.write(chunk({ content: `w${n++} ` }));
      }, Number(ms));
      res.on('close', () => {
        clearInterval(timer);
        open.delete(res);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    open: () => open.size,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  workspaceId: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

const children = new Set<ChildProcess>();

/** Kills every server process still running (afterAll). */
export function killServerProcesses() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}

/** Starts main.js with `env` (PARLEY_DATA_DIR at least) and waits until it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(NODE, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      PARLEY_PORT: String(port),
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_MASTER_KEY: MASTER_KEY,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const waiters = new Set<() => void>();
  const take = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  const started = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const url = /Parley listening on (\S+)/.exec(output);
      const ws = /Workspace ([0-9a-f-]{36})/.exec(output);
      if (url && ws) {
        waiters.delete(check);
        resolve([url[1]!, ws[1]!] as unknown as RegExpMatchArray);
      } else if (child.exitCode !== null) {
        waiters.delete(check);
        reject(new Error(`the server exited before listening:\n${output}`));
      }
    };
    waiters.add(check);
    check();
  });
  const [url, workspaceId] = started as unknown as [string, string];
  // Printed once, when it is made; always in the data directory's credentials file.
  const { token } = JSON.parse(
    await readFile(join(env.PARLEY_DATA_DIR!, 'credentials'), 'utf8'),
  ) as { token: string };
  return {
    child,
    url,
    token,
    workspaceId,
    output: () => output,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

/** Every event a client gets before the stream ends or its server dies (what the client saw). */
export async function readUntilGone(
  response: Response,
  onEvent: (e: ParleyEvent) => void = () => {},
): Promise<ParleyEvent[]> {
  const events: ParleyEvent[] = [];
  try {
    for await (const event of readParleyEvents(response.body!)) {
      events.push(event);
      onEvent(event);
    }
  } catch {
    // The server died mid-stream: what arrived is what the client saw.
  }
  return events;
}
