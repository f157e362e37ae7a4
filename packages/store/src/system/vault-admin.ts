import { sql } from 'drizzle-orm';
import { queryRows } from '../db.ts';
import { VaultError } from '../errors.ts';
import type { SystemDeps } from './deps.ts';

export interface VaultStatus {
  configured: boolean;
  /** Where the master key comes from. */
  source: 'setting' | 'file' | 'ephemeral' | null;
  currentVersion: number | null;
  configuredVersions: number[];
  /** How many workspace data keys each master-key version wraps. */
  dataKeysByMasterVersion: Record<number, number>;
}

export interface RotationResult {
  /** The master-key version every data key is now wrapped by. */
  version: number;
  rewrappedDataKeys: number;
  workspaces: number;
}

export function vaultSystem(deps: SystemDeps) {
  async function dataKeys(): Promise<{ version: number; workspaceId: string }[]> {
    const rows = await deps.unscoped((tx) =>
      queryRows<{ master_key_version: number; workspace_id: string }>(
        tx,
        sql`select * from parley_data_keys_by_master_version()`,
      ),
    );
    return rows.map((r) => ({
      version: Number(r.master_key_version),
      workspaceId: r.workspace_id,
    }));
  }

  const system = {
    async status(): Promise<VaultStatus> {
      const keys = await dataKeys();
      const byVersion: Record<number, number> = {};
      for (const k of keys) byVersion[k.version] = (byVersion[k.version] ?? 0) + 1;
      const keyring = deps.vault.configured ? deps.vault.keyring : undefined;
      return {
        configured: keyring !== undefined,
        source: keyring?.source ?? null,
        currentVersion: keyring?.currentVersion ?? null,
        configuredVersions: keyring?.versions() ?? [],
        dataKeysByMasterVersion: byVersion,
      };
    },

    /**
     * Rotates the master key: a key-file (or in-memory) keyring gets a new version; with
     * PARLEY_MASTER_KEY the new version must already be configured (`v2:<new>,v1:<old>`).
     * Then every workspace's data keys are re-wrapped under it, one workspace per
     * transaction. Secret ciphertexts are not touched. Safe to run again after a failure.
     */
    async rotateMasterKey(): Promise<RotationResult> {
      const keyring = deps.vault.keyring;
      const before = await dataKeys();
      if (keyring.source === 'setting') {
        if (before.every((k) => k.version === keyring.currentVersion) && before.length > 0) {
          throw new VaultError(
            'vault.rotation_needs_new_key',
            `Every data key is already wrapped by master key v${keyring.currentVersion}. Add a new version to ` +
              `PARLEY_MASTER_KEY (v${keyring.currentVersion + 1}:<new key>,v${keyring.currentVersion}:<current key>), restart, and rotate again.`,
          );
        }
      } else {
        await keyring.addVersion();
      }
      const version = keyring.currentVersion;
      const stale = [
        ...new Set(before.filter((k) => k.version !== version).map((k) => k.workspaceId)),
      ];
      let rewrapped = 0;
      for (const workspaceId of stale) {
        rewrapped += await deps.scopedTx(workspaceId, (tx) =>
          deps.vault.rewrapWorkspace(tx, workspaceId),
        );
      }
      return { version, rewrappedDataKeys: rewrapped, workspaces: stale.length };
    },

    /** Forgets master-key versions no data key uses any more; returns the versions removed. */
    async retireUnusedMasterKeys(): Promise<number[]> {
      const keyring = deps.vault.keyring;
      const inUse = new Set((await dataKeys()).map((k) => k.version));
      const unused = keyring
        .versions()
        .filter((v) => v !== keyring.currentVersion && !inUse.has(v));
      if (unused.length > 0) await keyring.retire(unused);
      return unused;
    },
  };
  return system;
}
