import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { api } from '@parley/protocol';
import semver from 'semver';
import { z } from 'zod';
import { printJson } from './json-format.ts';
import { isBoundedRange } from './package-manifest.ts';
import { KIT_RESULT_VERSION } from './result.ts';

/** registry/plugins.json at the repository root: the plugins Parley knows, with their tiers. */
export const REGISTRY_FILE = fileURLToPath(
  new URL('../../../registry/plugins.json', import.meta.url),
);
export const REGISTRY_VERSION = 1 as const;

/**
 * core: ours, in this repository, run in process. verified: a reviewed publisher, kit passing.
 * community: kit passing, anyone; runs out of process. archived: no longer maintained.
 */
/** Registry tiers: the API's (@parley/protocol), so GET /v1/plugins answers the same names. */
export const TIERS = api.PLUGIN_TIERS;
export type Tier = (typeof TIERS)[number];

const HOST = /^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i;
const SECRET = /^[A-Z][A-Z0-9_]*$/;
const PACKAGE = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

export const PermissionsSchema = z
  .object({
    network: z.array(z.string().regex(HOST, 'a host, host:port or *.domain')),
    secrets: z.array(z.string().regex(SECRET, 'an UPPER_SNAKE_CASE secret name')),
  })
  .strict();
export type Permissions = z.infer<typeof PermissionsSchema>;

const semverVersion = z.string().refine((v) => semver.valid(v) === v, 'a semver version');

/** The registry's copy of the plugin's last kit run (the matrix writes it). */
export const LastKitSchema = z
  .object({
    kitResult: z.literal(KIT_RESULT_VERSION),
    result: z.enum(['pass', 'fail']),
    core: semverVersion,
    contract: z.number().int().positive(),
    /** Ids of the checks that failed, empty on a pass. */
    failed: z.array(z.string()),
  })
  .strict();
export type LastKit = z.infer<typeof LastKitSchema>;

export const RegistryEntrySchema = z
  .object({
    /** What people type: `parley plugin add http`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and "-"'),
    package: z.string().regex(PACKAGE, 'an npm package name'),
    description: z.string().min(1).max(300),
    /** Where the source lives: a repository URL, or `self` for this repository (see `path`). */
    repository: z.union([z.url(), z.literal('self')]),
    /** Where its source is in this repository, relative to its root (the matrix runs the kit there). */
    path: z
      .string()
      .regex(/^[\w.-]+(\/[\w.-]+)*$/, 'a relative path such as plugins/plugin-basics')
      .refine((p) => !p.split('/').includes('..'), 'a path inside the repository')
      .optional(),
    tier: z.enum(TIERS),
    version: semverVersion,
    /** The plugin contracts this version speaks. */
    contracts: z.array(z.number().int().positive()).min(1),
    /** Its bounded @parley/core range. */
    core: z.string().refine(isBoundedRange, 'a bounded semver range such as ^0.1.0'),
    /** Core versions the kit passed against in the last matrix run. */
    testedCore: z.array(semverVersion),
    permissions: PermissionsSchema,
    /** Permissions the agent's config adds (plugin-http's network = its `allow` list). */
    permissionsFromConfig: z.array(z.enum(['network', 'secrets'])).optional(),
    /** The config a factory-style plugin is built with for the kit. */
    kitConfig: z.record(z.string(), z.unknown()).optional(),
    lastKit: LastKitSchema.nullable(),
  })
  .strict();
export type RegistryEntry = z.infer<typeof RegistryEntrySchema>;

export const RegistrySchema = z
  .object({
    registryVersion: z.literal(REGISTRY_VERSION),
    /**
     * Core releases and the contract each speaks. The matrix runs against the current core and
     * the newest release of the previous contract.
     */
    cores: z
      .array(z.object({ version: semverVersion, contract: z.number().int().positive() }).strict())
      .min(1),
    plugins: z.array(RegistryEntrySchema),
  })
  .strict()
  .superRefine((registry, ctx) => {
    for (const [index, entry] of registry.plugins.entries())
      if (entry.repository === 'self' && !entry.path)
        ctx.addIssue({
          code: 'custom',
          path: ['plugins', index, 'path'],
          message: 'a plugin in this repository (repository "self") needs its path',
        });
    for (const key of ['name', 'package'] as const) {
      const seen = new Set<string>();
      for (const [index, entry] of registry.plugins.entries()) {
        if (seen.has(entry[key]))
          ctx.addIssue({
            code: 'custom',
            path: ['plugins', index, key],
            message: `${key} ${entry[key]} is listed twice`,
          });
        seen.add(entry[key]);
      }
    }
  });
export type Registry = z.infer<typeof RegistrySchema>;

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

/** Reads and validates a registry file; the error lists every problem with its path. */
export async function loadRegistry(file = REGISTRY_FILE): Promise<Registry> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new RegistryError(`cannot read the plugin registry ${file}: ${(error as Error).message}`);
  }
  const parsed = RegistrySchema.safeParse(json);
  if (!parsed.success)
    throw new RegistryError(
      `the plugin registry ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** An entry by short name or package name. */
export function findEntry(registry: Registry, nameOrPackage: string): RegistryEntry | undefined {
  return registry.plugins.find((p) => p.name === nameOrPackage || p.package === nameOrPackage);
}

/** The registry as committed: sorted by tier, then name, with a final newline. */
export function formatRegistry(registry: Registry): string {
  const plugins = [...registry.plugins].sort(
    (a, b) => TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) || a.name.localeCompare(b.name),
  );
  return `${printJson({ ...registry, plugins })}\n`;
}
