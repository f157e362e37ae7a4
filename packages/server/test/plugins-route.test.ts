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
