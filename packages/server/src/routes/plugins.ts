import { CORE_VERSION } from '@parley/core';
import { loadRegistry, type Registry, TIERS } from '@parley/plugin-kit';
import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { PLUGIN_CATALOG } from '../runs/plugin-catalog.ts';

/** The repository's registry/plugins.json, read once: where tiers and kit results come from. */
let registry: Promise<Registry | null> | undefined;
const registryOnce = () => {
  // A missing or broken registry file leaves tier and compatibility at their defaults.
  registry ??= loadRegistry().catch(() => null);
  return registry;
};

const PluginInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** The plugin contract it implements (null: an installed plugin that did not say). */
  contract: z.number().int().nullable(),
  description: z.string().nullable(),
  /** From the registry (a plugin's own claim does not count); unlisted catalog plugins are ours. */
  tier: z.enum(TIERS),
  permissions: z.object({ network: z.array(z.string()), secrets: z.array(z.string()) }),
  /** Whether agents configure it (`plugins[].config`), e.g. the HTTP plugin's allow-list. */
  configurable: z.boolean(),
  /** Switched off by an operator: runs of agents that use it are refused. */
  disabled: z.boolean(),
  /** What the compatibility kit said (registry/plugins.json, written by the matrix). */
  compatibility: z.object({
    /** The last kit run on the current core: pass, fail, or null when never run. */
    kit: z.enum(['pass', 'fail']).nullable(),
    /** Core versions the kit passed on. */
    testedCore: z.array(z.string()),
    /** Whether this server's core is one of them. */
    testedOnThisCore: z.boolean(),
  }),
});

/** What this server can give agents: `parley deploy` checks an agent's plugins against it. */
export const pluginRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/plugins',
    operationId: 'listPlugins',
    summary:
      'The plugins this server can give agents (built in, and installed in PARLEY_PLUGINS_DIR), with versions, tiers, permissions and compatibility.',
    tag: 'plugins',
    access: { kind: 'principal' },
    responses: { 200: z.array(PluginInfoSchema) },
    handler: async ({ services }) => {
      const listed = (await registryOnce())?.plugins ?? [];
      const compatibility = (testedCore: string[], kit: 'pass' | 'fail' | null) => ({
        kit,
        testedCore,
        testedOnThisCore: testedCore.includes(CORE_VERSION),
      });
      // Installed by the operator (PARLEY_PLUGINS_DIR): sandboxed, tier from the registry.
      const installed = (await services.runs.installedPlugins()).map((plugin) => ({
        name: plugin.name,
        version: plugin.version,
        contract: plugin.contract,
        description: plugin.description,
        tier: plugin.tier,
        permissions: plugin.permissions,
        configurable: false,
        disabled: services.runs.disabledPlugins.has(plugin.name),
        compatibility: compatibility(
          plugin.registered?.testedCore ?? [],
          plugin.registered?.lastKit?.result ?? null,
        ),
      }));
      const builtIn = Object.entries(PLUGIN_CATALOG).map(([name, entry]) => {
        const plugin = entry.build({});
        const registered = listed.find((p) => p.package === name);
        const testedCore = registered?.testedCore ?? [];
        return {
          name,
          version: plugin.version,
          contract: plugin.contract,
          description: plugin.description ?? null,
          tier: registered?.tier ?? 'core',
          permissions: {
            network: [...(plugin.permissions?.network ?? [])],
            secrets: [...(plugin.permissions?.secrets ?? [])],
          },
          configurable: entry.configurable,
          disabled: services.runs.disabledPlugins.has(name),
          compatibility: compatibility(testedCore, registered?.lastKit?.result ?? null),
        };
      });
      return [...builtIn, ...installed];
    },
  }),
];
