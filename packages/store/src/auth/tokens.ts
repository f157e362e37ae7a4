import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/*
 * Bearer credentials. API tokens follow GitHub's format ideas: a fixed prefix a secret
 * scanner can match, high-entropy base62, and a CRC32 checksum so typos and random strings
 * are rejected offline, before any database lookup. Only SHA-256 hashes are stored: the
 * secrets have ≥ 160 bits of entropy, so a fast hash is enough (no password hashing needed).
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Every API token starts with this. */
export const API_TOKEN_PREFIX = 'prl_';
const RANDOM_LENGTH = 30; // 30 × log2(62) ≈ 178 bits
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32
const API_TOKEN_PATTERN = /^prl_[0-9A-Za-z]{36}$/;

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: rejecting larger bytes keeps every character equally likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function base62Checksum(body: string): string {
  let n = crc32(Buffer.from(body, 'utf8'));
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export interface NewApiToken {
  /** The whole token: show it once, never store or log it. */
  token: string;
  /** SHA-256 (hex): the lookup key stored in api_tokens.token_hash. */
  hash: string;
  /** Display hint, e.g. `prl_7GxQ`. */
  prefix: string;
  last4: string;
}

export function generateApiToken(): NewApiToken {
  const body = API_TOKEN_PREFIX + randomBase62(RANDOM_LENGTH);
  const token = body + base62Checksum(body);
  return { token, hash: sha256Hex(token), prefix: token.slice(0, 8), last4: token.slice(-4) };
}

/** True when `value` has the API token shape and a valid checksum (no database involved). */
export function isWellFormedApiToken(value: string): boolean {
  if (!API_TOKEN_PATTERN.test(value)) return false;
  const body = value.slice(0, -CHECKSUM_LENGTH);
  return base62Checksum(body) === value.slice(-CHECKSUM_LENGTH);
}

/** A random secret for a session cookie or an invitation link (256 bits, base64url). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Session cookies are `<session id>.<secret>`; only the secret's hash is stored. */
export function parseSessionCookie(value: string): { sessionId: string; secret: string } | null {
  const match =
    /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/.exec(
      value,
    );
  return match ? { sessionId: match[1]!, secret: match[2]! } : null;
}
