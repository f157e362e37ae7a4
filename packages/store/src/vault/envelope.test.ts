import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataKeyContext, open, seal, secretContext } from './envelope.ts';

describe('AES-256-GCM envelope', () => {
  const key = randomBytes(32);
  const context = secretContext('11111111-1111-4111-8111-111111111111', 'OPENAI_API_KEY');

  it('round-trips any value and never repeats a ciphertext', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_000 }), (bytes) => {
        const plaintext = Buffer.from(bytes);
        const a = seal(key, plaintext, context);
        const b = seal(key, plaintext, context);
        expect(a.equals(b)).toBe(false);
        expect(open(key, a, context, 'test').equals(plaintext)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('fails on any flipped bit, another context or another key', () => {
    const sealed = seal(key, Buffer.from('sk-live-value'), context);
    fc.assert(
      fc.property(fc.nat({ max: sealed.length * 8 - 1 }), (bit) => {
        const tampered = Buffer.from(sealed);
        tampered[bit >> 3]! ^= 1 << (bit & 7);
        expect(() => open(key, tampered, context, 'test')).toThrow(
          expect.objectContaining({ code: 'vault.decrypt_failed' }),
        );
      }),
      { numRuns: 100 },
    );
    expect(() =>
      open(key, sealed, secretContext('11111111-1111-4111-8111-111111111111', 'OTHER'), 't'),
    ).toThrow(/Cannot decrypt/);
    expect(() =>
      open(
        key,
        sealed,
        secretContext('22222222-2222-4222-8222-222222222222', 'OPENAI_API_KEY'),
        't',
      ),
    ).toThrow(/Cannot decrypt/);
    expect(() => open(randomBytes(32), sealed, context, 't')).toThrow(/Cannot decrypt/);
    expect(() => open(key, sealed.subarray(0, 20), context, 't')).toThrow(
      /unknown ciphertext format/,
    );
  });

  it('keeps data-key and secret contexts apart', () => {
    // A wrapped data key can never be opened as a secret value, even with the same bytes around it.
    expect(dataKeyContext('w', 1)).not.toBe(secretContext('w', '1'));
    expect(secretContext('a', 'b\u001fc')).not.toBe(secretContext('a\u001fb', 'c'));
  });
});
