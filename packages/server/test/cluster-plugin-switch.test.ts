import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from './support/harness.ts';

/*
 * The plugin kill switch is stored and applies on every instance: switched off through one,
 * the other refuses it as soon as the bus says so, and an instance started later reads it at
 * start; switched back on through another, it is on everywhere.
 */

const PLUGIN = '@parley/plugin-http';
let database: TestDatabase;
let dataDir = '';
const servers: TestServer[] = [];

const start = async () => {
  const server = await startTestServer({
    engine: 'postgres',
    reuse: { database, dataDir },
    keepDatabase: true,
  });
  servers.push(server);
  return server;
};

/** Whether the instance's plugin list says the plugin is off. */
const disabledAt = async (server: TestServer) => {
  const res = await client(server.url, server.token)('GET', '/v1/plugins');
  expect(res.status).toBe(200);
  const list = (await res.json()) as { name: string; disabled: boolean }[];
  return list.find((p) => p.name === PLUGIN)!.disabled;
};

async function until(test: () => Promise<boolean>, what: string) {
  const started = Date.now();
  while (!(await test())) {
    if (Date.now() - started > 10_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The local owner's session: the operator of a single-user server (any instance takes it). */
async function operator(server: TestServer) {
  const local = await fetch(`${server.url}/v1/auth/local`, {
    method: 'POST',
    headers: { origin: server.url },
  });
  expect(local.status).toBe(200);
  const cookie = local.headers.get('set-cookie')!.split(';')[0]!;
  return (action: 'disable' | 'enable', at: TestServer) =>
    client(at.url)(
      'POST',
      `/v1/instance/plugins/${encodeURIComponent(PLUGIN)}/${action}`,
      undefined,
      {
        cookie,
        origin: at.url,
      },
    );
}

beforeAll(async () => {
  database = await createTestDatabase('plugin_switch', { migrated: true });
  dataDir = await mkdtemp(join(tmpdir(), 'parley-switch-'));
  await start();
  await start();
}, 120_000);

afterAll(async () => {
  for (const server of servers.reverse()) await server.close();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('switches a plugin off and on for every instance, including one started later', async () => {
  const [a, b] = servers as [TestServer, TestServer];
  const as = await operator(a);
  expect(await disabledAt(b)).toBe(false);

  const off = await as('disable', a);
  expect(off.status, await off.clone().text()).toBe(200);
  expect(await disabledAt(a)).toBe(true);
  await until(() => disabledAt(b), 'B hears of the switch');

  const c = await start();
  expect(await disabledAt(c)).toBe(true);

  const on = await as('enable', b);
  expect(on.status).toBe(200);
  expect(await disabledAt(b)).toBe(false);
  await until(async () => !(await disabledAt(a)) && !(await disabledAt(c)), 'A and C hear of it');
  const stored = await a.store.system.cluster.pluginSwitches.list();
  expect(stored).toMatchObject([
    { name: PLUGIN, disabled: false, changedBy: expect.stringMatching(/^user:/) },
  ]);
}, 120_000);
