import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { PLUGIN_CATALOG } from '../runs/plugin-catalog.ts';

const PluginInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  contract: z.number().int(),
  description: z.string().nullable(),
  tier: z.enum(['core', 'verified', 'community']),
  permissions: z.object({ network: z.array(z.string()), secrets: z.array(z.string()) }),
  /** Whether agents configure it (`plugins[].config`), e.g. the HTTP plugin's allow-list. */
  configurable: z.boolean(),
  /** Switched off by an operator: runs of agents that use it are refused. */
  disabled: z.boolean(),
});

/** What this server can give agents: `parley deploy` checks an agent's plugins against it. */
export const pluginRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/plugins',
    operationId: 'listPlugins',
    summary: 'The plugins installed on this server, with versions and declared permissions.',
    tag: 'plugins',
    access: { kind: 'principal' },
    responses: { 200: z.array(PluginInfoSchema) },
    handler: async ({ services }) =>
      Object.entries(PLUGIN_CATALOG).map(([name, entry]) => {
        const plugin = entry.build({});
        return {
          name,
          version: plugin.version,
          contract: plugin.contract,
          description: plugin.description ?? null,
          tier: 'core' as const,
          permissions: {
            network: [...(plugin.permissions?.network ?? [])],
            secrets: [...(plugin.permissions?.secrets ?? [])],
          },
          configurable: entry.configurable,
          disabled: services.runs.disabledPlugins.has(name),
        };
      }),
  }),
];
