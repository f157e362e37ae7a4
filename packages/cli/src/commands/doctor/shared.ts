import { relative } from 'node:path';
import type { ServerConfig } from '@parley/server';
import type { Io } from '../../io.ts';

/* `parley doctor`: what every area's checks share (the check type, the context, small formatting
 * and HTTP helpers). */

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it: set for every failure, and for warnings that have a remedy. */
  fix?: string;
}

/** Each outbound request (provider keys, the server, the port's owner) gives up after this. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Clock skew above this is reported: token and session expiry are judged by the server. */
export const MAX_SKEW_SECONDS = 30;
export const MIN_NODE = [24, 11] as const;

export const mode = (m: number) => `0${(m & 0o777).toString(8)}`;
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `postgres://user:pw@host:5432/db` with another user and no password: for fixes to copy. */
export function withUser(url: string, user: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${user}@${u.host}${u.pathname}`;
  } catch {
    return `postgres://${user}@<host>/<database>`;
  }
}

type HttpAnswer =
  | { ok: true; status: number; body: string; date: string | null; elapsedMs: number; at: number }
  | { ok: false; error: string };

/** One GET with a timeout; never throws. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await response.text();
    const finished = Date.now();
    return {
      ok: true,
      status: response.status,
      body,
      date: response.headers.get('date'),
      elapsedMs: finished - started,
      at: (started + finished) / 2,
    };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const reason =
      e.name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, error: reason };
  }
}

export const isParleyHealth = (a: HttpAnswer) => {
  if (!a.ok || a.status !== 200) return false;
  try {
    return (JSON.parse(a.body) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
};

export interface Context {
  io: Io;
  cwd: string;
  dataDir: string;
  config: ServerConfig | undefined;
  host: string;
  port: number;
  /** Set by the data directory check: the pid holding the embedded database, if alive. */
  lockPid?: number;
  dataDirOk: boolean;
  /** A Parley server found on the configured port. */
  localServer?: string;
}
