import { CORE_VERSION } from '@parley/core';
import { loadRegistry, type Registry } from '@parley/plugin-kit';
import { api } from '@parley/protocol';
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
    responses: { 200: z.array(api.PluginInfoSchema) },
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
