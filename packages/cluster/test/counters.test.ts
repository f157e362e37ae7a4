import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type Counters, createCounters, createLocalCounters } from '../src/counters.ts';
import { privateRedis } from './support.ts';

/*
 * Shared counters: every instance adds to the same count (Redis here; PostgreSQL's table is
 * tested with the store), and when the shared store is down each instance counts on its own
 * and says so, rather than not counting at all.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const opened: Counters[] = [];
const track = (c: Counters) => {
  opened.push(c);
  return c;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});
const key = () => `test:${randomBytes(6).toString('hex')}`;

describe('counters on Redis', () => {
  it('count across instances, concurrently, in one window', async () => {
    const [a, b] = [
      track(createCounters({ redisUrl: REDIS_URL })),
      track(createCounters({ redisUrl: REDIS_URL })),
    ];
    expect(a.kind).toBe('redis');
    const k = key();
    const hits = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).hit(k, 60_000)),
    );
    expect(hits.map((h) => h.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(Math.max(...hits.map((h) => h.ttlMs))).toBeLessThanOrEqual(60_000);
    await b.hold(k, 3_600_000);
    expect((await a.hit(k, 60_000)).ttlMs).toBeGreaterThan(60_000);
    await a.reset(k);
    expect((await b.hit(k, 60_000)).count).toBe(1);
  });

  it('while Redis is down, count with the next store and say so; then go back', async () => {
    const redis = await privateRedis();
    const lines: string[] = [];
    const fallback = createLocalCounters();
    try {
      const c = track(
        createCounters({
          redisUrl: redis.url,
          database: fallback,
          retryMs: 100,
          log: (level, message) => lines.push(`${level}: ${message}`),
        }),
      );
      const k = key();
      await c.hit(k, 60_000);
      expect((await c.hit(k, 60_000)).count).toBe(2);
      expect(c.status().via).toBe('redis');
      await redis.stop();
      const during = await c.hit(k, 60_000);
      expect(during.count).toBe(1); // the fallback starts its own count
      expect(c.status()).toEqual({ kind: 'redis', via: 'postgres' });
      expect(
        lines.some((l) => /^warn: shared counters: redis failed, postgres counts instead/.test(l)),
      ).toBe(true);

      await redis.start();
      const deadline = Date.now() + 20_000;
      let back = 0;
      while (back !== 1) {
        if (Date.now() > deadline) throw new Error('Redis never came back');
        await new Promise((r) => setTimeout(r, 50));
        await c.hit(k, 60_000);
        if (lines.some((l) => l === 'info: shared counters: redis counts again')) back = 1;
      }
    } finally {
      await redis.stop();
    }
  });

  it('keep clusters that share one Redis apart (their namespace)', async () => {
    const one = track(createCounters({ redisUrl: REDIS_URL, namespace: 'db-one' }));
    const alsoOne = track(createCounters({ redisUrl: REDIS_URL, namespace: 'db-one' }));
    const two = track(createCounters({ redisUrl: REDIS_URL, namespace: 'db-two' }));
    const k = key();
    await one.hit(k, 60_000);
    expect((await alsoOne.hit(k, 60_000)).count).toBe(2);
    expect((await two.hit(k, 60_000)).count).toBe(1);
  });

  it('with nothing shared, count in this process', async () => {
    const c = track(createCounters());
    expect(c.kind).toBe('local');
    const k = key();
    await c.hit(k, 60_000);
    expect((await c.hit(k, 60_000)).count).toBe(2);
  });
});
