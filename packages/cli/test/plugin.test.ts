import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadAgentFile } from '@parley/agent-file';
import {
  formatRegistry,
  KitResultSchema,
  loadRegistry,
  type Registry,
  type RegistryEntry,
} from '@parley/plugin-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { parley, testIo } from './support/io.ts';

/*
 * parley plugin new | test | list | info | add, in process, on temporary directories: a
 * generated plugin passes the kit and its own test; a bad one fails with exit code 1; add
 * asks for community plugins and again when a version widens its permissions.
 */

const exec = promisify(execFile);
const repoRoot = realpathSync(fileURLToPath(new URL('../../../', import.meta.url)));
const fixture = (name: string) => join(repoRoot, 'packages/plugin-kit/test/fixtures', name);

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});
async function workDir() {
  const dir = realpathSync(await mkdtemp(join(tmpdir(), 'parley-plugin-')));
  made.push(dir);
  return dir;
}

describe('parley plugin new', () => {
  it('generates a plugin that passes the kit and its own test out of the box', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const created = await parley(['plugin', 'new', '@acme/plugin-words'], io);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    let dir = join(cwd, 'plugin-words');
    expect(created.stdout).toContain(`Created plugin @acme/plugin-words in ${dir}`);
    for (const file of [
      'package.json',
      'README.md',
      'src/index.ts',
      'test/plugin.test.ts',
      '.gitignore',
    ])
      expect(existsSync(join(dir, file)), file).toBe(true);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({
      name: '@acme/plugin-words',
      peerDependencies: { '@parley/core': '^0.1.0' },
    });
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain('# @acme/plugin-words');
    expect(await readFile(join(dir, 'src/index.ts'), 'utf8')).not.toContain('{{');

    const uninstalled = await parley(['plugin', 'test', dir], io);
    expect(uninstalled.code).toBe(1);
    expect(uninstalled.stdout).toContain('(run npm install in the plugin directory)');

    // What npm install gives it (@parley/core and zod), without the network: the plugin moves
    // into the repository, where Node finds them in the node_modules above it. (A node_modules
    // link to them would leave the package, which the kit refuses, as the server does.)
    const installed = join(repoRoot, 'test-results', `plugin-new-${process.pid}-${Date.now()}`);
    made.push(installed);
    await cp(dir, join(installed, 'plugin-words'), { recursive: true });
    dir = join(installed, 'plugin-words');

    const kit = await parley(['plugin', 'test', dir, '--json'], io);
    const result = KitResultSchema.parse(JSON.parse(kit.stdout));
    expect(result.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(kit.code).toBe(0);
    expect(result.plugin).toMatchObject({ name: '@acme/plugin-words', version: '0.1.0' });
    expect(result.checks.find((c) => c.id === 'sample-calls.count_words')?.message).toContain(
      'Hello from a Parley plugin',
    );

    const ownTest = await exec(
      process.execPath,
      ['--test', '--test-reporter=tap', 'test/plugin.test.ts'],
      { cwd: dir },
    );
    expect(ownTest.stdout).toMatch(/# pass 2\b/);
    expect(ownTest.stdout).toMatch(/# fail 0\b/);
  });

  it('refuses a name that is not a package name, and a directory that is not empty', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const bad = await parley(['plugin', 'new', 'My Plugin'], io);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not an npm package name');
    await writeFile(join(cwd, 'keep.txt'), 'x');
    const busy = await parley(['plugin', 'new', 'words', '--dir', '.'], io);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('is not empty');
  });
});

describe('parley plugin test', () => {
  it('a bad plugin: each failed check on its own line, exit code 1', async () => {
    const io = await testIo();
    const run = await parley(['plugin', 'test', fixture('bad-env-read'), '--timeout', '1000'], io);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'Plugin kit · @fixtures/bad-env-read 1.0.0 · core 0.1.0 (contract 1)',
    );
    expect(run.stdout).toMatch(
      /✗ reads environment variables: GITHUB_TOKEN, HOME; read secrets with ctx\.secrets\.get.*\(access\.env\)/,
    );
    expect(run.stdout).toMatch(
      /✗ out of process the sandbox denied: env GITHUB_TOKEN.*\(isolation\.audit\)/,
    );
    expect(run.stdout).toMatch(/✗ 2 of \d+ checks failed/);
  });

  it('through the real launcher: --json on stdout, exit code 1 for a failing plugin, 0 for a good one', async () => {
    const launcher = join(repoRoot, 'node_modules', '.bin', 'parley');
    const failing = await exec(
      launcher,
      ['plugin', 'test', fixture('bad-lifecycle-throws'), '--json'],
      {
        env: { PATH: process.env.PATH, NO_COLOR: '1' },
      },
    ).then(
      () => {
        throw new Error('the kit passed a plugin whose service throws');
      },
      (error: { code: number; stdout: string }) => error,
    );
    expect(failing.code).toBe(1);
    expect(KitResultSchema.parse(JSON.parse(failing.stdout)).ok).toBe(false);
    const passing = await exec(
      launcher,
      ['plugin', 'test', fixture('good-declared-access'), '--json'],
      {
        env: { PATH: process.env.PATH, NO_COLOR: '1' },
      },
    );
    expect(KitResultSchema.parse(JSON.parse(passing.stdout)).ok).toBe(true);
  });

  it('a registry plugin gets its kitConfig from the registry; --config overrides it', async () => {
    const io = await testIo({ cwd: repoRoot });
    const good = await parley(['plugin', 'test', 'plugins/plugin-http'], io);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/✓ \d+ checks passed/);
    const badConfig = await parley(
      ['plugin', 'test', 'plugins/plugin-http', '--config', '[1]'],
      io,
    );
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('--config takes a JSON object');
  });
});

