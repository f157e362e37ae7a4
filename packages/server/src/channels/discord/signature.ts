import { createPublicKey, verify } from 'node:crypto';

/** The DER header of an Ed25519 public key (RFC 8410), before its 32 raw bytes. */
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Whether an interaction came from Discord: `X-Signature-Ed25519` is the Ed25519 signature,
 * by the application's public key (hex, from the developer portal), of
 * `X-Signature-Timestamp` followed by the body
 * (https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint).
 */
export function verifyDiscordSignature(
  publicKeyHex: string,
  headers: Record<string, string | undefined>,
  rawBody: string,
): boolean {
  const signature = headers['x-signature-ed25519'];
  const timestamp = headers['x-signature-timestamp'];
  if (!signature || !timestamp || !/^[0-9a-f]{128}$/i.test(signature)) return false;
  if (!/^[0-9a-f]{64}$/i.test(publicKeyHex)) return false;
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI, Buffer.from(publicKeyHex, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, Buffer.from(timestamp + rawBody), key, Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}
