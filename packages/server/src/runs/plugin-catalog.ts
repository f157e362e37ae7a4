import type { AgentDefinition } from '@parley/core';
import {
  createPluginHost,
  type PluginDefinition,
  type PluginHost,
  type PluginHostOptions,
} from '@parley/core';
import { basicsPlugin } from '@parley/plugin-basics';
import { createHttpPlugin } from '@parley/plugin-http';
import { createScamGuardPlugin, GuardConfigSchema } from '@parley/plugin-scam-guard';
import { z } from 'zod';
import { HttpProblem } from '../http/problem.ts';
import type { BuiltInPlugin } from './plugin-names.ts';

/**
 * The plugins this server can give agents (tier core, in process), by package name. A plugin
 * that takes configuration is built from the agent's `plugins[].config`, validated here.
 */
const HttpConfigSchema = z
  .object({
    allow: z.array(z.string().min(1).max(253)).max(100).default([]),
    maxBytes: z.number().int().positive().max(10_000_000).optional(),
    timeoutMs: z.number().int().positive().max(120_000).optional(),
  })
  .strict();

interface CatalogEntry {
  build: (config: Record<string, unknown>) => PluginDefinition;
  configurable: boolean;
}

export const PLUGIN_CATALOG: Readonly<Record<string, CatalogEntry>> = {
  '@parley/plugin-basics': { build: () => basicsPlugin, configurable: false },
  '@parley/plugin-http': {
    build: (config) => createHttpPlugin(HttpConfigSchema.parse(config)),
    configurable: true,
  },
  // Declares its inbound guard itself (guards.inbound); the host's guard services complete it.
  '@parley/plugin-scam-guard': {
    build: (config) => createScamGuardPlugin(GuardConfigSchema.parse(config)),
    configurable: true,
  },
} satisfies Record<BuiltInPlugin, CatalogEntry>;

/** Refuses (422) an agent that uses a plugin an operator disabled, naming the plugin. */
export function refuseDisabledPlugins(agent: AgentDefinition, disabled: ReadonlySet<string>) {
  const off = agent.plugins.find((ref) => disabled.has(ref.name));
  if (off)
    throw new HttpProblem(
      'agent.unavailable',
      `Plugin ${off.name} is disabled on this server by its operator: agent ${agent.name} cannot run until it is enabled again.`,
    );
}

/** A plugin host holding exactly the plugins the agent asks for (configured as it says). */
export function hostForAgent(agent: AgentDefinition, options: PluginHostOptions): PluginHost {
  const host = createPluginHost(options);
  for (const ref of agent.plugins) {
    const entry = PLUGIN_CATALOG[ref.name];
    // Unknown plugins are left out: resolve() then names the missing plugin and what is installed.
    if (entry) host.register(entry.build(ref.config));
  }
  return host;
}