describe('parley plugin list and info', () => {
  it('lists the registry with tiers and kit results', async () => {
    const io = await testIo();
    const run = await parley(['plugin', 'list'], io);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/basics\s+core\s+0\.1\.0\s+pass \(core 0\.1\.0\)/);
    expect(run.stdout).toMatch(/http\s+core\s+0\.1\.0/);
    const json = await parley(['plugin', 'list', '--tier', 'core', '--json'], io);
    const core = (await loadRegistry()).plugins.filter((e) => e.tier === 'core');
    expect(JSON.parse(json.stdout)).toEqual(core);
    expect(core.map((e) => e.name)).toEqual(expect.arrayContaining(['basics', 'http']));
    expect((await parley(['plugin', 'list', '--tier', 'gold'], io)).code).toBe(2);
  });

  it('info shows the permissions, including those from config', async () => {
    const io = await testIo();
    const run = await parley(['plugin', 'info', 'http'], io);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('network: none (and those its config in agent.yaml lists)');
    expect(run.stdout).toContain('source:      this repository, plugins/plugin-http');
    const missing = await parley(['plugin', 'info', 'nope'], io);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope is not in the plugin registry');
  });
});

describe('parley plugin add', () => {
  const weather = (version: string, network: string[], secrets: string[]): RegistryEntry => ({
    name: 'weather',
    package: '@acme/plugin-weather',
    description: 'Weather for a city.',
    repository: 'https://example.com/acme/plugin-weather',
    tier: 'community',
    version,
    contracts: [1],
    core: '^0.1.0',
    testedCore: ['0.1.0'],
    permissions: { network, secrets },
    lastKit: null,
  });

  async function project() {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    expect((await parley(['create', 'bot', '--yes', '--no-install'], io)).code).toBe(0);
    const dir = join(cwd, 'bot');
    const registryFile = join(cwd, 'registry.json');
    const base = await loadRegistry();
    const writeRegistry = async (...extra: RegistryEntry[]) => {
      const registry: Registry = { ...base, plugins: [...base.plugins, ...extra] };
      await writeFile(registryFile, formatRegistry(registry));
    };
    return { dir, registryFile, writeRegistry };
  }

  it('a community plugin shows its permissions and asks; a wider version asks again', async () => {
    const { dir, registryFile, writeRegistry } = await project();
    await writeRegistry(weather('1.0.0', ['api.weather.example'], ['WEATHER_KEY']));
    const agentBefore = await readFile(join(dir, 'agent.yaml'), 'utf8');
    const add = (io: Awaited<ReturnType<typeof testIo>>, ...flags: string[]) =>
      parley(['plugin', 'add', 'weather', '--registry', registryFile, ...flags], io);

    // No terminal and no --yes: nothing is added.
    const refused = await add(await testIo({ cwd: dir }));
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('network: api.weather.example');
    expect(refused.stdout).toContain('secrets: WEATHER_KEY');
    expect(refused.stdout).toContain('Community plugins are not reviewed by Parley');
    expect(refused.stderr).toContain('pass --yes');
    expect(await readFile(join(dir, 'agent.yaml'), 'utf8')).toBe(agentBefore);
    expect(existsSync(join(dir, 'plugins.lock.json'))).toBe(false);

    // On a terminal, "n" keeps everything as it was.
    const tty = await testIo({ cwd: dir, tty: true });
    tty.type('n\n');
    const declined = await add(tty);
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain('Add @acme/plugin-weather with these permissions? [y/N]');
    expect(await readFile(join(dir, 'agent.yaml'), 'utf8')).toBe(agentBefore);

    // "y": added to agent.yaml (its comments kept) and the accepted permissions recorded.
    const yes = await testIo({ cwd: dir, tty: true });
    yes.type('y\n');
    const accepted = await add(yes);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('installed @acme/plugin-weather in PARLEY_PLUGINS_DIR');
    const agentText = await readFile(join(dir, 'agent.yaml'), 'utf8');
    expect(agentText).toContain('# current_time, calculator, remember and recall.');
    const agent = await loadAgentFile(join(dir, 'agent.yaml'));
    expect(agent.plugins.map((p) => [p.name, p.version])).toEqual([
      ['@parley/plugin-basics', '^0.1.0'],
      ['@acme/plugin-weather', '^1.0.0'],
    ]);
    const lock = JSON.parse(await readFile(join(dir, 'plugins.lock.json'), 'utf8'));
    expect(lock.plugins['@acme/plugin-weather']).toMatchObject({
      version: '1.0.0',
      tier: 'community',
      permissions: { network: ['api.weather.example'], secrets: ['WEATHER_KEY'] },
    });

    // A new version asking for nothing more: no question.
    await writeRegistry(weather('1.1.0', ['api.weather.example'], ['WEATHER_KEY']));
    const same = await add(await testIo({ cwd: dir }));
    expect(same.code).toBe(0);
    expect((await loadAgentFile(join(dir, 'agent.yaml'))).plugins[1]?.version).toBe('^1.1.0');

    // A version asking for more: asked again, naming only what is new.
    await writeRegistry(
      weather('2.0.0', ['api.weather.example', 'tiles.weather.example'], ['WEATHER_KEY']),
    );
    const wider = await add(await testIo({ cwd: dir }));
    expect(wider.code).toBe(2);
    expect(wider.stdout).toContain('Version 2.0.0 asks for more than you accepted for 1.1.0:');
    expect(wider.stdout).toContain('+ network: tiles.weather.example');
    expect((await loadAgentFile(join(dir, 'agent.yaml'))).plugins[1]?.version).toBe('^1.1.0');
    const widerYes = await add(await testIo({ cwd: dir }), '--yes', '--json');
    expect(widerYes.code).toBe(0);
    expect(JSON.parse(widerYes.stdout)).toMatchObject({ version: '2.0.0', asked: true });
    const lockAfter = JSON.parse(await readFile(join(dir, 'plugins.lock.json'), 'utf8'));
    expect(lockAfter.plugins['@acme/plugin-weather'].permissions.network).toEqual([
      'api.weather.example',
      'tiles.weather.example',
    ]);
  });

  it('a core plugin is added without a question; an archived one is refused', async () => {
    const { dir, registryFile, writeRegistry } = await project();
    await writeRegistry({ ...weather('1.0.0', [], []), tier: 'archived' });
    const io = await testIo({ cwd: dir });
    const core = await parley(['plugin', 'add', 'http', '--registry', registryFile], io);
    expect(core.code).toBe(0);
    expect(core.stdout).toContain('Added @parley/plugin-http ^0.1.0 in agent.yaml');
    const archived = await parley(['plugin', 'add', 'weather', '--registry', registryFile], io);
    expect(archived.code).toBe(1);
    expect(archived.stderr).toContain('is archived (no longer maintained)');
  });
});
