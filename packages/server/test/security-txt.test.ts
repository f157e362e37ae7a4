import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_POLICY, securityTxt } from '../src/routes/well-known.ts';
import { startTestServer, type TestServer } from './support/harness.ts';

/*
 * /.well-known/security.txt (RFC 9116) on a real server: public, plain text, the fields the
 * RFC requires (Contact, Expires) and the ones we promise (Preferred-Languages, Policy), an
 * expiry computed at request time, and Canonical only when a public URL is known.
 */

/** `Field: value` lines (comments and blank lines left out), in order. */
function fields(text: string): [string, string][] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const colon = line.indexOf(': ');
      expect(colon, `"${line}" is a field`).toBeGreaterThan(0);
      return [line.slice(0, colon), line.slice(colon + 2)];
    });
}

describe('/.well-known/security.txt', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PARLEY_MULTI_USER: '1' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers anyone, as text/plain, with Contact, Expires, Preferred-Languages and Policy', async () => {
    const before = Date.now();
    const res = await fetch(`${server.url}/.well-known/security.txt`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await res.text();
    const found = fields(text);
    const names = found.map(([name]) => name);
    expect(names).toEqual(['Contact', 'Expires', 'Preferred-Languages', 'Policy']);
    const field = (name: string) => found.find(([n]) => n === name)![1];
    expect(field('Contact')).toBe('mailto:security@parley.dev');
    expect(field('Preferred-Languages')).toBe('en');
    expect(field('Policy')).toMatch(/^https:\/\/.+\/SECURITY\.md$/);
    // RFC 3339, in the future, and no more than a year ahead (RFC 9116 §2.5.5).
    const expires = field('Expires');
    expect(expires).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const at = Date.parse(expires);
    expect(at).toBeGreaterThan(Date.now() + 364 * 86_400_000);
    expect(at).toBeLessThanOrEqual(before + 365 * 86_400_000 + 1_000);
    // No Canonical: this server has no configured public URL.
    expect(text).not.toMatch(/^Canonical:/m);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('answers HEAD too (with a stale cookie, still no sign-in needed), and no other method', async () => {
    const head = await fetch(`${server.url}/.well-known/security.txt`, {
      method: 'HEAD',
      headers: { cookie: 'parley_session=not.a-session' },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const post = await fetch(`${server.url}/.well-known/security.txt`, { method: 'POST' });
    expect(post.status).toBe(404);
  });

  it('computes Expires when asked, not when the server started', () => {
    const now = new Date('2030-02-03T04:05:06.789Z');
    expect(securityTxt(now)).toContain('Expires: 2031-02-03T04:05:06Z\n');
    expect(securityTxt(new Date(now.getTime() + 86_400_000))).toContain(
      'Expires: 2031-02-04T04:05:06Z\n',
    );
  });

  it('names a Canonical URL only when one is given', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(securityTxt(now)).not.toContain('Canonical:');
    const text = securityTxt(now, {
      canonical: 'https://parley.example/.well-known/security.txt',
    });
    expect(fields(text).at(-1)).toEqual([
      'Canonical',
      'https://parley.example/.well-known/security.txt',
    ]);
  });

  it('points Policy at the SECURITY.md the repository has, with the same contact', () => {
    expect(SECURITY_POLICY.endsWith('/SECURITY.md')).toBe(true);
    const policy = readFileSync(new URL('../../../SECURITY.md', import.meta.url), 'utf8');
    expect(policy).toContain('security@parley.dev');
    expect(policy).toMatch(/0\.1\.x/);
  });
});
