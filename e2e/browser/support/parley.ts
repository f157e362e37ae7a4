import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParleyClient, type ParleyClient } from '@parley/client';
import { copyPgliteTemplate } from '@parley/store/testing';
import { REPO_ROOT } from '../../support/paths.ts';
import { childEnv, type Env, startServerProcess } from '../../support/processes.ts';

/*
 * A real Parley server for the browser tests: `npm start`'s entry as a child process, PGlite
 * in a temporary directory, serving the built dashboard. Single-user servers come with the
 * owner's API token (from the credentials file), for setting up agents through the API.
 */

export interface Parley {
  url: string;
  /** Single-user mode: the owner's workspace and a client with the owner's token. */
  workspaceId: string;
  /** Single-user mode: the owner's API token. */
  token?: string;
  api: ParleyClient;
  stop(): Promise<void>;
}

export const OPERATOR_EMAIL = 'operator@parley.test';
/** The one-time code that confirms OPERATOR_EMAIL as the operator (PARLEY_OPERATOR_CODE). */
export const OPERATOR_CODE = 'browser-test-operator-code';

export async function startParley(
  options: { multiUser?: boolean; env?: Env } = {},
): Promise<Parley> {
  const home = await mkdtemp(join(tmpdir(), 'parley-browser-'));
  const dataDir = join(home, 'data');
  // The database starts as a copy of a migrated one (the store's test templates): a fresh
  // PGlite directory's initdb took over 40 s under the CI's CPU-loaded pass (about 4 s on a
  // quiet machine). The server still starts as on a first run: no owner, no credentials yet.
  await copyPgliteTemplate(dataDir);
  const server = await startServerProcess({
    how: 'npm-start',
    cwd: REPO_ROOT,
    // Slow on a 2-core machine under the CI's second, CPU-loaded pass, beside another
    // worker's server and a Vite build. The condition is awaited, not a sleep.
    timeoutMs: 120_000,
    env: childEnv(home, {
      PARLEY_PORT: '0',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_SHUTDOWN_GRACE_SECONDS: '1',
      ...(options.multiUser
        ? {
            PARLEY_MULTI_USER: '1',
            PARLEY_OPERATOR_EMAILS: OPERATOR_EMAIL,
            PARLEY_OPERATOR_CODE: OPERATOR_CODE,
          }
        : {}),
      ...options.env,
    }),
  });
  let workspaceId = '';
  let token: string | undefined;
  if (!options.multiUser) {
    const credentials = JSON.parse(await readFile(join(dataDir, 'credentials'), 'utf8')) as {
      workspaceId: string;
      token: string;
    };
    workspaceId = credentials.workspaceId;
    token = credentials.token;
  }
  return {
    url: server.url,
    workspaceId,
    ...(token ? { token } : {}),
    api: createParleyClient({ baseUrl: server.url, ...(token ? { token } : {}) }),
    async stop() {
      await server.stop('SIGTERM', 10_000);
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A scripted agent (offline, deterministic) created through the API with the owner's token. */
export async function createScriptedAgent(
  parley: Parley,
  name: string,
  script: unknown[],
  extra: Record<string, unknown> = {},
) {
  await parley.api.agents.create(parley.workspaceId, {
    definition: {
      name,
      instructions: 'You are a scripted test agent.',
      model: { provider: 'scripted', model: 'demo', script },
      plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
      ...extra,
    },
    deploy: true,
  });
}
