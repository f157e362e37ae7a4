import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generateApiToken,
  hashesEqual,
  isWellFormedApiToken,
  parseSessionCookie,
  randomSecret,
  sha256Hex,
} from './tokens.ts';

describe('API token format', () => {
  it('is prl_ + 36 base62 characters with a valid checksum, hashed with SHA-256', () => {
    const tokens = Array.from({ length: 200 }, () => generateApiToken());
    for (const t of tokens) {
      expect(t.token).toMatch(/^prl_[0-9A-Za-z]{36}$/);
      expect(isWellFormedApiToken(t.token)).toBe(true);
      expect(t.hash).toBe(sha256Hex(t.token));
      expect(t.prefix).toBe(t.token.slice(0, 8));
      expect(t.last4).toBe(t.token.slice(-4));
    }
    expect(new Set(tokens.map((t) => t.token)).size).toBe(tokens.length);
  });

  it('rejects every single-character typo offline', () => {
    const { token } = generateApiToken();
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: token.length - 1 }),
        fc.constantFrom(...alphabet),
        (index, char) => {
          fc.pre(token[index] !== char);
          expect(isWellFormedApiToken(token.slice(0, index) + char + token.slice(index + 1))).toBe(
            false,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects random strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(isWellFormedApiToken(s)).toBe(false);
      }),
    );
    expect(isWellFormedApiToken(`prl_${'a'.repeat(36)}`)).toBe(false);
  });
});

describe('secrets and cookies', () => {
  it('makes 256-bit random secrets and parses session cookies strictly', () => {
    const secret = randomSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    const id = crypto.randomUUID();
    expect(parseSessionCookie(`${id}.${secret}`)).toEqual({ sessionId: id, secret });
    for (const bad of [
      '',
      id,
      `${id}.`,
      `${id}.${secret}x`,
      `${id.toUpperCase()}.${secret}`,
      `${id}.${secret}.x`,
    ]) {
      expect(parseSessionCookie(bad), bad).toBeNull();
    }
  });

  it('compares hashes in constant time and never matches empty input', () => {
    const a = sha256Hex('a');
    expect(hashesEqual(a, sha256Hex('a'))).toBe(true);
    expect(hashesEqual(a, sha256Hex('b'))).toBe(false);
    expect(hashesEqual('', '')).toBe(false);
    expect(hashesEqual(a, a.slice(0, 10))).toBe(false);
  });
});
