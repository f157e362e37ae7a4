import { randomBytes } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { internalsOf } from '../src/internal.ts';
import { MasterKeyring, parseMasterKeySetting } from '../src/vault/keyring.ts';
import { Vault } from '../src/vault/vault.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * The vault against a real database: values at rest are ciphertext bound to their workspace
 * and name, copies and edits fail to decrypt, and master-key rotation re-wraps only the data
 * keys. PGlite runs in a directory here so the store can be reopened with other keys.
 */

const VALUE = 'sk-proj-0123456789abcdefghij';

describeEachEngine(
  'secrets vault',
  (h) => {
    let a = '';
    let b = '';

    beforeAll(async () => {
      a = (await seedWorkspace(h().store, 'vault-a')).workspaceId;
      b = (await seedWorkspace(h().store, 'vault-b')).workspaceId;
      await h().store.withWorkspace(a, (w) => w.secrets.put('OPENAI_API_KEY', VALUE));
      await h().store.withWorkspace(b, (w) =>
        w.secrets.put('OPENAI_API_KEY', 'sk-proj-bbbbbbbbbbbbbbbbbbbbbb'),
      );
    });

    const secretRow = async (workspaceId: string, name: string) =>
      (
        await h().admin<{ id: string; ciphertext: Buffer | Uint8Array; data_key_id: string }>(
          'select id, ciphertext, data_key_id from secrets where workspace_id = $1 and name = $2',
          [workspaceId, name],
        )
      )[0]!;

    it('stores ciphertext only and shows name, last 4 and dates', async () => {
      const row = await secretRow(a, 'OPENAI_API_KEY');
      expect(Buffer.from(row.ciphertext).toString('latin1')).not.toContain('sk-proj');
      const listed = await h().store.withWorkspace(a, (w) => w.secrets.list());
      expect(listed).toEqual([
        {
          id: row.id,
          name: 'OPENAI_API_KEY',
          last4: 'ghij',
          createdBy: null,
          createdAt: expect.any(Date),
          updatedAt: expect.any(Date),
          lastRevealedAt: null,
        },
      ]);
      expect(JSON.stringify(listed)).not.toContain(VALUE);
    });

    it('shows no last 4 for short values', async () => {
      const info = await h().store.withWorkspace(a, (w) => w.secrets.put('SHORT_PIN', '12345678'));
      expect(info.last4).toBeNull();
    });

    it('reveals the value on explicit request and audits it', async () => {
      const value = await h().store.withWorkspace(
        a,
        (w) => w.secrets.reveal('OPENAI_API_KEY', { purpose: 'provider call' }),
        {
          actor: { type: 'agent', id: 'agent-1' },
        },
      );
      expect(value).toBe(VALUE);
      const [event] = await h().store.withWorkspace(a, (w) =>
        w.audit.list({ action: 'secret.decrypt', limit: 1 }),
      );
      expect(event).toMatchObject({
        actorType: 'agent',
        actorId: 'agent-1',
        targetId: 'OPENAI_API_KEY',
        metadata: { purpose: 'provider call' },
      });
      expect(JSON.stringify(event)).not.toContain(VALUE);
    });

    it('replacing a value keeps one row and audits an update', async () => {
      await h().store.withWorkspace(a, (w) => w.secrets.put('ROTATING', 'first-value-123456'));
      await h().store.withWorkspace(a, (w) => w.secrets.put('ROTATING', 'second-value-654321'));
      expect(await h().store.withWorkspace(a, (w) => w.secrets.reveal('ROTATING'))).toBe(
        'second-value-654321',
      );
      const actions = await h().store.withWorkspace(a, (w) => w.audit.list({ limit: 10 }));
      expect(actions.filter((e) => e.targetId === 'ROTATING').map((e) => e.action)).toEqual([
        'secret.decrypt',
        'secret.update',
        'secret.create',
      ]);
    });

    it("a ciphertext copied into another workspace's row does not decrypt there", async () => {
      const fromA = await secretRow(a, 'OPENAI_API_KEY');
      const original = await secretRow(b, 'OPENAI_API_KEY');
      await h().admin('update secrets set ciphertext = $1 where id = $2', [
        fromA.ciphertext,
        original.id,
      ]);
      try {
        await expect(
          h().store.withWorkspace(b, (w) => w.secrets.reveal('OPENAI_API_KEY')),
        ).rejects.toMatchObject({
          code: 'vault.decrypt_failed',
          name: 'VaultError',
        });
      } finally {
        await h().admin('update secrets set ciphertext = $1 where id = $2', [
          original.ciphertext,
          original.id,
        ]);
      }
      expect(await h().store.withWorkspace(b, (w) => w.secrets.reveal('OPENAI_API_KEY'))).toBe(
        'sk-proj-bbbbbbbbbbbbbbbbbbbbbb',
      );
    });

    it('a ciphertext moved to another secret name does not decrypt', async () => {
      await h().store.withWorkspace(a, (w) => w.secrets.put('OTHER_KEY', 'other-value-0000000'));
      const row = await secretRow(a, 'OPENAI_API_KEY');
      const other = await secretRow(a, 'OTHER_KEY');
      await h().admin('update secrets set ciphertext = $1 where id = $2', [
        row.ciphertext,
        other.id,
      ]);
      await expect(
        h().store.withWorkspace(a, (w) => w.secrets.reveal('OTHER_KEY')),
      ).rejects.toMatchObject({
        code: 'vault.decrypt_failed',
      });
    });

    it('a tampered ciphertext does not decrypt, and the error never carries the value', async () => {
      await h().store.withWorkspace(a, (w) => w.secrets.put('TAMPERED', VALUE));
      const row = await secretRow(a, 'TAMPERED');
      const tampered = Buffer.from(row.ciphertext);
      tampered[tampered.length - 1]! ^= 0x01;
      await h().admin('update secrets set ciphertext = $1 where id = $2', [tampered, row.id]);
      const error = await h()
        .store.withWorkspace(a, (w) => w.secrets.reveal('TAMPERED'))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'vault.decrypt_failed' });
      expect(JSON.stringify(error) + String(error)).not.toContain(VALUE);
    });

    it('a wrong master key cannot unwrap the data keys', async () => {
      const wrong = new Vault(
        new MasterKeyring('setting', parseMasterKeySetting(randomBytes(32).toString('base64'))),
      );
      const row = await secretRow(a, 'OPENAI_API_KEY');
      await expect(
        h().internals.scoped(a, (tx) => wrong.dataKeyById(tx, a, row.data_key_id)),
      ).rejects.toMatchObject({
        code: 'vault.decrypt_failed',
      });
    });

    it('rotation re-wraps every data key and leaves every secret ciphertext as it was', async () => {
      const secretsBefore = await h().admin<{ id: string; ciphertext: Buffer }>(
        'select id, ciphertext from secrets order by id',
      );
      const keysBefore = await h().admin<{
        id: string;
        wrapped_key: Buffer;
        master_key_version: number;
      }>('select id, wrapped_key, master_key_version from workspace_keys order by id');
      expect(new Set(keysBefore.map((k) => k.master_key_version))).toEqual(new Set([1]));

      // The key comes from a setting: rotation needs the operator to add v2 first.
      await expect(h().store.system.vault.rotateMasterKey()).rejects.toMatchObject({
        code: 'vault.rotation_needs_new_key',
      });
      const v2 = randomBytes(32).toString('base64');
      const store = await h().reopen({ masterKey: `v2:${v2},v1:${h().masterKey}` });
      const result = await store.system.vault.rotateMasterKey();
      expect(result).toMatchObject({ version: 2, rewrappedDataKeys: keysBefore.length });
      expect(result.workspaces).toBeGreaterThanOrEqual(2);

      const secretsAfter = await h().admin<{ id: string; ciphertext: Buffer }>(
        'select id, ciphertext from secrets order by id',
      );
      expect(secretsAfter.map((s) => Buffer.from(s.ciphertext).toString('hex'))).toEqual(
        secretsBefore.map((s) => Buffer.from(s.ciphertext).toString('hex')),
      );
      const keysAfter = await h().admin<{
        id: string;
        wrapped_key: Buffer;
        master_key_version: number;
      }>('select id, wrapped_key, master_key_version from workspace_keys order by id');
      expect(keysAfter.map((k) => k.master_key_version)).toEqual(keysBefore.map(() => 2));
      for (const [i, k] of keysAfter.entries()) {
        expect(Buffer.from(k.wrapped_key).equals(Buffer.from(keysBefore[i]!.wrapped_key))).toBe(
          false,
        );
      }
      expect(await store.system.vault.status()).toMatchObject({
        currentVersion: 2,
        configuredVersions: [1, 2],
        dataKeysByMasterVersion: { 2: keysBefore.length },
      });

      // v1 is no longer needed: a store with only v2 reads every secret.
      expect(await store.system.vault.retireUnusedMasterKeys()).toEqual([1]);
      const onlyV2 = await h().reopen({ masterKey: `v2:${v2}` });
      expect(await onlyV2.withWorkspace(a, (w) => w.secrets.reveal('OPENAI_API_KEY'))).toBe(VALUE);
      expect(await onlyV2.withWorkspace(b, (w) => w.secrets.reveal('OPENAI_API_KEY'))).toBe(
        'sk-proj-bbbbbbbbbbbbbbbbbbbbbb',
      );
      // …and one with only the old key cannot.
      const onlyV1 = await h().reopen({ masterKey: h().masterKey });
      await expect(
        onlyV1.withWorkspace(a, (w) => w.secrets.reveal('OPENAI_API_KEY')),
      ).rejects.toMatchObject({
        code: 'vault.unknown_master_key_version',
      });
      expect(internalsOf(onlyV1).kind).toBe(h().engine);
    });
  },
  { persistent: true },
);
