/**
 * The names of the plugins built into this server (its catalog, runs/plugin-catalog.ts, has an
 * entry for exactly these: the type checker holds the two to each other). Its own module so
 * the configuration can check PARLEY_DISABLED_PLUGINS without loading the plugins themselves:
 * the configuration is read before the database opens, the plugins load while it opens.
 */
export const BUILT_IN_PLUGINS = [
  '@parley/plugin-basics',
  '@parley/plugin-http',
  '@parley/plugin-scam-guard',
] as const;

export type BuiltInPlugin = (typeof BUILT_IN_PLUGINS)[number];

export function isBuiltInPlugin(name: string): name is BuiltInPlugin {
  return (BUILT_IN_PLUGINS as readonly string[]).includes(name);
}
