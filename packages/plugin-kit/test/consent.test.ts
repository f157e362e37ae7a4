import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  consentNeeded,
  type PluginLock,
  type RegistryEntry,
  readLock,
  widenedPermissions,
  writeLock,
} from '../src/index.ts';

const entry = (over: Partial<RegistryEntry> = {}): RegistryEntry => ({
  name: 'weather',
  package: '@acme/plugin-weather',
  description: 'Weather.',
  repository: 'https://example.com/acme/plugin-weather',
  tier: 'community',
  version: '1.0.0',
  contracts: [1],
  core: '^0.1.0',
  testedCore: ['0.1.0'],
  permissions: { network: ['api.weather.example'], secrets: ['WEATHER_KEY'] },
  lastKit: null,
  ...over,
});

const accepted = (e: RegistryEntry): PluginLock => ({
  lockVersion: 1,
  plugins: {
    [e.package]: {
      version: e.version,
      tier: e.tier,
      permissions: e.permissions,
      acceptedAt: '2026-01-01T00:00:00.000Z',
    },
  },
});

describe('consent', () => {
  const empty: PluginLock = { lockVersion: 1, plugins: {} };

  it('a community or verified plugin asks the first time; a core plugin never does', () => {
    expect(consentNeeded(entry(), empty).ask).toBe(true);
    expect(consentNeeded(entry({ tier: 'verified' }), empty).ask).toBe(true);
    expect(consentNeeded(entry({ tier: 'core' }), empty).ask).toBe(false);
  });

  it('a new version with the same or fewer permissions does not ask again', () => {
    const lock = accepted(entry());
    expect(consentNeeded(entry({ version: '1.1.0' }), lock).ask).toBe(false);
    const fewer = entry({
      version: '1.2.0',
      permissions: { network: [], secrets: ['WEATHER_KEY'] },
    });
    expect(consentNeeded(fewer, lock).ask).toBe(false);
  });

  it('a new version that widens permissions asks again, naming only what is new', () => {
    const wider = entry({
      version: '2.0.0',
      permissions: {
        network: ['api.weather.example', 'tiles.weather.example'],
        secrets: ['WEATHER_KEY', 'MAPS_KEY'],
      },
    });
    const answer = consentNeeded(wider, accepted(entry()));
    expect(answer).toEqual({
      ask: true,
      previous: '1.0.0',
      widened: { network: ['tiles.weather.example'], secrets: ['MAPS_KEY'] },
    });
    expect(widenedPermissions(undefined, wider.permissions)).toEqual(wider.permissions);
  });

  it('the lock file round-trips and a corrupt one is refused with what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-lock-'));
    const file = join(dir, 'plugins.lock.json');
    expect(await readLock(file)).toEqual(empty);
    await writeLock(file, accepted(entry()));
    expect(await readLock(file)).toEqual(accepted(entry()));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, JSON.stringify({ lockVersion: 1, plugins: { x: { version: 1 } } }));
    await expect(readLock(file)).rejects.toThrow(/not a valid plugin lock file .*delete it/);
    expect(await readFile(file, 'utf8')).toContain('"x"');
  });
});
