import { describe, expect, it } from 'vitest';
import { assertConformance, type ConformanceRule, checkConformance } from './conformance.ts';
import type { ParleyEvent } from './events.ts';
import { EXAMPLE_STREAM } from './example-stream.ts';

type Events = ParleyEvent[];
const example = (): Events => structuredClone(EXAMPLE_STREAM) as Events;
/** Renumbers seq 1..n so a test breaks only the invariant it is about. */
const renumber = (events: Events): Events => events.map((e, i) => ({ ...e, seq: i + 1 }));
const indexOf = (events: Events, predicate: (e: ParleyEvent) => boolean) => {
  const i = events.findIndex(predicate);
  if (i < 0) throw new Error('example stream changed: predicate matched nothing');
  return i;
};
const without = (events: Events, predicate: (e: ParleyEvent) => boolean) => {
  const copy = events.slice();
  copy.splice(indexOf(copy, predicate), 1);
  return renumber(copy);
};

/** The example up to the first event matching `cut`, then a run.abort. */
const abortAfter = (cut: (e: ParleyEvent) => boolean): Events => {
  const e = example();
  const at = indexOf(e, cut);
  const abort = {
    v: 1,
    seq: at + 2,
    runId: e[0]!.runId,
    t: e[at]!.t,
    type: 'run.abort',
    reason: 'cancelled',
  };
  return [...e.slice(0, at + 1), abort as ParleyEvent];
};

const broken: [ConformanceRule, string, () => unknown[]][] = [
  ['schema', 'an event that is not valid', () => [...example().slice(0, 3), { foo: 1 }]],
  ['seq.start', 'seq starting at 2', () => example().map((e) => ({ ...e, seq: e.seq + 1 }))],
  [
    'seq.contiguous',
    'a gap in seq',
    () => example().map((e, i) => (i > 4 ? { ...e, seq: e.seq + 1 } : e)),
  ],
  [
    'seq.contiguous',
    'a repeated seq',
    () => {
      const e = example();
      e[5] = { ...e[5]!, seq: 5 };
      return e;
    },
  ],
  [
    't.monotonic',
    't going backwards',
    () => {
      const e = example();
      e[6] = { ...e[6]!, t: 1 };
      return e;
    },
  ],
  [
    'run.id',
    'two run ids',
    () => example().map((e, i) => (i === 4 ? { ...e, runId: 'other' } : e)),
  ],
  ['run.start', 'no run.start', () => without(example(), (e) => e.type === 'run.start')],
  [
    'step.outside',
    'a delta outside any step',
    () => without(example(), (e) => e.type === 'step.start'),
  ],
  [
    'step.nested',
    'a step inside a step',
    () =>
      renumber(
        without(
          example(),
          (e) => e.type === 'step.finish' && e.finishReason.unified === 'tool-calls',
        ),
      ),
  ],
  [
    'step.id',
    'a part with the wrong stepId',
    () => example().map((e) => (e.type === 'text.delta' ? { ...e, stepId: 'elsewhere' } : e)),
  ],
  [
    'step.unclosed',
    'a step that never finishes',
    () =>
      renumber(
        example().filter(
          (e) => (e.type !== 'step.finish' && !e.type.startsWith('run.')) || e.type === 'run.start',
        ),
      ),
  ],
  [
    'step.error',
    'an error finish without its error',
    () =>
      example().map((e) =>
        e.type === 'step.finish' && e.finishReason.unified === 'stop'
          ? { ...e, finishReason: { unified: 'error' } }
          : e,
      ),
  ],
  [
    'part.not_started',
    'a delta before its start',
    () => without(example(), (e) => e.type === 'text.start'),
  ],
  [
    'part.duplicate',
    'a part started twice',
    () => {
      const e = example();
      const i = indexOf(e, (x) => x.type === 'text.start');
      e.splice(i + 1, 0, { ...e[i]! });
      return renumber(e);
    },
  ],
  [
    'part.after_end',
    'a delta after its end',
    () => {
      const e = example();
      const end = indexOf(e, (x) => x.type === 'text.end');
      const delta = e.find((x) => x.type === 'text.delta')!;
      e.splice(end + 1, 0, { ...delta });
      return renumber(e);
    },
  ],
  [
    'part.kind',
    'a reasoning delta for a text part',
    () =>
      example().map((e) =>
        e.type === 'text.delta' ? ({ ...e, type: 'reasoning.delta' } as ParleyEvent) : e,
      ),
  ],
  [
    'part.unclosed',
    'a text part never ended',
    () => without(example(), (e) => e.type === 'text.end'),
  ],
  [
    'part.unclosed',
    'a tool call never completed',
    () => without(example(), (e) => e.type === 'tool_call.complete'),
  ],
  [
    'tool_call.args',
    'argument deltas that do not join to argsText',
    () =>
      example().map((e) =>
        e.type === 'tool_call.complete'
          ? { ...e, argsText: '{"city":"Rome"}', args: { city: 'Rome' } }
          : e,
      ),
  ],
  [
    'tool_call.args',
    'a lost argument delta',
    () => without(example(), (e) => e.type === 'tool_call.delta'),
  ],
  [
    'tool_call.parse',
    'args that differ from the text',
    () =>
      example().map((e) =>
        e.type === 'tool_call.complete' ? { ...e, args: { city: 'Rome' } } : e,
      ),
  ],
  [
    'tool.result.unknown_call',
    'a result for a call never made',
    () => example().map((e) => (e.type === 'tool.result' ? { ...e, toolCallId: 'call_ghost' } : e)),
  ],
  ['terminal.missing', 'no terminal', () => example().slice(0, -1)],
  [
    'terminal.multiple',
    'two terminals',
    () => {
      const e = example();
      const last = e.at(-1)!;
      return [
        ...e,
        { ...last, seq: last.seq + 1, type: 'run.abort', reason: 'cancelled' } as ParleyEvent,
      ];
    },
  ],
  [
    'terminal.not_last',
    'an event after the terminal',
    () => {
      const e = example();
      const last = e.at(-1)!;
      return [
        ...e,
        {
          v: 1,
          seq: last.seq + 1,
          runId: last.runId,
          t: last.t,
          type: 'memory.recall',
          hits: [],
          latencyMs: 1,
        },
      ];
    },
  ],
];

