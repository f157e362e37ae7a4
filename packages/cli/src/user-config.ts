import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Io } from './io.ts';

/** `parley login` remembers servers here: `$XDG_CONFIG_HOME/parley/config.json`, mode 0600. */
const UserConfigSchema = z.object({
  current: z.string().optional(),
  servers: z
    .record(
      z.string(),
      z.object({
        token: z.string(),
        workspaceId: z.string().optional(),
        user: z.string().optional(),
      }),
    )
    .default({}),
});
export type UserConfig = z.infer<typeof UserConfigSchema>;

export function userConfigPath(io: Io): string {
  const base = io.env.XDG_CONFIG_HOME || join(io.env.HOME || homedir(), '.config');
  return join(base, 'parley', 'config.json');
}

export async function readUserConfig(io: Io): Promise<UserConfig> {
  try {
    const parsed = UserConfigSchema.safeParse(
      JSON.parse(await readFile(userConfigPath(io), 'utf8')),
    );
    return parsed.success ? parsed.data : { servers: {} };
  } catch {
    return { servers: {} };
  }
}

/** Written 0600 through a temporary file: never readable by others, never half-written. */
export async function writeUserConfig(io: Io, config: UserConfig): Promise<string> {
  const path = userConfigPath(io);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}

/** `https://Parley.example.com/` → `https://parley.example.com`: one key per server. */
export function normalizeServer(url: string): string {
  const u = new URL(url);
  return u.origin;
}
