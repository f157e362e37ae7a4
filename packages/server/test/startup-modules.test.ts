import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { PLUGIN_CATALOG } from '../src/runs/plugin-catalog.ts';
import { BUILT_IN_PLUGINS } from '../src/runs/plugin-names.ts';
import { freePort } from './support/harness.ts';

/*
 * What a PGlite server loads before it is ready (docs/performance.md, issue #28): the server
 * process as `npm start` runs it, with a module hook that lists every module its main thread
 * loads. What it never needs stays unloaded (node-redis, node-postgres, Fastify's default ajv
 * and fast-json-stringify compilers), and what was moved off the path still works: the zod
 * compilers validate and serialise, the OpenAPI document lists the routes, a configured
 * disabled plugin is checked against the built-in names.
 */

const NODE = new URL('../../../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../src/main.js', import.meta.url).pathname;

const HOOK = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.MODULES_OUT, loaded.join('\\n')));
`;

let dir: string;
let child: ChildProcess;
let url: string;
let token: string;
let workspaceId: string;
let stderr = '';

async function waitReady(): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${stderr}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A bound for a hung start on a busy machine (a fresh data directory: initdb, migrations), not
// a timing claim.
const BOUND_MS = 180_000;

describe('a PGlite server at start', { timeout: BOUND_MS }, () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-startup-'));
    await writeFile(join(dir, 'hook.mjs'), HOOK);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(NODE, ['--import', join(dir, 'hook.mjs'), MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        PARLEY_DATA_DIR: join(dir, 'data'),
        PARLEY_PORT: String(port),
        PARLEY_LOG_LEVEL: 'error',
        PARLEY_DISABLED_PLUGINS: '@parley/plugin-http',
        MODULES_OUT: join(dir, 'modules.txt'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    await waitReady();
    const credentials = JSON.parse(await readFile(join(dir, 'data', 'credentials'), 'utf8'));
    token = credentials.token;
    workspaceId = credentials.workspaceId;
  }, BOUND_MS);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('validates requests and serialises responses with the zod compilers', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const bad = await fetch(`${url}/v1/workspaces/${workspaceId}/agents`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ definition: 42 }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await bad.json()) as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe('request.invalid');
    expect(problem.errors.length).toBeGreaterThan(0);
    const ready = (await (await fetch(`${url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready).toMatchObject({ ok: true, database: 'pglite', bus: { kind: 'local' } });
  });

  it('documents its routes (OpenAPI)', async () => {
    const doc = (await (await fetch(`${url}/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toContain('/v1/workspaces/{workspaceId}/agents');
  });

  it('loaded neither Redis nor node-postgres nor ajv nor the tracing SDK', async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    const modules = (await readFile(join(dir, 'modules.txt'), 'utf8')).split('\n');
    // The hook saw the server's own modules: the list is the real one.
    expect(modules.some((m) => m.endsWith('/packages/server/src/app.ts'))).toBe(true);
    expect(modules.some((m) => m.includes('/node_modules/fastify/'))).toBe(true);
    // Nor OpenTelemetry's SDK and exporters: no exporter is configured (docs/observability.md).
    for (const unneeded of [
      '@redis/',
      '/node_modules/pg/',
      '/node_modules/ajv/',
      '/node_modules/@opentelemetry/sdk-',
      '/node_modules/@opentelemetry/exporter-',
    ])
      expect(modules.filter((m) => m.includes(unneeded))).toEqual([]);
  });
});

describe('the built-in plugin names', () => {
  it('are exactly the catalogue, and the configuration checks against them', () => {
    expect(Object.keys(PLUGIN_CATALOG).sort()).toEqual([...BUILT_IN_PLUGINS].sort());
    // The server above started with PARLEY_DISABLED_PLUGINS=@parley/plugin-http; a name that
    // is not built in (and no plugins directory) stops the configuration, naming the choices.
    expect(() => loadConfig({ PARLEY_DISABLED_PLUGINS: '@parley/plugin-nope' })).toThrow(
      /@parley\/plugin-basics, @parley\/plugin-http, @parley\/plugin-scam-guard.*plugin-nope/,
    );
    expect(
      loadConfig({ PARLEY_DISABLED_PLUGINS: '@parley/plugin-scam-guard' }).disabledPlugins,
    ).toEqual(['@parley/plugin-scam-guard']);
  });
});