describe('conformance checker', () => {
  it('accepts the example stream', () => {
    expect(checkConformance(EXAMPLE_STREAM)).toEqual([]);
    expect(() => assertConformance(EXAMPLE_STREAM)).not.toThrow();
  });

  for (const [rule, what, make] of broken) {
    it(`catches ${rule}: ${what}`, () => {
      const violations = checkConformance(make());
      expect(violations.map((v) => v.rule)).toContain(rule);
      expect(() => assertConformance(make())).toThrow(rule);
    });
  }

  it('every rule has a broken stream that triggers it', () => {
    const rules: ConformanceRule[] = [
      'schema',
      'seq.start',
      'seq.contiguous',
      't.monotonic',
      'run.id',
      'run.start',
      'step.outside',
      'step.nested',
      'step.id',
      'step.unclosed',
      'step.error',
      'part.kind',
      'part.duplicate',
      'part.not_started',
      'part.after_end',
      'part.unclosed',
      'tool_call.args',
      'tool_call.parse',
      'tool.result.unknown_call',
      'terminal.missing',
      'terminal.multiple',
      'terminal.not_last',
    ];
    expect(new Set(broken.map(([rule]) => rule))).toEqual(new Set(rules));
  });

  it('checks provider step streams without run events', () => {
    const steps = renumber(example().filter((e) => e.stepId === 'run_01JEXAMPLE.s1'));
    expect(checkConformance(steps, { scope: 'steps' })).toEqual([]);
    expect(checkConformance(steps.slice(0, -1), { scope: 'steps' }).map((v) => v.rule)).toContain(
      'step.unclosed',
    );
  });

  it('checks a resumed tail from a given seq', () => {
    const tail = example().slice(10);
    expect(
      checkConformance(tail, { firstSeq: 11, scope: 'steps' }).map((v) => v.rule),
    ).not.toContain('seq.start');
  });

  describe('a run.gap (events a stopped server showed but never stored)', () => {
    /** The example cut after its first text delta; then a gap past `window` lost seqs, then the end. */
    const crashed = (window: number) => {
      const e = example();
      const at = indexOf(e, (x) => x.type === 'text.delta');
      const kept = e.slice(0, at + 1);
      const last = kept.at(-1)!;
      // The closing server stamps the gap and the end now: after anything a client saw.
      const base = { v: 1 as const, runId: last.runId, t: e.at(-1)!.t };
      const gap = { ...base, seq: last.seq + window + 1, type: 'run.gap', afterSeq: last.seq };
      const end = { ...base, seq: gap.seq + 1, type: 'run.abort', reason: 'shutdown' };
      return { kept, gap: gap as ParleyEvent, end: end as ParleyEvent, lost: e[at + 1]! };
    };

    it('lets the stored log jump past the lost seqs', () => {
      const { kept, gap, end } = crashed(10);
      expect(checkConformance([...kept, gap, end])).toEqual([]);
    });

    it('lets a client that saw some lost events jump from where it is', () => {
      const { kept, gap, end, lost } = crashed(10);
      expect(checkConformance([...kept, lost, gap, end])).toEqual([]);
      expect(checkConformance([gap, end], { firstSeq: lost.seq + 1 })).toEqual([]);
    });

    it('lets a continued run reset the step a part of which the reader saw open (failover)', () => {
      const { kept, gap, lost } = crashed(10);
      const openStep = kept.findLast((x) => x.type === 'step.start')!.stepId!;
      const base = { v: 1 as const, runId: gap.runId, t: gap.t };
      const reset = {
        ...base,
        seq: gap.seq + 1,
        stepId: openStep,
        type: 'step.reset',
        reason: 'failover',
      };
      const abort = { ...base, seq: gap.seq + 2, type: 'run.abort', reason: 'cancelled' };
      const continued = [gap, reset, abort] as ParleyEvent[];
      // Its text part never ended for this reader: the gap may have held its end.
      expect(checkConformance([...kept, lost, ...continued])).toEqual([]);
      // The continuing instance may end the part itself (it knew it open): accepted once.
      const end = {
        ...base,
        seq: gap.seq + 1,
        partId: (lost as { partId: string }).partId,
        stepId: openStep,
        type: 'text.end',
      };
      const ended = [
        gap,
        end,
        { ...reset, seq: gap.seq + 2 },
        { ...abort, seq: gap.seq + 3 },
      ] as ParleyEvent[];
      expect(checkConformance([...kept, lost, ...ended])).toEqual([]);
      const twice = [
        ...ended.slice(0, 2),
        { ...end, seq: gap.seq + 2 },
        { ...abort, seq: gap.seq + 3 },
      ] as ParleyEvent[];
      expect(checkConformance([...kept, lost, ...twice]).map((v) => v.rule)).toContain(
        'part.after_end',
      );
      // Without the gap the same stream breaks the part rule.
      const contiguous = [reset, abort].map((x, i) => ({ ...x, seq: lost.seq + i + 1 }));
      expect(
        checkConformance([...kept, lost, ...(contiguous as ParleyEvent[])]).map((v) => v.rule),
      ).toEqual(['part.unclosed']);
    });

    it('is no licence for other jumps: a gap must start at or before the reader', () => {
      const { kept, gap, end } = crashed(10);
      const late = { ...gap, afterSeq: kept.at(-1)!.seq + 1 } as ParleyEvent;
      expect(checkConformance([...kept, late, end]).map((v) => v.rule)).toEqual(['seq.contiguous']);
      const jump = { ...end, seq: end.seq + 5 } as ParleyEvent;
      expect(checkConformance([...kept, gap, jump]).map((v) => v.rule)).toEqual(['seq.contiguous']);
    });
  });

  it('accepts an abort that cuts a step and its open parts short', () => {
    const stream = abortAfter((x) => x.type === 'text.delta' && x.stepId?.endsWith('.s2') === true);
    expect(checkConformance(stream)).toEqual([]);
  });

  it('rejects a run.finish inside an open step', () => {
    const e = example();
    const cut = indexOf(e, (x) => x.type === 'text.end' && x.stepId?.endsWith('.s2') === true);
    const finish = e.at(-1)!;
    const stream = [...e.slice(0, cut + 1), { ...finish, seq: cut + 2 }];
    expect(checkConformance(stream).map((v) => v.rule)).toContain('step.unclosed');
  });

  it('accepts a terminal that ends a step early when parts are closed', () => {
    const stream = abortAfter((x) => x.type === 'text.end' && x.stepId?.endsWith('.s2') === true);
    expect(checkConformance(stream)).toEqual([]);
  });

  it('accepts empty argument text completed as {}', () => {
    const e = example().map((x) => {
      if (x.type === 'tool_call.complete') return { ...x, args: {}, argsText: '' };
      return x;
    });
    const noDeltas = renumber(e.filter((x) => x.type !== 'tool_call.delta'));
    expect(checkConformance(noDeltas)).toEqual([]);
  });
});
