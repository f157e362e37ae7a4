import type { PluginDefinition } from '@parley/core';

const isPluginLike = (value: unknown): value is PluginDefinition =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as PluginDefinition).name === 'string' &&
  'contract' in value &&
  'core' in value;

/**
 * The plugin a package's entry module exports: a plugin object (the default export, else the
 * one named like the package, else the only one), or a factory `create…Plugin(config)` built
 * with the kit's config. Throws with what the author should export instead.
 */
export function findPlugin(
  exports: Record<string, unknown>,
  packageName: string | null,
  config: Record<string, unknown> | undefined,
): { plugin: PluginDefinition; from: string; isDefaultExport: boolean } {
  if (isPluginLike(exports.default))
    return { plugin: exports.default, from: 'default export', isDefaultExport: true };
  const objects = Object.entries(exports).filter(([, value]) => isPluginLike(value)) as [
    string,
    PluginDefinition,
  ][];
  const named = objects.find(([, plugin]) => plugin.name === packageName) ?? objects[0];
  if (named && (objects.length === 1 || named[1].name === packageName))
    return { plugin: named[1], from: `export ${named[0]}`, isDefaultExport: false };
  if (objects.length > 1)
    throw new Error(
      `the entry exports several plugins (${objects.map(([k]) => k).join(', ')}): export the one for ${packageName} as default`,
    );
  const factories = Object.entries(exports).filter(
    ([key, value]) => typeof value === 'function' && /^create\w*Plugin$/.test(key),
  ) as [string, (config: Record<string, unknown>) => unknown][];
  const factory = (typeof exports.default === 'function' ? ['default', exports.default] : null) as
    | [string, (config: Record<string, unknown>) => unknown]
    | null;
  const [name, build] = factory ?? factories[0] ?? [];
  if (!name || !build)
    throw new Error(
      'the entry exports no plugin: export definePlugin({...}) as default, or a factory named create…Plugin(config)',
    );
  let built: unknown;
  try {
    built = build(config ?? {});
  } catch (error) {
    throw new Error(
      `${name}(${JSON.stringify(config ?? {})}) threw "${(error as Error).message}": give the kit a config with --config '{…}' or "parley": { "kitConfig": {…} } in package.json`,
    );
  }
  if (!isPluginLike(built)) throw new Error(`${name}(config) did not return a plugin definition`);
  return {
    plugin: built,
    from: `${name}(${JSON.stringify(config ?? {})})`,
    isDefaultExport: false,
  };
}
