import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ALL_PERMISSIONS, MAX_TOKEN_LIFETIME_MS, type Store } from '@parley/store';
import { z } from 'zod';

/** What `.parley/credentials` holds: enough for the CLI to call this server as its owner. */
export const CredentialsSchema = z.object({
  server: z.url(),
  workspaceId: z.uuid(),
  token: z.string().startsWith('prl_'),
  createdAt: z.iso.datetime({ offset: true }),
});
export type Credentials = z.infer<typeof CredentialsSchema>;

export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'credentials');
}

async function readCredentials(path: string): Promise<Credentials | undefined> {
  try {
    const parsed = CredentialsSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary file first, created 0600, then renamed: never a half-written or world-readable file. */
async function writeCredentials(path: string, credentials: Credentials) {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/**
 * Single-user mode: the local owner and their workspace (created on first start), and an API
 * token for them in `<dataDir>/credentials` (0600). The token is new, and returned to print
 * once, when there was none or the stored one no longer works (revoked, expired).
 */
export async function bootstrapSingleUser(
  store: Store,
  options: { dataDir: string; serverUrl: string },
): Promise<{ ownerId: string; workspaceId: string; credentials: Credentials; newToken?: string }> {
  const { user, workspace } = await store.system.workspaces.ensureLocalOwner();
  const path = credentialsPath(options.dataDir);
  const existing = await readCredentials(path);
  if (existing && existing.workspaceId === workspace.workspaceId) {
    const check = await store.system.authenticateApiToken(existing.token, {});
    if (check.ok) {
      const credentials = { ...existing, server: options.serverUrl };
      if (existing.server !== options.serverUrl) await writeCredentials(path, credentials);
      return { ownerId: user.id, workspaceId: workspace.workspaceId, credentials };
    }
  }
  const created = await store.withWorkspace(
    workspace.workspaceId,
    (ws) =>
      ws.apiTokens.create({
        name: 'local owner (first run)',
        scopes: [...ALL_PERMISSIONS],
        createdBy: user.id,
        expiresAt: new Date(Date.now() + MAX_TOKEN_LIFETIME_MS - 86_400_000),
      }),
    { actor: { type: 'system' } },
  );
  const credentials: Credentials = {
    server: options.serverUrl,
    workspaceId: workspace.workspaceId,
    token: created.token,
    createdAt: new Date().toISOString(),
  };
  await writeCredentials(path, credentials);
  return {
    ownerId: user.id,
    workspaceId: workspace.workspaceId,
    credentials,
    newToken: created.token,
  };
}
