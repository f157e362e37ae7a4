import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { type Permissions, PermissionsSchema, type RegistryEntry, TIERS } from './registry.ts';

/**
 * plugins.lock.json, next to the agent file: for each plugin added to the project, the
 * version and the permissions the user accepted. A later version asking for more is asked
 * about again.
 */
export const LOCK_FILE_NAME = 'plugins.lock.json';

export const PluginLockSchema = z
  .object({
    lockVersion: z.literal(1),
    plugins: z.record(
      z.string(),
      z
        .object({
          version: z.string(),
          tier: z.enum(TIERS),
          permissions: PermissionsSchema,
          acceptedAt: z.iso.datetime(),
        })
        .strict(),
    ),
  })
  .strict();
export type PluginLock = z.infer<typeof PluginLockSchema>;

export async function readLock(file: string): Promise<PluginLock> {
  if (!existsSync(file)) return { lockVersion: 1, plugins: {} };
  const parsed = PluginLockSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success)
    throw new Error(
      `${file} is not a valid plugin lock file (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}): fix or delete it, then add the plugins again`,
    );
  return parsed.data;
}

/** Written to a temporary file first, so a crash never leaves half a lock file. */
export async function writeLock(file: string, lock: PluginLock): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(lock, null, 2)}\n`, 'utf8');
  await rename(`${file}.tmp`, file);
}

/** The permissions in `next` that `accepted` did not include (empty lists: nothing new). */
export function widenedPermissions(
  accepted: Permissions | undefined,
  next: Permissions,
): Permissions {
  return {
    network: next.network.filter((host) => !accepted?.network.includes(host)),
    secrets: next.secrets.filter((name) => !accepted?.secrets.includes(name)),
  };
}

export const isEmpty = (p: Permissions) => p.network.length === 0 && p.secrets.length === 0;

/**
 * Whether adding `entry` needs the user's yes: plugins outside the core tier ask the first
 * time, and again whenever a version asks for permissions beyond those accepted.
 */
export function consentNeeded(
  entry: RegistryEntry,
  lock: PluginLock,
): { ask: boolean; widened: Permissions; previous?: string } {
  const accepted = lock.plugins[entry.package];
  const widened = widenedPermissions(accepted?.permissions, entry.permissions);
  if (entry.tier === 'core') return { ask: false, widened };
  if (!accepted) return { ask: true, widened };
  return { ask: !isEmpty(widened), widened, previous: accepted.version };
}
