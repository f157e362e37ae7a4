import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VaultError } from '../errors.ts';

/*
 * AES-256-GCM with associated data. Layout: format byte (1) | iv (12) | tag (16) | ciphertext.
 * The associated data binds a ciphertext to where it belongs (workspace, secret name, key
 * version): moved anywhere else, it fails authentication instead of decrypting.
 * Random 96-bit IVs are safe far beyond our volumes (NIST SP 800-38D: < 2^32 per key).
 */

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export function seal(key: Buffer, plaintext: Buffer, associatedData: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer, associatedData: string, what: string): Buffer {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT) {
    throw new VaultError(
      'vault.decrypt_failed',
      `Cannot decrypt ${what}: unknown ciphertext format.`,
    );
  }
  try {
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    // One message for every cause, so a failure tells an attacker nothing about which part was wrong.
    throw new VaultError(
      'vault.decrypt_failed',
      `Cannot decrypt ${what}: it does not belong here, was altered, or the master key is wrong.`,
    );
  }
}

// Associated data is a JSON array: unambiguous whatever the parts contain.

/** Associated data of a workspace's data key. */
export function dataKeyContext(workspaceId: string, version: number): string {
  return JSON.stringify(['parley/data-key/v1', workspaceId, version]);
}

/** Associated data of a secret value: the workspace and the secret's name. */
export function secretContext(workspaceId: string, name: string): string {
  return JSON.stringify(['parley/secret/v1', workspaceId, name]);
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}
