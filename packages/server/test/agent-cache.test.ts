import { describe, expect, it } from 'vitest';
import { createAgentCache } from '../src/runs/agent-cache.ts';

describe('agent cache (what a run reads of its agent, for a few seconds)', () => {
  it('serves an entry until its time is up', () => {
    let now = 0;
    const cache = createAgentCache<string>({ ttlMs: 100, now: () => now });
    cache.set('w', 'a', 'v1', cache.generation('w'));
    expect(cache.get('w', 'a')).toBe('v1');
    now = 99;
    expect(cache.get('w', 'a')).toBe('v1');
    now = 100;
    expect(cache.get('w', 'a')).toBeUndefined();
  });

  it('forgets a workspace at once, and only that workspace', () => {
    const cache = createAgentCache<string>();
    cache.set('w', 'a', 'v1', cache.generation('w'));
    cache.set('x', 'a', 'x1', cache.generation('x'));
    cache.forget('w');
    expect(cache.get('w', 'a')).toBeUndefined();
    expect(cache.get('x', 'a')).toBe('x1');
  });

  it('does not keep what a read under way during a forget returns', () => {
    const cache = createAgentCache<string>();
    const before = cache.generation('w');
    // The read began, then the agent changed (forget), then the read finished with the old value.
    cache.forget('w');
    cache.set('w', 'a', 'stale', before);
    expect(cache.get('w', 'a')).toBeUndefined();
    cache.set('w', 'a', 'fresh', cache.generation('w'));
    expect(cache.get('w', 'a')).toBe('fresh');
  });
});
