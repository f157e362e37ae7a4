import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * The plugin kill switch reaches community plugins (PARLEY_PLUGINS_DIR), the untrusted ones:
 * `disable` refuses new runs and stops the plugin's sandboxed processes, which hold their
 * workspace's secrets in their environment and could go on using the network while idle.
 */

const PROBE = '@fixtures/plugin-probe';
const pluginsDir = mkdtempSync(join(tmpdir(), 'parley-plugins-'));
mkdirSync(join(pluginsDir, '@fixtures'));
symlinkSync(
  fileURLToPath(new URL('../../sandbox/test/fixtures/probe-plugin', import.meta.url)),
  join(pluginsDir, '@fixtures', 'plugin-probe'),
);
/** Unique to this test: finds the plugin's processes by the secret in their environment. */
const KEY = `wk-${randomBytes(12).toString('hex')}`;

/** Processes of this user whose environment holds the workspace secret. */
function processesHoldingKey(): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`WEATHER_KEY=${KEY}`))
        found.push(Number(pid));
    } catch {
      // Gone, or another user's.
    }
  }
  return found;
}

let weather: Server;
let weatherUrl = '';
let server: TestServer;
let call: ReturnType<typeof client>;
let operator: ReturnType<typeof client>;

beforeAll(async () => {
  weather = createServer((_req, res) => res.end(JSON.stringify({ temperatureC: 21 })));
  await new Promise<void>((resolve) => weather.listen(0, '127.0.0.1', resolve));
  weatherUrl = `http://127.0.0.1:${(weather.address() as AddressInfo).port}/now`;
  server = await startTestServer({ env: { PARLEY_PLUGINS_DIR: pluginsDir } });
  call = client(server.url, server.token);
  const secret = await call('PUT', `/v1/workspaces/${server.workspaceId}/secrets/WEATHER_KEY`, {
    value: KEY,
  });
  expect(secret.status).toBeLessThan(300);
  // The operator of a single-user server: the local owner's session.
  const local = await fetch(`${server.url}/v1/auth/local`, {
    method: 'POST',
    headers: { origin: server.url },
  });
  expect(local.status).toBe(200);
  const cookie = local.headers.get('set-cookie')!.split(';')[0]!;
  operator = (method, path, body, headers = {}) =>
    client(server.url)(method, path, body, { cookie, origin: server.url, ...headers });
});
afterAll(async () => {
  await server?.close();
  weather?.close();
});

async function runWeather(name: string) {
  const ws = server.workspaceId;
  const definition = scriptedAgent(
    name,
    [
      [{ type: 'tool_call', name: 'weather', id: 'w1', args: { url: weatherUrl } }],
      [{ type: 'text', text: 'Done.' }],
    ],
    { plugins: [{ name: PROBE, version: '^1.0.0' }] },
  );
  const deployed = await call('POST', `/v1/workspaces/${ws}/agents`, { definition, deploy: true });
  expect(deployed.status, await deployed.clone().text()).toBe(201);
  return call(
    'POST',
    `/v1/workspaces/${ws}/agents/${name}/runs`,
    { input: 'go' },
    { accept: 'application/json' },
  );
}

const path = (action: 'disable' | 'enable') =>
  `/v1/instance/plugins/${encodeURIComponent(PROBE)}/${action}`;

describe('disabling a community plugin', () => {
  it('refuses its runs and stops its processes, which held the workspace secret', async () => {
    const first = await runWeather('weather-1');
    expect(first.status).toBe(200);
    expect(((await first.json()) as { outcome: string }).outcome).toBe('run.finish');
    // The plugin's process stays for later runs, with the secret in its environment.
    expect(processesHoldingKey().length).toBeGreaterThan(0);

    const off = await operator('POST', path('disable'));
    expect(off.status, await off.clone().text()).toBe(200);
    expect(await off.json()).toMatchObject({ name: PROBE, disabled: true });
    expect(processesHoldingKey()).toEqual([]);

    const refused = await runWeather('weather-2');
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('agent.unavailable');
    expect(problem.detail).toContain(PROBE);

    const on = await operator('POST', path('enable'));
    expect(on.status).toBe(200);
    expect((await runWeather('weather-3')).status).toBe(200);
  });

  it('answers 404 for a plugin that is neither built in nor in PARLEY_PLUGINS_DIR', async () => {
    const res = await operator('POST', '/v1/instance/plugins/%40fixtures%2Fplugin-nope/disable');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toContain('PARLEY_PLUGINS_DIR');
  });

  it('takes community plugins in PARLEY_DISABLED_PLUGINS at start, and still refuses unknown names', () => {
    expect(
      loadConfig({ PARLEY_PLUGINS_DIR: pluginsDir, PARLEY_DISABLED_PLUGINS: PROBE })
        .disabledPlugins,
    ).toEqual([PROBE]);
    for (const env of [
      { PARLEY_DISABLED_PLUGINS: PROBE },
      { PARLEY_PLUGINS_DIR: pluginsDir, PARLEY_DISABLED_PLUGINS: '@fixtures/plugin-nope' },
      { PARLEY_PLUGINS_DIR: pluginsDir, PARLEY_DISABLED_PLUGINS: '@fixtures/../../etc' },
    ])
      expect(() => loadConfig(env)).toThrow(ConfigError);
  });
});
