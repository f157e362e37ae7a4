import { resolve } from 'node:path';
import type { Registry } from '@parley/plugin-kit';
import type { Command } from '../command.ts';
import { CliError, type Io, line, painter } from '../io.ts';

const ACTIONS = ['new', 'test', 'list', 'info', 'add'];

function registryLoader(io: Io, file: string | undefined): () => Promise<Registry> {
  let loaded: Promise<Registry> | undefined;
  return () => {
    loaded ??= import('@parley/plugin-kit')
      .then(({ loadRegistry }) =>
        loadRegistry(file === undefined ? undefined : resolve(io.cwd, file)),
      )
      .catch((error: Error) => {
        throw new CliError(error.message);
      });
    return loaded;
  };
}

async function list(io: Io, registry: Registry, tier: string | undefined, json: boolean) {
  const { TIERS } = await import('@parley/plugin-kit');
  if (tier !== undefined && !TIERS.includes(tier as (typeof TIERS)[number]))
    throw new CliError(`--tier is one of ${TIERS.join(', ')}.`, 2);
  const plugins = registry.plugins.filter((entry) => !tier || entry.tier === tier);
  if (json) return line(io, JSON.stringify(plugins, null, 2));
  const p = painter(io);
  const width = Math.max(4, ...plugins.map((entry) => entry.name.length));
  line(io, `${'name'.padEnd(width)}  ${'tier'.padEnd(9)}  ${'version'.padEnd(8)}  kit`);
  for (const entry of plugins) {
    const kit = entry.lastKit
      ? entry.lastKit.result === 'pass'
        ? p.green(`pass (core ${entry.lastKit.core})`)
        : p.red(`fail (core ${entry.lastKit.core})`)
      : p.dim('not run');
    line(
      io,
      `${entry.name.padEnd(width)}  ${entry.tier.padEnd(9)}  ${entry.version.padEnd(8)}  ${kit}  ${p.dim(entry.description)}`,
    );
  }
  if (plugins.length === 0) line(io, p.dim(`(no ${tier ?? ''} plugins)`));
}

async function info(io: Io, registry: Registry, name: string | undefined, json: boolean) {
  if (!name) throw new CliError('Which plugin? parley plugin info <name>', 2);
  const entry = registry.plugins.find((e) => e.name === name || e.package === name);
  if (!entry) throw new CliError(`${name} is not in the plugin registry: see parley plugin list.`);
  if (json) return line(io, JSON.stringify(entry, null, 2));
  line(io, `${entry.package} ${entry.version} (${entry.name})`);
  line(io, `  ${entry.description}`);
  line(io, `  tier:        ${entry.tier}`);
  line(
    io,
    `  source:      ${entry.repository === 'self' ? `this repository, ${entry.path}` : entry.repository}`,
  );
  line(io, `  contracts:   ${entry.contracts.join(', ')}; core ${entry.core}`);
  line(
    io,
    `  tested on:   ${entry.testedCore.length ? `core ${entry.testedCore.join(', ')}` : 'not yet'}`,
  );
  const kit = entry.lastKit
    ? `${entry.lastKit.result} on core ${entry.lastKit.core}${entry.lastKit.failed.length ? `: ${entry.lastKit.failed.join(', ')}` : ''}`
    : 'not run';
  line(io, `  kit:         ${kit}`);
  const { describePermissions } = await import('./plugin-add.ts');
  for (const text of describePermissions(entry.permissions, entry.permissionsFromConfig))
    line(io, `  ${text}`);
}

export const pluginCommand: Command = {
  name: 'plugin',
  summary: 'Plugins: create one, test it with the compatibility kit, browse the registry, add one.',
  usage:
    'parley plugin new <name> [--dir <dir>] | test [dir] [--config <json>] [--timeout <ms>] | list [--tier <tier>] | info <name> | add <name> [--yes] [--file <agent file>]',
  examples: [
    'parley plugin new @acme/plugin-weather   # a plugin project with a tool and a test',
    'parley plugin test                       # the kit on the plugin in this directory',
    'parley plugin test ./my-plugin --json    # machine-readable (result version 1)',
    'parley plugin list --tier core',
    'parley plugin info http',
    'parley plugin add http                   # shows its permissions; community plugins ask',
  ],
  options: {
    dir: { type: 'string' },
    config: { type: 'string' },
    timeout: { type: 'string' },
    tier: { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
    file: { type: 'string', short: 'f' },
    registry: { type: 'string' },
  },
  async run({ positionals, values }, io) {
    const [action, target, ...extra] = positionals;
    if (!action || !ACTIONS.includes(action)) throw new CliError(`Usage: ${this.usage}`, 2);
    if (extra.length > 0)
      throw new CliError(`One plugin at a time (also got ${extra.join(', ')}).`, 2);
    const registry = registryLoader(io, values.registry as string | undefined);
    const json = Boolean(values.json);
    switch (action) {
      case 'new':
        return (await import('./plugin-new.ts')).newPlugin(io, target, values);
      case 'test':
        return (await import('./plugin-test.ts')).testPlugin(io, target, values, registry);
      case 'list':
        if (target) throw new CliError(`parley plugin list takes no name (got ${target}).`, 2);
        await list(io, await registry(), values.tier as string | undefined, json);
        return 0;
      case 'info':
        await info(io, await registry(), target, json);
        return 0;
      default:
        return (await import('./plugin-add.ts')).addPlugin(io, target, values, registry);
    }
  },
};
