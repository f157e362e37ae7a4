import { isStepEventType, isTerminalEvent, type ParleyEvent, ParleyEventSchema } from './events.ts';
import { jsonEqual } from './json-equal.ts';

/** One broken invariant, pointing at the event (by position and seq) where it was seen. */
export interface Violation {
  rule: ConformanceRule;
  message: string;
  index: number;
  seq?: number;
}

export type ConformanceRule =
  | 'schema'
  | 'seq.start'
  | 'seq.contiguous'
  | 't.monotonic'
  | 'run.id'
  | 'run.start'
  | 'step.outside'
  | 'step.nested'
  | 'step.id'
  | 'step.unclosed'
  | 'step.error'
  | 'part.kind'
  | 'part.duplicate'
  | 'part.not_started'
  | 'part.after_end'
  | 'part.unclosed'
  | 'tool_call.args'
  | 'tool_call.parse'
  | 'tool.result.unknown_call'
  | 'terminal.missing'
  | 'terminal.multiple'
  | 'terminal.not_last'
  | 'child.run_id'
  | 'child.unfinished';

export interface ConformanceOptions {
  /**
   * `run` (default): a whole run stream, from `run.start` to exactly one terminal.
   * `steps`: step-level events only, as a provider adapter produces them (no run events).
   */
  scope?: 'run' | 'steps';
  /** Expect the first seq to be this (default 1). Use `lastSeq + 1` for a resumed tail. */
  firstSeq?: number;
}

type PartKind = 'text' | 'reasoning' | 'tool_call';
interface PartState {
  kind: PartKind;
  stepId: string | undefined;
  open: boolean;
  /** A `run.gap` came while it was open: its end may have been lost, or may still come. */
  cut?: boolean;
  args: string;
}

const partKindOf: Record<string, [PartKind, 'start' | 'delta' | 'end']> = {
  'text.start': ['text', 'start'],
  'text.delta': ['text', 'delta'],
  'text.end': ['text', 'end'],
  'reasoning.start': ['reasoning', 'start'],
  'reasoning.delta': ['reasoning', 'delta'],
  'reasoning.end': ['reasoning', 'end'],
  'tool_call.start': ['tool_call', 'start'],
  'tool_call.delta': ['tool_call', 'delta'],
  'tool_call.complete': ['tool_call', 'end'],
  'tool_call.invalid': ['tool_call', 'end'],
};

function partIdOf(event: ParleyEvent): string {
  return 'partId' in event ? event.partId : (event as { toolCallId: string }).toolCallId;
}

/**
 * Checks a sequence of events against every Parley Stream v1 invariant and returns all
 * violations (empty when the stream conforms). Every stream test in the repo runs this.
 */
