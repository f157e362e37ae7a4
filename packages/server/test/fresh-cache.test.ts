import { describe, expect, it } from 'vitest';
import { createFreshCache } from '../src/caches/fresh-cache.ts';
import { controlledReads } from './support/controlled-reads.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A cache of 100 ms values on a clock the test moves. */
function cacheAt(clock: { now: number }) {
  return createFreshCache<string>({ freshMs: () => 100, now: () => clock.now });
}

/** A cache whose key `a` was read as `v1` at 0, and the clock moved to `at`. */
async function readOnceThenAt(at: number) {
  const clock = { now: 0 };
  const cache = cacheAt(clock);
  const reads = controlledReads<string>();
  const first = cache.get('a', reads.load);
  reads.finish(0, 'v1');
  await first;
  clock.now = at;
  return { cache, reads, clock };
}

describe('fresh cache (what a run checks before its model call)', () => {
  it('reads once for every caller that asks meanwhile, then answers at once while fresh', async () => {
    const clock = { now: 0 };
    const cache = cacheAt(clock);
    const reads = controlledReads<string>();
    const burst = Array.from({ length: 50 }, () => cache.get('a', reads.load));
    expect(reads.started).toBe(1);
    reads.finish(0, 'v1');
    expect(await Promise.all(burst)).toEqual(Array(50).fill('v1'));
    clock.now = 99;
    expect(cache.get('a', reads.load)).toBe('v1'); // not a promise: no turn of waiting
    expect(reads.started).toBe(1);
  });

  it('answers a just-expired value at once while one read refreshes it', async () => {
    const { cache, reads } = await readOnceThenAt(150);
    // A burst arriving now: nobody waits for the database, one read goes.
    expect(Array.from({ length: 20 }, () => cache.get('a', reads.load))).toEqual(
      Array(20).fill('v1'),
    );
    expect(reads.started).toBe(2);
    reads.finish(1, 'v2');
    await turn();
    expect(cache.get('a', reads.load)).toBe('v2');
  });

  it('waits for a read once the value is more than two periods old', async () => {
    const { cache, reads } = await readOnceThenAt(200);
    const answer = cache.get('a', reads.load);
    expect(answer).toBeInstanceOf(Promise);
    reads.finish(1, 'v2');
    expect(await answer).toBe('v2');
  });

  it('keeps the value through a failed refresh until it is too old, then reports the failure', async () => {
    const { cache, reads, clock } = await readOnceThenAt(150);
    expect(cache.get('a', reads.load)).toBe('v1');
    reads.fail(1, new Error('database gone'));
    await turn();
    expect(cache.get('a', reads.load)).toBe('v1'); // a new refresh, still answered at once
    expect(reads.started).toBe(3);
    reads.fail(2, new Error('database gone'));
    await turn();
    clock.now = 250;
    const late = cache.get('a', reads.load);
    reads.fail(3, new Error('database gone'));
    await expect(late).rejects.toThrow('database gone');
  });

  it('lets what this process wrote win over a read that began before the write', async () => {
    const clock = { now: 0 };
    const cache = cacheAt(clock);
    const reads = controlledReads<string>();
    const reading = cache.get('a', reads.load);
    cache.set('a', 'written');
    reads.finish(0, 'read before');
    expect(await reading).toBe('read before'); // that caller asked before the write
    expect(cache.get('a', reads.load)).toBe('written');
  });

  it('believes a value as long as freshMs says, per value', async () => {
    const clock = { now: 0 };
    const cache = createFreshCache<boolean>({
      freshMs: (has) => (has ? Number.POSITIVE_INFINITY : 100),
      now: () => clock.now,
    });
    cache.set('with', true);
    cache.set('without', false);
    clock.now = 1e9;
    const reads = controlledReads<boolean>();
    expect(cache.get('with', reads.load)).toBe(true);
    expect(cache.get('without', reads.load)).toBeInstanceOf(Promise);
    expect(reads.started).toBe(1);
  });
});
