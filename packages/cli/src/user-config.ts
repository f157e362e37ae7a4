import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, type Io } from './io.ts';

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

/**
 * The saved servers; none when the file does not exist yet. A file that exists but cannot be
 * used is an error that names it: treating it as empty would let the next `parley login`
 * overwrite the tokens of every other server in it.
 */
export async function readUserConfig(io: Io): Promise<UserConfig> {
  const path = userConfigPath(io);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    throw new CliError(`Cannot read ${path} (${(error as NodeJS.ErrnoException).code}).`);
  }
  const broken = (why: string) =>
    new CliError(`${path} is not a Parley config (${why}): fix it, or delete it and log in again.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw broken('not JSON');
  }
  const parsed = UserConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map((key, i) =>
      typeof key === 'string' && /^[A-Za-z_]\w*$/.test(key)
        ? `${i ? '.' : ''}${key}`
        : `[${JSON.stringify(String(key))}]`,
    );
    const what = issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message;
    throw broken(`${where.join('') || 'the file'}: ${what}`);
  }
  return parsed.data;
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

/**
 * `https://Parley.example.com/` → `https://parley.example.com`: one key per server. Throws
 * for anything but an http(s) URL (`file:`, `javascript:` and the like have no origin).
 */
export function normalizeServer(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TypeError(`${u.protocol} is not http: or https:`);
  }
  return u.origin;
}