export function checkConformance(
  events: readonly unknown[],
  options: ConformanceOptions = {},
): Violation[] {
  const scope = options.scope ?? 'run';
  const violations: Violation[] = [];
  const parts = new Map<string, PartState>();
  const completedCalls = new Set<string>();
  let openStep: string | undefined;
  /**
   * After a `run.gap` the reader cannot know which step the lost events left open: the next
   * step event names it (and a step.start may follow without a nesting report).
   */
  let stepUnknown = false;
  let prev: ParleyEvent | undefined;
  let runId: string | undefined;
  let terminalIndex = -1;
  const children = createChildStreams();

  const report = (rule: ConformanceRule, index: number, message: string, seq?: number) =>
    violations.push(seq === undefined ? { rule, message, index } : { rule, message, index, seq });

  const closeStepParts = (index: number, seq: number, why: string) => {
    for (const [id, part] of parts) {
      if (part.open && part.stepId === openStep) {
        report('part.unclosed', index, `${part.kind} part ${id} is still open at ${why}`, seq);
        part.open = false;
      }
    }
  };

  events.forEach((raw, index) => {
    const parsed = ParleyEventSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const seq = (raw as { seq?: unknown })?.seq;
      report(
        'schema',
        index,
        `not a valid v1 event: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
        typeof seq === 'number' ? seq : undefined,
      );
      return;
    }
    const event = parsed.data;
    const { seq } = event;

    if (prev === undefined) {
      const first = options.firstSeq ?? 1;
      if (seq !== first && !gapCovers(event, first - 1))
        report('seq.start', index, `first seq is ${seq}, expected ${first}`, seq);
    } else {
      if (seq !== prev.seq + 1 && !gapCovers(event, prev.seq))
        report('seq.contiguous', index, `seq ${seq} follows ${prev.seq}`, seq);
      if (event.t < prev.t) report('t.monotonic', index, `t ${event.t} < previous ${prev.t}`, seq);
    }
    runId ??= event.runId;
    if (event.runId !== runId)
      report('run.id', index, `runId ${event.runId} differs from ${runId}`, seq);

    if (terminalIndex >= 0) {
      report(
        isTerminalEvent(event) ? 'terminal.multiple' : 'terminal.not_last',
        index,
        `${event.type} after the terminal event at index ${terminalIndex}`,
        seq,
      );
    }

    if (
      scope === 'run' &&
      index === 0 &&
      event.type !== 'run.start' &&
      options.firstSeq === undefined
    )
      report('run.start', index, `the first event is ${event.type}, not run.start`, seq);
    if (scope === 'run' && index > 0 && event.type === 'run.start')
      report('run.start', index, 'run.start appears twice', seq);

    if (event.type === 'run.gap') {
      // Parts may have ended among the lost events: for this reader they are interrupted, and
      // the instance continuing the run may still end them.
      for (const part of parts.values())
        if (part.open) {
          part.open = false;
          part.cut = true;
        }
      stepUnknown = true;
    }

    // Step structure.
    if (stepUnknown && (event.type === 'step.start' || isStepEventType(event.type))) {
      stepUnknown = false;
      openStep = event.type === 'step.start' ? undefined : (event.stepId ?? `#${index}`);
    }
    if (event.type === 'step.start') {
      if (openStep !== undefined)
        report('step.nested', index, `step ${event.stepId ?? '?'} starts inside ${openStep}`, seq);
      openStep = event.stepId ?? `#${index}`;
      if (event.stepId === undefined) report('step.id', index, 'step.start has no stepId', seq);
    } else if (isStepEventType(event.type)) {
      if (openStep === undefined) {
        report('step.outside', index, `${event.type} outside any step`, seq);
      } else if (event.stepId !== undefined && event.stepId !== openStep) {
        report(
          'step.id',
          index,
          `${event.type} has stepId ${event.stepId}, open step is ${openStep}`,
          seq,
        );
      } else if (event.stepId === undefined) {
        report('step.id', index, `${event.type} has no stepId`, seq);
      }
    }

    // Part pairing.
    const kind = partKindOf[event.type];
    if (kind) {
      const [partKind, phase] = kind;
      const id = partIdOf(event);
      const part = parts.get(id);
      if (phase === 'start') {
        if (part) report('part.duplicate', index, `${partKind} part ${id} started twice`, seq);
        else parts.set(id, { kind: partKind, stepId: openStep, open: true, args: '' });
      } else if (!part) {
        report('part.not_started', index, `${event.type} for ${id} before its start`, seq);
      } else if (part.kind !== partKind) {
        report('part.kind', index, `${event.type} for ${id}, which is a ${part.kind} part`, seq);
      } else if (!part.open && part.cut && phase === 'end') {
        part.cut = false;
      } else if (!part.open) {
        report('part.after_end', index, `${event.type} for ${id} after it ended`, seq);
      } else if (phase === 'delta') {
        if (event.type === 'tool_call.delta') part.args += event.argsDelta;
      } else {
        part.open = false;
        if (event.type === 'tool_call.complete' || event.type === 'tool_call.invalid') {
          if (part.args !== event.argsText)
            report(
              'tool_call.args',
              index,
              `argument deltas of ${id} join to ${JSON.stringify(part.args)}, argsText is ${JSON.stringify(event.argsText)}`,
              seq,
            );
        }
        if (event.type === 'tool_call.complete') {
          completedCalls.add(id);
          checkParsedArgs(event.argsText, event.args, (m) =>
            report('tool_call.parse', index, `${id}: ${m}`, seq),
          );
        }
      }
    }

    if (event.type === 'tool.result' && !completedCalls.has(event.toolCallId))
      report(
        'tool.result.unknown_call',
        index,
        `result for ${event.toolCallId}, never completed`,
        seq,
      );

    if (event.type === 'step.finish') {
      const isError = event.finishReason.unified === 'error';
      if (isError !== (event.error !== undefined))
        report(
          'step.error',
          index,
          'step.finish carries an error exactly when its reason is error',
          seq,
        );
    }
    if (event.type === 'step.finish' || event.type === 'step.reset') {
      closeStepParts(index, seq, event.type);
      openStep = undefined;
    }

    if (event.type === 'run.child') children.add(event, index);
    if (event.type === 'run.finish') children.requireEnded(index, seq, report);

    if (isTerminalEvent(event)) {
      // A terminal ends everything: a run.abort or run.error may cut a step and its open parts
      // short (clients mark them interrupted), but a run.finish must follow finished steps.
      if (event.type === 'run.finish') {
        if (openStep !== undefined && !stepUnknown)
          report('step.unclosed', index, `run.finish inside step ${openStep}`, seq);
        closeStepParts(index, seq, event.type);
      }
      openStep = undefined;
      for (const part of parts.values()) part.open = false;
      if (terminalIndex < 0) terminalIndex = index;
    }
    prev = event;
  });

  // A run.abort or run.error may cut a child short (its own log still ends it).
  const cut = terminalIndex >= 0 && (events[terminalIndex] as ParleyEvent).type !== 'run.finish';
  children.check(report, cut);
  const endIndex = events.length;
  if (stepUnknown) openStep = undefined;
  if (openStep !== undefined && scope === 'steps')
    report('step.unclosed', endIndex, `step ${openStep} never finished`);
  if (scope === 'run') {
    if (openStep !== undefined)
      report('step.unclosed', endIndex, `step ${openStep} never finished`);
    if (terminalIndex < 0)
      report('terminal.missing', endIndex, 'the stream has no run.finish, run.error or run.abort');
  }
  return violations;
}

