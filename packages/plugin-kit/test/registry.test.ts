import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  applyMatrix,
  formatRegistry,
  kitResultJsonSchema,
  loadRegistry,
  matrixTargets,
  REGISTRY_FILE,
  type Registry,
  RegistrySchema,
  renderCompatibility,
  runMatrix,
} from '../src/index.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const COMPATIBILITY = fileURLToPath(
  new URL('../../../docs/plugins/compatibility.md', import.meta.url),
);

describe('registry/plugins.json', () => {
  it('the committed file is valid and lists every first-party plugin as core', async () => {
    const registry = await loadRegistry();
    const core = registry.plugins.filter((p) => p.tier === 'core').map((p) => p.package);
    expect(core).toEqual(expect.arrayContaining(['@parley/plugin-basics', '@parley/plugin-http']));
    // It is written the way the matrix writes it, so a re-run only changes results.
    expect(await readFile(REGISTRY_FILE, 'utf8')).toBe(formatRegistry(registry));
  });

  it('refuses unbounded ranges, unknown tiers, bad permissions and duplicates, naming each', () => {
    const entry = {
      name: 'x',
      package: '@acme/x',
      description: 'An example.',
      repository: 'https://example.com/acme/x',
      tier: 'community',
      version: '1.0.0',
      contracts: [1],
      core: '^0.1.0',
      testedCore: [],
      permissions: { network: ['api.acme.example'], secrets: ['ACME_KEY'] },
      lastKit: null,
    };
    const bad = RegistrySchema.safeParse({
      registryVersion: 1,
      cores: [{ version: '0.1.0', contract: 1 }],
      plugins: [
        { ...entry, core: '*' },
        { ...entry, name: 'y', package: '@acme/y', tier: 'gold' },
        {
          ...entry,
          name: 'z',
          package: '@acme/z',
          permissions: { network: ['http://x'], secrets: ['lower'] },
        },
      ],
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'plugins.0.core',
        'plugins.1.tier',
        'plugins.2.permissions.network.0',
        'plugins.2.permissions.secrets.0',
      ]),
    );
    // Checks across entries run once each entry is valid by itself.
    const twice = RegistrySchema.safeParse({
      registryVersion: 1,
      cores: [{ version: '0.1.0', contract: 1 }],
      plugins: [
        entry,
        { ...entry, name: 'x2' },
        { ...entry, name: 'w', package: '@acme/w', repository: 'self' },
      ],
    });
    expect(twice.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['plugins.2.path', 'a plugin in this repository (repository "self") needs its path'],
      ['plugins.1.package', 'package @acme/x is listed twice'],
    ]);
  });
});

describe('the compatibility matrix', () => {
  it('docs/plugins/compatibility.md and the registry results match a fresh run (npm run plugins:matrix)', async () => {
    const registry = await loadRegistry();
    const matrix = await runMatrix(registry, ROOT);
    expect(await readFile(COMPATIBILITY, 'utf8')).toBe(renderCompatibility(matrix));
    expect(applyMatrix(registry, matrix)).toEqual(registry);
  });

  it('docs/plugins/kit-result.schema.json is the result schema of this kit', async () => {
    const file = fileURLToPath(
      new URL('../../../docs/plugins/kit-result.schema.json', import.meta.url),
    );
    expect(await readFile(file, 'utf8')).toBe(kitResultJsonSchema());
    expect(JSON.parse(kitResultJsonSchema())).toMatchObject({
      title: 'Parley plugin kit result, version 1',
      properties: { kitResult: { const: 1 } },
    });
  });

  it('runs the previous contract too when the registry lists a core for it', async () => {
    const registry: Registry = {
      ...(await loadRegistry()),
      cores: [
        { version: '0.0.9', contract: 0 },
        { version: '0.0.7', contract: 0 },
        { version: '0.1.0', contract: 1 },
      ],
    };
    registry.plugins = registry.plugins.filter((p) => p.name === 'basics');
    const { targets } = matrixTargets(registry);
    expect(targets).toEqual([
      { core: '0.1.0', contract: 1 },
      { core: '0.0.9', contract: 0 },
    ]);
    const matrix = await runMatrix(registry, ROOT);
    const page = renderCompatibility(matrix);
    expect(page).toContain('| core 0.1.0 (contract 1, current) | core 0.0.9 (contract 0) |');
    expect(page).toMatch(
      /basics .*✅ pass .*❌ fail: `manifest.contract`, `manifest.core-range`, `manifest.host`/,
    );
    const updated = applyMatrix(registry, matrix);
    expect(updated.plugins[0]!.testedCore).toEqual(['0.1.0']);
    expect(updated.plugins[0]!.lastKit).toMatchObject({
      result: 'pass',
      core: '0.1.0',
      failed: [],
    });
  });
});
