import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateKeyFile, parseMasterKeySetting } from './keyring.ts';

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'parley-keyring-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('PARLEY_MASTER_KEY format', () => {
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');

  it('reads one bare key as version 1, or versioned keys', () => {
    expect(parseMasterKeySetting(k1).map((k) => k.version)).toEqual([1]);
    const keys = parseMasterKeySetting(`v2:${k2}, v1:${k1}`);
    expect(keys.map((k) => [k.version, k.key.toString('base64')])).toEqual([
      [2, k2],
      [1, k1],
    ]);
  });

  it.each([
    ['', 'empty'],
    [randomBytes(16).toString('base64'), 'too short'],
    [`${k1}!`, 'not base64'],
    [`${k1},${k2}`, 'several keys without versions'],
    [`v1:${k1},v1:${k2}`, 'duplicate versions'],
    [`v0:${k1}`, 'version 0'],
  ])('rejects %j (%s) without echoing it', (value, _why) => {
    try {
      parseMasterKeySetting(value);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'vault.invalid_master_key' });
      if (value) expect((error as Error).message).not.toContain(value.slice(0, 20));
    }
  });
});

describe('master key file', () => {
  it('is created once with mode 0600 and read back', async () => {
    const path = join(await tempDir(), 'nested', 'master.key');
    const first = await loadOrCreateKeyFile(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateKeyFile(path);
    expect(again.current.key.equals(first.current.key)).toBe(true);
    expect(again.source).toBe('file');
  });

  it('refuses a key file other users can read', async () => {
    const path = join(await tempDir(), 'master.key');
    await loadOrCreateKeyFile(path);
    await chmod(path, 0o644);
    await expect(loadOrCreateKeyFile(path)).rejects.toMatchObject({
      code: 'vault.key_file_unsafe',
    });
  });

  it('refuses a malformed key file', async () => {
    const path = join(await tempDir(), 'master.key');
    await writeFile(path, '{"format":"something-else"}', { mode: 0o600 });
    await expect(loadOrCreateKeyFile(path)).rejects.toMatchObject({
      code: 'vault.invalid_master_key',
    });
  });

  it('adds and retires versions, keeping the file private', async () => {
    const path = join(await tempDir(), 'master.key');
    const keyring = await loadOrCreateKeyFile(path);
    const next = await keyring.addVersion();
    expect(next.version).toBe(2);
    expect((await loadOrCreateKeyFile(path)).versions()).toEqual([1, 2]);
    await keyring.retire([1]);
    expect((await loadOrCreateKeyFile(path)).versions()).toEqual([2]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8')).keys).toHaveLength(1);
    expect(() => keyring.key(1)).toThrow(
      expect.objectContaining({ code: 'vault.unknown_master_key_version' }),
    );
  });

  it('cannot add a version to a key that comes from the environment', async () => {
    const { MasterKeyring } = await import('./keyring.ts');
    const keyring = new MasterKeyring(
      'setting',
      parseMasterKeySetting(randomBytes(32).toString('base64')),
    );
    await expect(keyring.addVersion()).rejects.toMatchObject({
      code: 'vault.rotation_needs_new_key',
    });
  });
});
