import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRegistry } from '@parley/plugin-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/harness.ts';

/* GET /v1/plugins reports each installed plugin's tier and kit results from registry/plugins.json. */

describe('GET /v1/plugins: tier and compatibility from the registry', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('every installed plugin carries the registry tier and the kit result', async () => {
    const response = await fetch(`${server.url}/v1/plugins`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(response.status).toBe(200);
    const plugins = (await response.json()) as {
      name: string;
      tier: string;
      compatibility: { kit: string | null; testedCore: string[]; testedOnThisCore: boolean };
    }[];
    const registry = await loadRegistry();
    expect(plugins.length).toBeGreaterThan(0);
    for (const plugin of plugins) {
      const listed = registry.plugins.find((p) => p.package === plugin.name);
      expect(listed, `${plugin.name} is in registry/plugins.json`).toBeDefined();
      expect(plugin.tier).toBe(listed!.tier);
      expect(plugin.compatibility).toEqual({
        kit: listed!.lastKit?.result ?? null,
        testedCore: listed!.testedCore,
        testedOnThisCore: listed!.testedCore.includes('0.1.0'),
      });
    }
    expect(plugins.find((p) => p.name === '@parley/plugin-basics')?.compatibility).toEqual({
      kit: 'pass',
      testedCore: ['0.1.0'],
      testedOnThisCore: true,
    });
  });
});

describe('GET /v1/plugins: plugins installed in PARLEY_PLUGINS_DIR', () => {
  const probe = fileURLToPath(new URL('../../sandbox/test/fixtures/probe-plugin', import.meta.url));
  const pluginsDir = mkdtempSync(join(tmpdir(), 'parley-installed-'));
  let server: TestServer;
  beforeAll(async () => {
    mkdirSync(join(pluginsDir, '@fixtures'));
    symlinkSync(probe, join(pluginsDir, '@fixtures', 'plugin-probe'));
    // Not a plugin: left out of the list, which still answers.
    mkdirSync(join(pluginsDir, 'not-a-plugin'));
    server = await startTestServer({ env: { PARLEY_PLUGINS_DIR: pluginsDir } });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(pluginsDir, { recursive: true, force: true });
  });

  it('lists an unregistered installed plugin as community tier, with the permissions it declares', async () => {
    const response = await fetch(`${server.url}/v1/plugins`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(response.status).toBe(200);
    const plugins = (await response.json()) as { name: string }[];
    expect(plugins.find((p) => p.name === '@fixtures/plugin-probe')).toEqual({
      name: '@fixtures/plugin-probe',
      version: '1.0.0',
      contract: 1,
      description: null,
      tier: 'community',
      permissions: { network: ['127.0.0.1'], secrets: ['WEATHER_KEY'] },
      configurable: false,
      disabled: false,
      compatibility: { kit: null, testedCore: [], testedOnThisCore: false },
    });
    expect(plugins.map((p) => p.name)).not.toContain('not-a-plugin');
    expect(plugins.map((p) => p.name)).toContain('@parley/plugin-basics');
  });
});
