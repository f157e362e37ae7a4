import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../src/index.ts';

/*
 * Audit A-19: a tool that logs or returns a secret it read, encoded, must not get it past the
 * redactor: URL-encoded (a query string), escaped in JSON, or base64 inside a longer value (a
 * `Basic` header of `user:key`), at any byte alignment.
 */

const secret = fc.string({ unit: 'grapheme-ascii', minLength: 8, maxLength: 48 });
const around = fc.string({ unit: 'grapheme-ascii', maxLength: 12 });

describe('the redactor, with encoded secrets', () => {
  it('removes a secret base64-encoded inside a longer value, at every alignment', () => {
    fc.assert(
      fc.property(secret, around, around, (s, before, after) => {
        const header = `Basic ${Buffer.from(`${before}${s}${after}`).toString('base64')}`;
        const out = createRedactor([s]).redactString(header);
        expect(out).toContain('[REDACTED]');
        const decoded = Buffer.from(out.slice('Basic '.length), 'base64').toString('latin1');
        expect(decoded).not.toContain(s);
      }),
      { numRuns: 300 },
    );
  });

  it('removes a secret URL-encoded or escaped in JSON', () => {
    fc.assert(
      fc.property(secret, (s) => {
        const { redactString } = createRedactor([s]);
        for (const text of [
          `https://api.example/v1?key=${encodeURIComponent(s)}&q=1`,
          JSON.stringify({ headers: { 'x-custom': s } }),
          `url-safe ${Buffer.from(s).toString('base64url')}.`,
        ]) {
          const out = redactString(text);
          expect(out).toContain('[REDACTED]');
          expect(out).not.toContain(s);
          expect(out).not.toContain(encodeURIComponent(s));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('leaves text without the secret alone, and short secrets to their exact value', () => {
    const { redactString } = createRedactor(['sk-live-0123456789abcdef', 'abc']);
    expect(redactString('nothing to hide here: c2stbGl2 is not enough')).toBe(
      'nothing to hide here: c2stbGl2 is not enough',
    );
    expect(redactString('abc is too short to redact')).toBe('abc is too short to redact');
  });
});

describe('the redactor, as its secrets change', () => {
  it('finds a secret read after it was made, and forgets none it already knew', () => {
    const secrets = new Set(['first-secret-value']);
    const { redactString } = createRedactor(secrets);
    expect(redactString('a first-secret-value b')).toBe('a [REDACTED] b');
    secrets.add('second-secret-value');
    expect(redactString('second-secret-value and first-secret-value')).toBe(
      '[REDACTED] and [REDACTED]',
    );
    expect(redactString(encodeURIComponent('second-secret-value/x'))).not.toContain('second');
  });
});
