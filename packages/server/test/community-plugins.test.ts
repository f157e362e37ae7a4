import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry, RegistryEntry } from '@parley/plugin-kit';
import type { SandboxAuditEvent } from '@parley/sandbox';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type CommunityPlugins, createCommunityPlugins } from '../src/runs/community-plugins.ts';

/*
 * Where the tier and the enforced permissions of an installed plugin come from: the registry
 * entry when there is one (what was reviewed), the plugin's own manifest otherwise.
 */

const probe = fileURLToPath(new URL('../../sandbox/test/fixtures/probe-plugin', import.meta.url));
const pluginsDir = mkdtempSync(join(tmpdir(), 'parley-plugins-'));
mkdirSync(join(pluginsDir, '@fixtures'));
symlinkSync(probe, join(pluginsDir, '@fixtures', 'plugin-probe'));

function registryWith(entry: Partial<RegistryEntry> | undefined): Registry {
  return {
    registryVersion: 1,
    cores: [{ version: '0.1.0', contract: 1 }],
    plugins: entry
      ? [
          {
            name: 'probe',
            package: '@fixtures/plugin-probe',
            description: 'A test plugin.',
            repository: 'https://example.com/probe',
            tier: 'community',
            version: '1.0.0',
            contracts: [1],
            core: '^0.1.0',
            testedCore: ['0.1.0'],
            permissions: { network: ['127.0.0.1'], secrets: ['WEATHER_KEY'] },
            lastKit: null,
            ...entry,
          },
        ]
      : [],
  };
}

const started: CommunityPlugins[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.shutdown()));
});

function plugins(registry: Registry) {
  const community = createCommunityPlugins({
    dir: pluginsDir,
    registry: async () => registry,
    log: Fastify({ logger: false }).log,
  });
  started.push(community);
  return community;
}

const binding = (audits: SandboxAuditEvent[] = []) => ({
  workspaceId: 'ws-1',
  secret: async (name: string) => (name === 'WEATHER_KEY' ? 'wk-1234' : undefined),
  audit: (event: SandboxAuditEvent) => audits.push(event),
});

describe('community plugins installed on the server', () => {
  it('finds installed packages by name, and nothing for a name that is not installed', async () => {
    const community = plugins(registryWith(undefined));
    expect(await community.installed('@fixtures/plugin-probe')).toMatchObject({
      name: '@fixtures/plugin-probe',
      version: '1.0.0',
    });
    expect(await community.installed('@fixtures/plugin-absent')).toBeUndefined();
  });

  it('enforces what the registry entry grants, and keeps one process per workspace', async () => {
    const community = plugins(registryWith({}));
    const installed = (await community.installed('@fixtures/plugin-probe'))!;
    const first = await community.sandbox(installed, binding());
    expect(await community.sandbox(installed, binding())).toBe(first);
    const other = await community.sandbox(installed, { ...binding(), workspaceId: 'ws-2' });
    expect(other.pid()).not.toBe(first.pid());
  });

  it('refuses a plugin whose manifest declares more than its registry entry grants', async () => {
    const community = plugins(
      registryWith({ permissions: { network: [], secrets: ['WEATHER_KEY'] } }),
    );
    const installed = (await community.installed('@fixtures/plugin-probe'))!;
    await expect(community.sandbox(installed, binding())).rejects.toMatchObject({
      code: 'agent.invalid_config',
      message: expect.stringContaining(
        'now declares 127.0.0.1, which its registry entry does not grant',
      ),
    });
  });

  it('refuses an archived plugin', async () => {
    const community = plugins(registryWith({ tier: 'archived' }));
    const installed = (await community.installed('@fixtures/plugin-probe'))!;
    await expect(community.sandbox(installed, binding())).rejects.toThrow(/archived/);
  });

  it('starts the processes of a workspace anew when its secrets change', async () => {
    const community = plugins(registryWith(undefined));
    const installed = (await community.installed('@fixtures/plugin-probe'))!;
    const before = await community.sandbox(installed, binding());
    await community.forget('ws-1');
    expect(before.pid()).toBeUndefined();
    const after = await community.sandbox(installed, binding());
    expect(after).not.toBe(before);
    expect(after.pid()).toEqual(expect.any(Number));
  });
});
