import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseAgentJson, parseAgentYaml } from '@parley/agent-file';
import {
  consentNeeded,
  findEntry,
  isEmpty,
  LOCK_FILE_NAME,
  type Permissions,
  type Registry,
  type RegistryEntry,
  readLock,
  writeLock,
} from '@parley/plugin-kit';
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import { CliError, type Io, line, painter } from '../io.ts';
import { agentFilePath } from '../project.ts';
import { confirm } from '../prompt.ts';

export function describePermissions(permissions: Permissions, fromConfig: string[] = []): string[] {
  const extra = (kind: string) =>
    fromConfig.includes(kind) ? ' (and those its config in agent.yaml lists)' : '';
  return [
    `network: ${permissions.network.join(', ') || 'none'}${extra('network')}`,
    `secrets: ${permissions.secrets.join(', ') || 'none'}${extra('secrets')}`,
  ];
}

/**
 * Adds the plugin to the agent file's `plugins` (or moves it to this version's range),
 * keeping the file's comments and layout; the result is validated before it is written.
 */
async function addToAgentFile(path: string, entry: RegistryEntry): Promise<boolean> {
  const text = await readFile(path, 'utf8');
  const range = `^${entry.version}`;
  let next: string;
  if (path.endsWith('.json')) {
    const json = JSON.parse(text) as { plugins?: { name: string; version: string }[] };
    json.plugins ??= [];
    const plugins = json.plugins;
    const found = plugins.find((p) => p.name === entry.package);
    if (found) found.version = range;
    else plugins.push({ name: entry.package, version: range });
    next = `${JSON.stringify(json, null, 2)}\n`;
  } else {
    const doc = parseDocument(text);
    const existing = doc.get('plugins');
    const plugins = isSeq(existing) ? existing : new YAMLSeq();
    if (!isSeq(existing)) doc.set('plugins', plugins);
    const found = plugins.items.find((item) => isMap(item) && item.get('name') === entry.package);
    if (isMap(found)) found.set('version', range);
    else plugins.add(doc.createNode({ name: entry.package, version: range }));
    next = doc.toString();
  }
  if (next === text) return false;
  try {
    const file = basename(path);
    if (path.endsWith('.json')) parseAgentJson(next, { file });
    else parseAgentYaml(next, { file });
  } catch (error) {
    throw new CliError(
      `${basename(path)} would not be valid with ${entry.package}: ${(error as Error).message}`,
    );
  }
  await writeFile(`${path}.tmp`, next, 'utf8');
  await rename(`${path}.tmp`, path);
  return true;
}

/** `parley plugin add <name>`: shows what it may touch, asks when it must, records the yes. */
export async function addPlugin(
  io: Io,
  name: string | undefined,
  values: Record<string, unknown>,
  registry: () => Promise<Registry>,
): Promise<number> {
  const p = painter(io);
  if (!name)
    throw new CliError('Which plugin? parley plugin add <name> (see parley plugin list).', 2);
  const entry = findEntry(await registry(), name);
  if (!entry) throw new CliError(`${name} is not in the plugin registry: see parley plugin list.`);
  if (entry.tier === 'archived')
    throw new CliError(
      `${entry.package} is archived (no longer maintained): it cannot be added. See parley plugin list for another.`,
    );
  const agentPath = agentFilePath(io, values.file as string | undefined);
  const lockPath = join(dirname(agentPath), LOCK_FILE_NAME);
  let lock: Awaited<ReturnType<typeof readLock>>;
  try {
    lock = await readLock(lockPath);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const { ask, widened, previous } = consentNeeded(entry, lock);
  const json = Boolean(values.json);
  if (!json) {
    const kit = entry.lastKit
      ? `kit ${entry.lastKit.result} on core ${entry.lastKit.core}`
      : 'not yet run by the kit';
    line(io, `${entry.package} ${entry.version} · tier ${entry.tier} · ${kit}`);
    line(io, 'It may use:');
    for (const text of describePermissions(entry.permissions, entry.permissionsFromConfig))
      line(io, `  ${text}`);
    if (ask && previous) {
      line(
        io,
        p.yellow(`Version ${entry.version} asks for more than you accepted for ${previous}:`),
      );
      for (const text of describePermissions(widened)) line(io, `  + ${text}`);
    } else if (ask && entry.tier === 'community') {
      line(
        io,
        p.yellow(
          'Community plugins are not reviewed by Parley: they pass the compatibility kit and run out of process, limited to the permissions above.',
        ),
      );
    }
  }
  if (ask && !values.yes) {
    const yes = await confirm(io, `Add ${entry.package} with these permissions?`);
    if (!yes) {
      line(io, 'Not added: nothing was changed.');
      return 1;
    }
  }
  const changed = await addToAgentFile(agentPath, entry);
  lock.plugins[entry.package] = {
    version: entry.version,
    tier: entry.tier,
    permissions: entry.permissions,
    acceptedAt: new Date().toISOString(),
  };
  await writeLock(lockPath, lock);
  if (json) {
    line(
      io,
      JSON.stringify(
        {
          package: entry.package,
          version: entry.version,
          tier: entry.tier,
          permissions: entry.permissions,
          asked: ask,
          agentFile: agentPath,
          lockFile: lockPath,
        },
        null,
        2,
      ),
    );
  } else {
    line(
      io,
      `${p.green('✓')} ${changed ? 'Added' : 'Kept'} ${entry.package} ^${entry.version} in ${basename(agentPath)}; ${isEmpty(entry.permissions) ? 'recorded' : 'accepted permissions recorded'} in ${LOCK_FILE_NAME}`,
    );
    if (entry.tier !== 'core')
      line(
        io,
        p.dim(
          `A server runs it once its operator installed ${entry.package} in PARLEY_PLUGINS_DIR (docs/server.md).`,
        ),
      );
    line(io, 'Deploy it: npx parley deploy');
  }
  return 0;
}
