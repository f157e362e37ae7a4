import { describe, expect, it } from 'vitest';
import { checkConformance } from './conformance.ts';
import type { ParleyEvent } from './events.ts';
import { EXAMPLE_STREAM } from './example-stream.ts';
import { reduceEvents, textOf } from './reducer.ts';

/*
 * Nested runs (docs/multi-agent.md): a child run's events travel inside its parent's stream as
 * `run.child` events; each child is a stream of its own, checked and folded on its own.
 */

type Events = ParleyEvent[];
const example = (runId: string): Events =>
  (structuredClone(EXAMPLE_STREAM) as Events).map((e) => ({ ...e, runId }));

/** The parent's example stream with `child`'s events carried before its terminal. */
function nest(child: unknown[], childRunId = 'child_1'): Events {
  const parent = example('parent_1');
  const terminal = parent.pop()!;
  const last = parent.at(-1)!;
  const carried = child.map(
    (event, i) =>
      ({
        v: 1,
        seq: last.seq + i + 1,
        runId: 'parent_1',
        t: last.t,
        type: 'run.child',
        childRunId,
        agent: 'worker',
        event,
      }) as ParleyEvent,
  );
  return [...parent, ...carried, { ...terminal, seq: last.seq + carried.length + 1 }];
}

const rules = (events: Events) => checkConformance(events).map((v) => v.rule);

describe('nested run streams', () => {
  it('a parent carrying a whole child stream conforms', () => {
    expect(checkConformance(nest(example('child_1')))).toEqual([]);
  });

  it('a child stream breaking its own seq discipline is reported at the carrying event', () => {
    const child = example('child_1').map((e, i) => (i > 3 ? { ...e, seq: e.seq + 1 } : e));
    const violations = checkConformance(nest(child));
    expect(violations.map((v) => v.rule)).toEqual(['seq.contiguous']);
    expect(violations[0]!.message).toMatch(/^child run child_1: /);
  });

  it('a child with no terminal before the parent finishes is reported', () => {
    const child = example('child_1').slice(0, -1);
    expect(rules(nest(child))).toEqual(['child.unfinished', 'terminal.missing']);
  });

  it('a parent cancelled while its child runs may cut the child short', () => {
    const cut = nest(example('child_1').slice(0, 4));
    const end = cut.at(-1)!;
    cut[cut.length - 1] = { ...end, type: 'run.abort', reason: 'cancelled' } as ParleyEvent;
    expect(checkConformance(cut)).toEqual([]);
  });

  it('a carried event of another run is reported', () => {
    expect(rules(nest(example('someone_else')))).toContain('child.run_id');
  });

  it('two children keep separate seqs', () => {
    const a = nest(example('child_a'), 'child_a');
    const terminal = a.pop()!;
    const b = example('child_b').map(
      (event, i) =>
        ({
          ...a.at(-1)!,
          seq: terminal.seq + i,
          type: 'run.child',
          childRunId: 'child_b',
          agent: 'worker',
          event,
        }) as ParleyEvent,
    );
    const both = [...a, ...b, { ...terminal, seq: terminal.seq + b.length }];
    expect(checkConformance(both)).toEqual([]);
  });

  it('the reducer folds each child under its parent', () => {
    const child = example('child_1');
    const state = reduceEvents(nest(child));
    expect(state.status).toBe('finished');
    expect(state.children).toHaveLength(1);
    expect(state.children[0]!.agent).toBe('worker');
    expect(state.children[0]!.state.status).toBe('finished');
    expect(textOf(state.children[0]!.state)).toBe(textOf(reduceEvents(child)));
    expect(textOf(state)).toBe(textOf(reduceEvents(example('parent_1'))));
  });
});
