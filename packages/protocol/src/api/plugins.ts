import { z } from 'zod';

/* The plugins a server can give agents (GET /v1/plugins): `parley deploy` checks against it. */

/** Registry tiers (registry/plugins.json), most trusted first. */
export const PLUGIN_TIERS = ['core', 'verified', 'community', 'archived'] as const;
export type PluginTier = (typeof PLUGIN_TIERS)[number];

export const PluginInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** The plugin contract it implements (null: an installed plugin that did not say). */
  contract: z.number().int().nullable(),
  description: z.string().nullable(),
  /** From the registry (a plugin's own claim does not count); unlisted catalog plugins are ours. */
  tier: z.enum(PLUGIN_TIERS),
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
export type PluginInfo = z.infer<typeof PluginInfoSchema>;
