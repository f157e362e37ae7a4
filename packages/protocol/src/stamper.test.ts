import { describe, expect, it } from 'vitest';
import { checkConformance } from './conformance.ts';
import { createEventStamper, wasStamped } from './stamper.ts';

describe('event stamper', () => {
  it('assigns v, gap-free seq, runId, t and the open step id', () => {
    const times = [100, 100, 105.25, 104, 110, 111];
    const stamper = createEventStamper({ runId: 'r', now: () => times.shift()! });
    const events = [
      stamper.stamp({
        type: 'step.start',
        stepIndex: 0,
        provider: 'scripted',
        model: 'm',
        attempt: 1,
      }),
      stamper.stamp({ type: 'text.start', partId: 'p' }),
      stamper.stamp({ type: 'text.end', partId: 'p' }),
      stamper.stamp({
        type: 'step.finish',
        finishReason: { unified: 'stop' },
        timing: { durationMs: 1, retries: 0 },
      }),
      stamper.stamp({ type: 'memory.recall', hits: [], latencyMs: 0 }),
    ];
    expect(events.map((e) => [e.seq, e.t, e.stepId])).toEqual([
      [1, 0, 'r.s1'],
      [2, 5.25, 'r.s1'],
      [3, 5.25, 'r.s1'], // the clock went back to 104: t holds at 5.25
      [4, 10, 'r.s1'],
      [5, 11, undefined],
    ]);
    expect(events.every((e) => e.v === 1 && e.runId === 'r')).toBe(true);
    expect(checkConformance(events, { scope: 'steps' })).toEqual([]);
  });

  it('continues an existing log after lastSeq', () => {
    const stamper = createEventStamper({ runId: 'r', lastSeq: 41 });
    expect(stamper.stamp({ type: 'run.abort', reason: 'shutdown' }).seq).toBe(42);
    expect(stamper.lastSeq).toBe(42);
  });

  it('marks the events it made, and only those objects (a copy is not stamped)', () => {
    const event = createEventStamper({ runId: 'r' }).stamp({ type: 'text.start', partId: 'p' });
    expect(wasStamped(event)).toBe(true);
    expect(wasStamped({ ...event })).toBe(false);
    expect(wasStamped(JSON.parse(JSON.stringify(event)))).toBe(false);
    expect(wasStamped(null)).toBe(false);
  });
});
