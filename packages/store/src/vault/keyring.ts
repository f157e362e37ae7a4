import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { VaultError } from '../errors.ts';
import { KEY_BYTES } from './envelope.ts';

/*
 * The master keys (key-encryption keys). They never enter the database. Each has a version:
 * the highest is current and wraps new data keys, older ones stay until every data key has
 * been re-wrapped (see rotateMasterKey). Sources, in order:
 *   1. the `masterKey` option or PARLEY_MASTER_KEY: `<base64 32 bytes>` (version 1), or
 *      `v2:<base64>,v1:<base64>` to carry several versions through a rotation;
 *   2. a key file (by default `<dataDir>/master.key`), created with mode 0600 on first start;
 *   3. for an in-memory store only, a random key that lives as long as the process.
 */

export interface MasterKey {
  version: number;
  key: Buffer;
}

export type KeyringSource = 'setting' | 'file' | 'ephemeral';

export class MasterKeyring {
  readonly source: KeyringSource;
  readonly path: string | undefined;
  #keys: Map<number, Buffer>;

  constructor(source: KeyringSource, keys: MasterKey[], path?: string) {
    if (keys.length === 0)
      throw new VaultError('vault.invalid_master_key', 'A keyring needs at least one key.');
    this.source = source;
    this.path = path;
    this.#keys = new Map(keys.map((k) => [k.version, k.key]));
  }

  get currentVersion(): number {
    return Math.max(...this.#keys.keys());
  }

  get current(): MasterKey {
    const version = this.currentVersion;
    return { version, key: this.#keys.get(version)! };
  }

  versions(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  key(version: number): Buffer {
    const key = this.#keys.get(version);
    if (!key) {
      throw new VaultError(
        'vault.unknown_master_key_version',
        `A data key is wrapped by master key v${version}, which is not configured (configured: ${this.versions()
          .map((v) => `v${v}`)
          .join(', ')}). Put the old key back until rotation has finished.`,
        { details: { version, configured: this.versions() } },
      );
    }
    return key;
  }

  /** Adds a new current version (saved to the key file for a file keyring). A setting cannot be written. */
  async addVersion(): Promise<MasterKey> {
    if (this.source === 'setting') {
      throw new VaultError(
        'vault.rotation_needs_new_key',
        'The master key comes from PARLEY_MASTER_KEY: add a new version there (`v2:<new>,v1:<old>`), ' +
          'restart, and rotate again; Parley cannot write your environment.',
      );
    }
    const next = { version: this.currentVersion + 1, key: randomBytes(KEY_BYTES) };
    const keys = [...this.#keys].map(([version, key]) => ({ version, key })).concat(next);
    if (this.source === 'file' && this.path) await writeKeyFile(this.path, keys);
    this.#keys.set(next.version, next.key);
    return next;
  }

  /** Forgets versions no data key uses any more (and removes them from the key file). */
  async retire(versions: number[]): Promise<void> {
    const remaining = [...this.#keys].filter(
      ([v]) => !versions.includes(v) || v === this.currentVersion,
    );
    if (this.source === 'file' && this.path) {
      await writeKeyFile(
        this.path,
        remaining.map(([version, key]) => ({ version, key })),
      );
    }
    this.#keys = new Map(remaining);
  }
}

function decodeKey(value: string, where: string): Buffer {
  const trimmed = value.trim();
  const key = Buffer.from(trimmed, 'base64');
  // Buffer.from ignores junk; re-encoding proves the text was exactly one base64 key.
  if (
    key.length !== KEY_BYTES ||
    key.toString('base64').replace(/=+$/, '') !== trimmed.replace(/=+$/, '')
  ) {
    throw new VaultError(
      'vault.invalid_master_key',
      `${where} must be the base64 encoding of exactly ${KEY_BYTES} random bytes (e.g. \`openssl rand -base64 32\`).`,
    );
  }
  return key;
}

/** Parses the PARLEY_MASTER_KEY format. */
export function parseMasterKeySetting(value: string, where = 'PARLEY_MASTER_KEY'): MasterKey[] {
  const entries = value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new VaultError('vault.invalid_master_key', `${where} is empty.`);
  if (entries.length === 1 && !/^v\d+:/.test(entries[0]!)) {
    return [{ version: 1, key: decodeKey(entries[0]!, where) }];
  }
  const keys = entries.map((entry) => {
    const match = /^v(\d+):(.+)$/.exec(entry);
    if (!match) {
      throw new VaultError(
        'vault.invalid_master_key',
        `${where}: with several keys, write each as v<N>:<base64>.`,
      );
    }
    return { version: Number(match[1]), key: decodeKey(match[2]!, `${where} v${match[1]}`) };
  });
  if (new Set(keys.map((k) => k.version)).size !== keys.length || keys.some((k) => k.version < 1)) {
    throw new VaultError(
      'vault.invalid_master_key',
      `${where}: versions must be distinct and ≥ 1.`,
    );
  }
  return keys;
}

interface KeyFile {
  format: 'parley-master-keys/1';
  keys: { version: number; key: string }[];
}

async function writeKeyFile(path: string, keys: MasterKey[]): Promise<void> {
  const body: KeyFile = {
    format: 'parley-master-keys/1',
    keys: keys.map((k) => ({ version: k.version, key: k.key.toString('base64') })),
  };
  // Write a private temporary file, flush it, then rename: a crash never leaves half a key file.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    0o600,
  );
  try {
    await handle.writeFile(`${JSON.stringify(body, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, path);
}

async function readKeyFile(path: string): Promise<MasterKey[]> {
  const stat = await fs.stat(path);
  if ((stat.mode & 0o077) !== 0 || (process.getuid && stat.uid !== process.getuid())) {
    throw new VaultError(
      'vault.key_file_unsafe',
      `The master key file ${path} must belong to this user and have mode 0600 (it has ${(stat.mode & 0o777).toString(8)}): chmod 600 ${path}`,
    );
  }
  let parsed: KeyFile;
  try {
    parsed = JSON.parse(await fs.readFile(path, 'utf8')) as KeyFile;
  } catch {
    throw new VaultError(
      'vault.invalid_master_key',
      `The master key file ${path} is not valid JSON.`,
    );
  }
  if (parsed.format !== 'parley-master-keys/1' || !Array.isArray(parsed.keys)) {
    throw new VaultError(
      'vault.invalid_master_key',
      `The master key file ${path} has an unknown format.`,
    );
  }
  return parsed.keys.map((k) => ({
    version: k.version,
    key: decodeKey(k.key, `${path} v${k.version}`),
  }));
}

/** Opens the key file, creating it (mode 0600, one fresh key) when it does not exist. */
export async function loadOrCreateKeyFile(path: string): Promise<MasterKeyring> {
  await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    return new MasterKeyring('file', await readKeyFile(path), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const first = { version: 1, key: randomBytes(KEY_BYTES) };
  const body: KeyFile = {
    format: 'parley-master-keys/1',
    keys: [{ version: 1, key: first.key.toString('base64') }],
  };
  try {
    // O_EXCL: if another process created it meanwhile, use theirs.
    const handle = await fs.open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      0o600,
    );
    try {
      await handle.writeFile(`${JSON.stringify(body, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return new MasterKeyring('file', await readKeyFile(path), path);
  }
  return new MasterKeyring('file', [first], path);
}

export function ephemeralKeyring(): MasterKeyring {
  return new MasterKeyring('ephemeral', [{ version: 1, key: randomBytes(KEY_BYTES) }]);
}