/**
 * The child runs' streams carried in a parent's `run.child` events: each is a stream of its
 * own (its seq from 1, its own steps, exactly one terminal), checked by the same rules, its
 * violations reported at the parent's event that carried them. A parent's `run.finish`
 * comes after every child ended (a cancel or an error may cut a child short).
 */
function createChildStreams() {
  const streams = new Map<string, { events: unknown[]; at: number[]; ended: boolean }>();
  type Report = (rule: ConformanceRule, index: number, message: string, seq?: number) => void;
  return {
    add(event: Extract<ParleyEvent, { type: 'run.child' }>, index: number) {
      const stream = streams.get(event.childRunId) ?? { events: [], at: [], ended: false };
      streams.set(event.childRunId, stream);
      stream.events.push(event.event);
      stream.at.push(index);
      if (isTerminalEvent(event.event as ParleyEvent)) stream.ended = true;
    },
    requireEnded(index: number, seq: number, report: Report) {
      for (const [childRunId, stream] of streams)
        if (!stream.ended)
          report('child.unfinished', index, `run.finish before child run ${childRunId} ended`, seq);
    },
    check(report: Report, cut: boolean) {
      for (const [childRunId, stream] of streams) {
        const first = (stream.events[0] as { seq?: number }).seq ?? 1;
        // A resumed parent's tail may start inside a child's stream.
        const options = first > 1 ? { firstSeq: first } : {};
        for (const v of checkConformance(stream.events, options)) {
          if (cut && !stream.ended && (v.rule === 'terminal.missing' || v.rule === 'step.unclosed'))
            continue;
          report(
            v.rule,
            stream.at[v.index] ?? stream.at.at(-1)!,
            `child run ${childRunId}: ${v.message}`,
            v.seq,
          );
        }
        stream.events.forEach((raw, i) => {
          const runId = (raw as { runId?: unknown }).runId;
          if (runId !== childRunId)
            report(
              'child.run_id',
              stream.at[i]!,
              `run.child for ${childRunId} carries an event of run ${String(runId)}`,
            );
        });
      }
    },
  };
}

/**
 * Whether `event` is a `run.gap` a stream may jump to from `seq`: the gap starts at or before
 * it (the reader saw none, or some, of the lost events) and the gap event comes after it.
 */
function gapCovers(event: ParleyEvent, seq: number): boolean {
  return event.type === 'run.gap' && event.afterSeq <= seq && event.seq > seq;
}

function checkParsedArgs(argsText: string, args: unknown, fail: (message: string) => void) {
  if (argsText.trim() === '') {
    if (!jsonEqual(args, {})) fail('empty argument text must give {}');
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(argsText);
  } catch {
    fail('argsText of a complete call is not JSON (it should have been tool_call.invalid)');
    return;
  }
  if (!jsonEqual(parsed, args)) fail('args differ from JSON.parse(argsText)');
}

/** Throws with every violation listed; handy in tests (`assertConformance(events)`). */
export function assertConformance(events: readonly unknown[], options?: ConformanceOptions): void {
  const violations = checkConformance(events, options);
  if (violations.length > 0) {
    const lines = violations.map(
      (v) => `  [${v.rule}] #${v.index}${v.seq ? ` seq ${v.seq}` : ''}: ${v.message}`,
    );
    throw new Error(`stream violates Parley Stream v1:\n${lines.join('\n')}`);
  }
}
