import { describe, expect, it } from 'vitest';
import { createAgentCache } from '../src/runs/agent-cache.ts';
import { controlledReads } from './support/controlled-reads.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('agent cache (what a run reads of its agent, for a few seconds)', () => {
  it('reads once, then serves the entry until its time is up', async () => {
    let now = 0;
    const cache = createAgentCache<string>({ ttlMs: 100, now: () => now });
    let reads = 0;
    const load = async () => `v${++reads}`;
    expect(await cache.get('w', 'a', load)).toEqual({ value: 'v1', loaded: true });
    now = 99;
    expect(await cache.get('w', 'a', load)).toEqual({ value: 'v1', loaded: false });
    expect(reads).toBe(1);
  });

  it('shares one read among every caller that asks while it is under way', async () => {
    const cache = createAgentCache<string>();
    const reads = controlledReads<string>();
    const callers = Array.from({ length: 50 }, () => cache.get('w', 'a', reads.load));
    expect(reads.started).toBe(1);
    reads.finish(0, 'v1');
    const answers = await Promise.all(callers);
    expect(answers.map((a) => a.value)).toEqual(Array(50).fill('v1'));
    expect(answers.filter((a) => a.loaded)).toHaveLength(1);
  });

  it('serves an expired entry at once while one read refreshes it, for one more ttl', async () => {
    let now = 0;
    const cache = createAgentCache<string>({ ttlMs: 100, now: () => now });
    const reads = controlledReads<string>();
    const first = cache.get('w', 'a', reads.load);
    reads.finish(0, 'v1');
    await first;
    now = 150; // expired, within the second ttl
    expect(await cache.get('w', 'a', reads.load)).toEqual({ value: 'v1', loaded: false });
    expect(await cache.get('w', 'a', reads.load)).toEqual({ value: 'v1', loaded: false });
    expect(reads.started).toBe(2); // one refresh for both
    reads.finish(1, 'v2');
    await turn();
    expect(await cache.get('w', 'a', reads.load)).toEqual({ value: 'v2', loaded: false });
    // Past both ttls an entry is not served: the caller waits for a read.
    now = 150 + 200;
    const late = cache.get('w', 'a', reads.load);
    expect(reads.started).toBe(3);
    reads.finish(2, 'v3');
    expect(await late).toEqual({ value: 'v3', loaded: true });
  });

  it('drops an entry whose refresh fails, so the next caller reads and gets the error', async () => {
    let now = 0;
    const cache = createAgentCache<string>({ ttlMs: 100, now: () => now });
    await cache.get('w', 'a', async () => 'v1');
    now = 150;
    const reads = controlledReads<string>();
    expect((await cache.get('w', 'a', reads.load)).value).toBe('v1');
    reads.fail(0, new Error('Agent not found'));
    await turn();
    await expect(
      cache.get('w', 'a', async () => {
        throw new Error('Agent not found');
      }),
    ).rejects.toThrow('Agent not found');
  });

  it('forgets a workspace at once, and only that workspace', async () => {
    const cache = createAgentCache<string>();
    await cache.get('w', 'a', async () => 'w1');
    await cache.get('x', 'a', async () => 'x1');
    cache.forget('w');
    expect(await cache.get('w', 'a', async () => 'w2')).toEqual({ value: 'w2', loaded: true });
    expect(await cache.get('x', 'a', async () => 'x2')).toEqual({ value: 'x1', loaded: false });
  });

  it('neither keeps nor shares a read that was under way during a forget', async () => {
    const cache = createAgentCache<string>();
    const reads = controlledReads<string>();
    const before = cache.get('w', 'a', reads.load);
    // The agent changed while that read was under way.
    cache.forget('w');
    const after = cache.get('w', 'a', reads.load);
    expect(reads.started).toBe(2); // the run after the change does not join the old read
    reads.finish(0, 'old');
    reads.finish(1, 'new');
    expect((await before).value).toBe('old');
    expect((await after).value).toBe('new');
    expect(await cache.get('w', 'a', async () => 'unused')).toEqual({
      value: 'new',
      loaded: false,
    });
  });
});
