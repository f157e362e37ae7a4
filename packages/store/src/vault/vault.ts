import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { Tx } from '../db.ts';
import { VaultError } from '../errors.ts';
import { workspaceKeys } from '../schema/index.ts';
import { dataKeyContext, newDataKey, open, seal, secretContext } from './envelope.ts';
import type { MasterKeyring } from './keyring.ts';

export interface DataKey {
  id: string;
  version: number;
  key: Buffer;
}

/**
 * Envelope encryption for one store: a data key per workspace, wrapped by the master
 * keyring; secret values sealed by the data key with the workspace id and the secret name as
 * associated data. Plain keys exist only in memory for the duration of one call.
 */
export class Vault {
  #keyring: MasterKeyring | undefined;

  constructor(keyring: MasterKeyring | undefined) {
    this.#keyring = keyring;
  }

  get configured(): boolean {
    return this.#keyring !== undefined;
  }

  get keyring(): MasterKeyring {
    if (!this.#keyring) {
      throw new VaultError(
        'vault.no_master_key',
        'No master key is configured: set PARLEY_MASTER_KEY to the base64 of 32 random bytes ' +
          '(`openssl rand -base64 32`), or pass masterKeyFile to openStore().',
      );
    }
    return this.#keyring;
  }

  #unwrap(row: typeof workspaceKeys.$inferSelect): Buffer {
    return open(
      this.keyring.key(row.masterKeyVersion),
      row.wrappedKey,
      dataKeyContext(row.workspaceId, row.version),
      `the data key v${row.version} of workspace ${row.workspaceId}`,
    );
  }

  /** The workspace's newest data key, created on first use. Runs inside the workspace's transaction. */
  async currentDataKey(tx: Tx, workspaceId: string): Promise<DataKey> {
    const keyring = this.keyring;
    let [row] = await tx
      .select()
      .from(workspaceKeys)
      .where(eq(workspaceKeys.workspaceId, workspaceId))
      .orderBy(desc(workspaceKeys.version))
      .limit(1);
    if (!row) {
      const key = newDataKey();
      const master = keyring.current;
      // Two first secrets at once: one insert wins, the other reads the winner's key.
      [row] = await tx
        .insert(workspaceKeys)
        .values({
          workspaceId,
          version: 1,
          wrappedKey: seal(master.key, key, dataKeyContext(workspaceId, 1)),
          masterKeyVersion: master.version,
        })
        .onConflictDoNothing()
        .returning();
      if (row) return { id: row.id, version: row.version, key };
      [row] = await tx
        .select()
        .from(workspaceKeys)
        .where(and(eq(workspaceKeys.workspaceId, workspaceId), eq(workspaceKeys.version, 1)));
      if (!row) throw new VaultError('vault.decrypt_failed', 'The workspace data key disappeared.');
    }
    return { id: row.id, version: row.version, key: this.#unwrap(row) };
  }

  async dataKeyById(tx: Tx, workspaceId: string, id: string): Promise<DataKey> {
    const [row] = await tx
      .select()
      .from(workspaceKeys)
      .where(and(eq(workspaceKeys.workspaceId, workspaceId), eq(workspaceKeys.id, id)));
    if (!row)
      throw new VaultError('vault.decrypt_failed', 'The data key of this secret is missing.');
    return { id: row.id, version: row.version, key: this.#unwrap(row) };
  }

  sealSecret(dataKey: DataKey, workspaceId: string, name: string, value: string): Buffer {
    return seal(dataKey.key, Buffer.from(value, 'utf8'), secretContext(workspaceId, name));
  }

  openSecret(dataKey: DataKey, workspaceId: string, name: string, sealed: Buffer): string {
    return open(
      dataKey.key,
      sealed,
      secretContext(workspaceId, name),
      `the secret "${name}"`,
    ).toString('utf8');
  }

  /**
   * Re-wraps every data key of the workspace that is not under the current master key. The
   * secrets themselves are not touched: their data keys do not change, only the wrapping.
   */
  async rewrapWorkspace(tx: Tx, workspaceId: string): Promise<number> {
    const master = this.keyring.current;
    const stale = await tx
      .select()
      .from(workspaceKeys)
      .where(
        and(
          eq(workspaceKeys.workspaceId, workspaceId),
          ne(workspaceKeys.masterKeyVersion, master.version),
        ),
      )
      .for('update');
    for (const row of stale) {
      const key = this.#unwrap(row);
      await tx
        .update(workspaceKeys)
        .set({
          wrappedKey: seal(master.key, key, dataKeyContext(workspaceId, row.version)),
          masterKeyVersion: master.version,
          rewrappedAt: sql`now()`,
        })
        .where(eq(workspaceKeys.id, row.id));
    }
    return stale.length;
  }
}
