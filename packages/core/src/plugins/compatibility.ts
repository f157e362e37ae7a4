import semver from 'semver';
import { PluginCompatibilityError } from '../errors.ts';
import { CORE_VERSION, PLUGIN_CONTRACT } from '../version.ts';
import type { PluginDefinition } from './define-plugin.ts';

const PLUGIN_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/**
 * Definitions found compatible, with the core version they were checked against: every run
 * registers its agent's plugins again, and a definition (a module's constant, written with
 * definePlugin) does not change, while checking it (semver ranges) costs more than the rest of
 * building the run's plugin host.
 */
const checked = new WeakMap<PluginDefinition, string>();

/**
 * Refuses a plugin this core cannot run, with a message that says what to change: the
 * contract version, a core range that is unbounded (`*`, `latest`, `>=1`) or excludes this
 * core, a bad name or version, a host or secret pattern that is malformed.
 */
export function assertCompatible(plugin: PluginDefinition, coreVersion = CORE_VERSION): void {
  if (checked.get(plugin) === coreVersion) return;
  const who = `plugin ${plugin.name ?? '(unnamed)'}`;
  if (typeof plugin.name !== 'string' || !PLUGIN_NAME.test(plugin.name)) {
    throw new PluginCompatibilityError(`${who}: the name must be an npm package name`);
  }
  if (!semver.valid(plugin.version)) {
    throw new PluginCompatibilityError(
      `${who}: version "${plugin.version}" is not a semver version such as 1.0.0`,
    );
  }
  if (plugin.contract !== PLUGIN_CONTRACT) {
    throw new PluginCompatibilityError(
      `${who} targets plugin contract ${plugin.contract}; this core speaks contract ${PLUGIN_CONTRACT}. ` +
        (plugin.contract > PLUGIN_CONTRACT
          ? 'Upgrade @parley/core.'
          : 'Upgrade the plugin to a version written for contract 1.'),
    );
  }
  const range = semver.validRange(plugin.core);
  if (!range) {
    throw new PluginCompatibilityError(
      `${who}: core range "${plugin.core}" is not a semver range; declare e.g. "^${coreVersion}"`,
    );
  }
  // Bounded means: some far-future core is outside the range.
  if (semver.satisfies('999999.0.0', range)) {
    throw new PluginCompatibilityError(
      `${who}: core range "${plugin.core}" has no upper bound; declare a bounded range such as "^${coreVersion}" so a future core cannot break it silently`,
    );
  }
  if (!semver.satisfies(coreVersion, range)) {
    throw new PluginCompatibilityError(
      `${who} supports @parley/core ${plugin.core}, but this is ${coreVersion}: install a plugin version for this core, or a core in that range`,
    );
  }
  for (const host of plugin.permissions?.network ?? []) {
    if (!/^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i.test(host)) {
      throw new PluginCompatibilityError(
        `${who}: network permission "${host}" must be a host, host:port or *.domain`,
      );
    }
  }
  for (const name of plugin.permissions?.secrets ?? []) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) {
      throw new PluginCompatibilityError(
        `${who}: secret permission "${name}" must be an UPPER_SNAKE_CASE secret name`,
      );
    }
  }
  const seen = new Set<string>();
  for (const tool of plugin.tools ?? []) {
    if (seen.has(tool.name))
      throw new PluginCompatibilityError(`${who} defines tool ${tool.name} twice`);
    seen.add(tool.name);
  }
  checked.set(plugin, coreVersion);
}
