import { describe, expect, it } from 'vitest';
import { createTokenCache, type TokenCheck } from '../src/auth/token-cache.ts';
import { controlledReads } from './support/controlled-reads.ts';

const TOKEN = 'prl_test_token';
const IP = '127.0.0.1';

function valid(tokenId: string, expiresAt = new Date(10 ** 13)): TokenCheck {
  return {
    ok: true,
    principal: {
      kind: 'token',
      tokenId,
      workspaceId: 'w',
      userId: 'u',
      scopes: ['runs:write'],
      permissions: new Set(),
      expiresAt,
    },
  };
}
const REVOKED: TokenCheck = { ok: false, reason: 'revoked', tokenId: 't', workspaceId: 'w' };

const idOf = (result: TokenCheck) => (result.ok ? result.principal.tokenId : result.reason);
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A cache (100 ms entries, refreshed in their last 20 ms) holding t1 since time 0. */
async function cachedFor100ms() {
  const clock = { now: 0 };
  const cache = createTokenCache({ ttlMs: 100, refreshMs: 20, now: () => clock.now });
  const checks = controlledReads<TokenCheck>();
  const first = cache.check(TOKEN, IP, checks.load);
  checks.finish(0, valid('t1'));
  await first;
  return { cache, checks, clock };
}

describe('token cache (a bearer token’s check, for a few seconds)', () => {
  it('checks once however many requests ask while the check is under way', async () => {
    const cache = createTokenCache();
    const checks = controlledReads<TokenCheck>();
    const requests = Array.from({ length: 50 }, () => cache.check(TOKEN, IP, checks.load));
    expect(checks.started).toBe(1);
    checks.finish(0, valid('t1'));
    expect((await Promise.all(requests)).map(idOf)).toEqual(Array(50).fill('t1'));
    expect((await cache.check(TOKEN, IP, checks.load)).ok).toBe(true);
    expect(checks.started).toBe(1);
  });

  it('shares a refusal with the requests that waited for it, and keeps nothing', async () => {
    const cache = createTokenCache();
    const checks = controlledReads<TokenCheck>();
    const requests = [cache.check(TOKEN, IP, checks.load), cache.check(TOKEN, IP, checks.load)];
    checks.finish(0, REVOKED);
    expect((await Promise.all(requests)).map(idOf)).toEqual(['revoked', 'revoked']);
    void cache.check(TOKEN, IP, checks.load);
    expect(checks.started).toBe(2);
  });

  it('checks again from another address, and per address at the same time', async () => {
    const cache = createTokenCache();
    const checks = controlledReads<TokenCheck>();
    const first = cache.check(TOKEN, IP, checks.load);
    const elsewhere = cache.check(TOKEN, '10.0.0.9', checks.load);
    expect(checks.started).toBe(2);
    checks.finish(0, valid('t1'));
    checks.finish(1, valid('t1'));
    await Promise.all([first, elsewhere]);
    void cache.check(TOKEN, IP, checks.load);
    expect(checks.started).toBe(3); // the entry now belongs to the other address
  });

  it('refreshes an entry in use during its last stretch without making anyone wait', async () => {
    const { cache, checks, clock } = await cachedFor100ms();
    clock.now = 79;
    await cache.check(TOKEN, IP, checks.load);
    expect(checks.started).toBe(1);
    clock.now = 85; // in the last 20 ms: answered from the cache, one check starts behind it
    expect(idOf(await cache.check(TOKEN, IP, checks.load))).toBe('t1');
    expect(idOf(await cache.check(TOKEN, IP, checks.load))).toBe('t1');
    expect(checks.started).toBe(2);
    checks.finish(1, valid('t2'));
    await turn();
    clock.now = 150; // past the first entry's end, within the refreshed one's
    expect(idOf(await cache.check(TOKEN, IP, checks.load))).toBe('t2');
    expect(checks.started).toBe(2);
  });

  it('drops an entry at once when its background check is refused', async () => {
    const { cache, checks, clock } = await cachedFor100ms();
    clock.now = 90;
    await cache.check(TOKEN, IP, checks.load);
    checks.finish(1, REVOKED);
    await turn();
    clock.now = 91; // the entry had 9 ms left: gone anyway
    const next = cache.check(TOKEN, IP, checks.load);
    expect(checks.started).toBe(3);
    checks.finish(2, REVOKED);
    expect(idOf(await next)).toBe('revoked');
  });

  it('never serves an entry past its time, even while its refresh is stuck or failed', async () => {
    const { cache, checks, clock } = await cachedFor100ms();
    clock.now = 90;
    await cache.check(TOKEN, IP, checks.load); // starts the refresh, which never answers
    clock.now = 100;
    let answered = false;
    const late = cache.check(TOKEN, IP, checks.load).then((r) => {
      answered = true;
      return r;
    });
    await turn();
    expect(answered).toBe(false); // waits for the check under way instead of the old entry
    checks.fail(1, new Error('database unavailable'));
    await expect(late).rejects.toThrow('database unavailable');
  });

  it('stops at the token’s own expiry, whatever the cache time left', async () => {
    let now = 0;
    const cache = createTokenCache({ ttlMs: 100, now: () => now });
    const checks = controlledReads<TokenCheck>();
    const first = cache.check(TOKEN, IP, checks.load);
    checks.finish(0, valid('t1', new Date(50)));
    await first;
    now = 50;
    void cache.check(TOKEN, IP, checks.load);
    expect(checks.started).toBe(2);
  });

  it('after clear(), a check started before it is neither kept nor shared', async () => {
    const cache = createTokenCache();
    const checks = controlledReads<TokenCheck>();
    const before = cache.check(TOKEN, IP, checks.load);
    cache.clear(); // e.g. the token was revoked while its check was in the database
    const after = cache.check(TOKEN, IP, checks.load);
    expect(checks.started).toBe(2);
    checks.finish(0, valid('t1'));
    checks.finish(1, REVOKED);
    expect(idOf(await before)).toBe('t1');
    expect(idOf(await after)).toBe('revoked');
    void cache.check(TOKEN, IP, checks.load);
    expect(checks.started).toBe(3);
  });

  it('stays within its size, forgetting the oldest token first', async () => {
    const cache = createTokenCache({ maxEntries: 2 });
    let checks = 0;
    const check = async () => valid(`t${++checks}`);
    for (const token of ['a', 'b', 'c']) await cache.check(token, IP, check);
    await cache.check('c', IP, check);
    await cache.check('b', IP, check);
    expect(checks).toBe(3);
    await cache.check('a', IP, check);
    expect(checks).toBe(4);
  });
});
