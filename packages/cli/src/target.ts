import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createParleyClient, type ParleyClient } from '@parley/client';
import { CliError, type Io } from './io.ts';
import { shellQuote } from './shell-quote.ts';
import { normalizeServer, readUserConfig } from './user-config.ts';

export interface Target {
  server: string;
  token: string;
  workspaceId: string;
  client: ParleyClient;
  /** Where the token came from (shown by `parley doctor` and on auth errors). */
  source: string;
}

interface Flags {
  server?: unknown;
  token?: unknown;
  workspace?: unknown;
}

/** The nearest `.parley/credentials` above `cwd` (a local single-user server's owner token). */
export function findLocalCredentials(
  cwd: string,
  env: Io['env'],
): { path: string; server: string; token: string; workspaceId: string } | undefined {
  const candidates: string[] = [];
  if (env.PARLEY_DATA_DIR) candidates.push(join(env.PARLEY_DATA_DIR, 'credentials'));
  for (let dir = cwd; ; dir = dirname(dir)) {
    candidates.push(join(dir, '.parley', 'credentials'));
    if (dirname(dir) === dir) break;
  }
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      const c = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
      const { server, token, workspaceId } = c ?? {};
      if (
        typeof server === 'string' &&
        typeof token === 'string' &&
        typeof workspaceId === 'string' &&
        token &&
        workspaceId &&
        normalizeServer(server)
      )
        return { path, server, token, workspaceId };
    } catch {
      // A broken file (not JSON, not a server URL) is skipped; `parley doctor` reports it.
    }
  }
  return undefined;
}

/**
 * Which server, token and workspace a command talks to, first match wins: --server/--token/
 * --workspace, then PARLEY_SERVER/PARLEY_TOKEN/PARLEY_WORKSPACE, then the local server of
 * this directory (`.parley/credentials` here or above), then the server `parley login` saved
 * last, with its token. The workspace, when not given, is the token's.
 */
export async function resolveTarget(flags: Flags, io: Io): Promise<Target> {
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const config = await readUserConfig(io);
  const local = findLocalCredentials(io.cwd, io.env);
  // The project's own local server comes before the last server you logged in to.
  let server = str(flags.server) ?? io.env.PARLEY_SERVER ?? local?.server ?? config.current;
  if (!server) {
    throw new CliError(
      'No Parley server: start one here (parley start), log in to one (parley login <url>), or pass --server.',
    );
  }
  try {
    server = normalizeServer(server);
  } catch {
    throw new CliError(`"${server}" is not a server URL (expected http(s)://host:port).`, 2);
  }
  const saved = config.servers[server];
  const fromLocal = local && normalizeServer(local.server) === server ? local : undefined;
  const token = str(flags.token) ?? io.env.PARLEY_TOKEN ?? saved?.token ?? fromLocal?.token;
  const source = str(flags.token)
    ? '--token'
    : io.env.PARLEY_TOKEN
      ? 'PARLEY_TOKEN'
      : saved
        ? 'parley login'
        : fromLocal
          ? fromLocal.path
          : 'none';
  if (!token)
    throw new CliError(
      `No token for ${server}: run parley login ${shellQuote(server)}, or pass --token.`,
    );
  const client = createParleyClient({ baseUrl: server, token });
  let workspaceId =
    str(flags.workspace) ?? io.env.PARLEY_WORKSPACE ?? saved?.workspaceId ?? fromLocal?.workspaceId;
  if (!workspaceId) {
    const me = await client.me();
    workspaceId =
      me.token?.workspaceId ?? (me.workspaces.length === 1 ? me.workspaces[0]!.id : undefined);
    if (!workspaceId)
      throw new CliError('Several workspaces: choose one with --workspace <id>.', 2);
  }
  return { server, token, workspaceId, client, source };
}
