import {
  addUsage,
  emptyUsage,
  type ParleyEvent,
  type ParleyEventPayload,
  type Usage,
} from '@parley/protocol';
import type { AssistantReasoning, AssistantToolCall, ModelMessage } from '@parley/providers';

/** A tool call of the last finished step whose result the log never got. */
export interface UnresolvedCall {
  id: string;
  name: string;
  args: unknown;
}

/**
 * Where a run stands in its stored log, for the instance that continues it after its own
 * stopped (failover): what the model must be told again, and how to number what comes next.
 */
export interface ResumePoint {
  /** The last stored event's seq and t. */
  lastSeq: number;
  lastT: number;
  /** step.start events so far (step ids go on from here). */
  stepOrdinal: number;
  /** A step that started and neither finished nor was reset: it is reset (`failover`). */
  openStep?: { stepId: string; attempt: number };
  /** Parts of the open step that never ended (they are ended before its reset). */
  openParts: OpenPart[];
  /** Steps that finished: the next model call is step `finishedSteps`. */
  finishedSteps: number;
  /** The assistant and tool messages of the finished steps, in order (the run's own turn). */
  messages: ModelMessage[];
  /** Tool calls of the last finished step without a stored result. */
  unresolved: UnresolvedCall[];
  usage: Usage;
  /** The text of the finished steps. */
  output: string;
  /** Whether the log already ended (nothing to continue). */
  ended: boolean;
}

/** A part the stopped instance started and never ended. */
export type OpenPart =
  | { kind: 'text' | 'reasoning'; partId: string }
  | { kind: 'tool_call'; toolCallId: string; name: string; argsText: string };

interface StepDraft {
  text: string;
  reasoning: Map<string, AssistantReasoning>;
  calls: (AssistantToolCall & { invalid?: string })[];
}

/** Reads a stored log (in seq order) into the point a run continues from. */
export function resumePointOf(log: readonly ParleyEvent[]): ResumePoint {
  const point: ResumePoint = {
    lastSeq: log.at(-1)?.seq ?? 0,
    lastT: log.at(-1)?.t ?? 0,
    stepOrdinal: 0,
    finishedSteps: 0,
    messages: [],
    unresolved: [],
    usage: emptyUsage(),
    output: '',
    ended: false,
    openParts: [],
  };
  const open = new Map<string, OpenPart>();
  let step: StepDraft | undefined;
  let attempt = 1;
  /** Calls of the last finished step awaiting results, in the model's order. */
  let awaiting: (AssistantToolCall & { invalid?: string })[] = [];
  const results = new Map<string, ModelMessage>();

  const settleAwaiting = () => {
    for (const call of awaiting) {
      const result = results.get(call.id);
      if (result) point.messages.push(result);
    }
    awaiting = [];
    results.clear();
  };

  for (const event of log) {
    switch (event.type) {
      case 'step.start':
        settleAwaiting();
        point.stepOrdinal++;
        attempt = event.attempt;
        step = { text: '', reasoning: new Map(), calls: [] };
        point.openStep = { stepId: event.stepId ?? '', attempt };
        open.clear();
        break;
      case 'text.start':
      case 'reasoning.start':
        open.set(event.partId, {
          kind: event.type === 'text.start' ? 'text' : 'reasoning',
          partId: event.partId,
        });
        break;
      case 'text.end':
        open.delete(event.partId);
        break;
      case 'tool_call.start':
        open.set(event.toolCallId, {
          kind: 'tool_call',
          toolCallId: event.toolCallId,
          name: event.name,
          argsText: '',
        });
        break;
      case 'tool_call.delta': {
        const part = open.get(event.toolCallId);
        if (part?.kind === 'tool_call') part.argsText += event.argsDelta;
        break;
      }
      case 'text.delta':
        if (step) step.text += event.delta;
        break;
      case 'reasoning.delta':
        if (step) {
          const part = step.reasoning.get(event.partId) ?? { text: '' };
          part.text += event.delta;
          step.reasoning.set(event.partId, part);
        }
        break;
      case 'reasoning.end':
        open.delete(event.partId);
        if (step && event.replay)
          step.reasoning.set(event.partId, {
            text: step.reasoning.get(event.partId)?.text ?? '',
            replay: event.replay,
          });
        break;
      case 'tool_call.complete':
        open.delete(event.toolCallId);
        step?.calls.push({ id: event.toolCallId, name: event.name, args: event.args ?? {} });
        break;
      case 'tool_call.invalid':
        open.delete(event.toolCallId);
        step?.calls.push({
          id: event.toolCallId,
          name: event.name,
          args: {},
          invalid: event.reason,
        });
        break;
      case 'step.reset':
        step = undefined;
        point.openStep = undefined;
        open.clear();
        break;
      case 'step.finish':
        if (event.usage) point.usage = addUsage(point.usage, event.usage);
        if (step && !event.error) finishStep(point, step, (calls) => (awaiting = calls), results);
        step = undefined;
        point.openStep = undefined;
        open.clear();
        break;
      case 'tool.result':
        results.set(event.toolCallId, toolMessage(awaiting, event));
        break;
      case 'run.finish':
      case 'run.error':
      case 'run.abort':
        point.ended = true;
        break;
      default:
        break;
    }
  }
  if (point.openStep) point.openParts = [...open.values()];
  // The last finished step's calls: stored results join the messages, the rest are unresolved.
  for (const call of awaiting) {
    const result = results.get(call.id);
    if (result) point.messages.push(result);
    else if (call.invalid) point.messages.push(invalidCallMessage(call));
    else point.unresolved.push({ id: call.id, name: call.name, args: call.args });
  }
  return point;
}

function finishStep(
  point: ResumePoint,
  step: StepDraft,
  setAwaiting: (calls: (AssistantToolCall & { invalid?: string })[]) => void,
  results: Map<string, ModelMessage>,
) {
  point.finishedSteps++;
  point.output += step.text;
  const calls = step.calls.map(({ id, name, args }) => ({ id, name, args }));
  point.messages.push({
    role: 'assistant',
    content: step.text,
    ...(calls.length ? { toolCalls: calls } : {}),
    ...(step.reasoning.size ? { reasoning: [...step.reasoning.values()] } : {}),
  });
  // Invalid calls get their error message at once (no tool.result is ever stored for them).
  for (const call of step.calls) if (call.invalid) results.set(call.id, invalidCallMessage(call));
  setAwaiting(step.calls);
}

function invalidCallMessage(call: { id: string; name: string; invalid?: string }): ModelMessage {
  return {
    role: 'tool',
    toolCallId: call.id,
    name: call.name,
    isError: true,
    content: `Error: ${call.invalid}. Fix the arguments and call the tool again.`,
  };
}

function toolMessage(
  calls: readonly { id: string; name: string }[],
  event: Extract<ParleyEvent, { type: 'tool.result' }>,
): ModelMessage {
  const name = calls.find((c) => c.id === event.toolCallId)?.name ?? '';
  return {
    role: 'tool',
    toolCallId: event.toolCallId,
    name,
    ...(event.ok
      ? { content: JSON.stringify(event.output ?? null) }
      : { content: `Error: ${event.error}`, isError: true }),
  };
}

/**
 * The first events of a continued run: `run.gap` when the stopped instance may have shown
 * events it never stored (the seqs up to `gapUpTo` are never reused), then `step.reset`
 * (reason `failover`) for the step it left open.
 */
export function* resumeHead(
  resume: { point: ResumePoint; gapUpTo?: number },
  emit: (payload: ParleyEventPayload) => ParleyEvent,
): Generator<ParleyEvent> {
  if (resume.gapUpTo !== undefined && resume.gapUpTo > resume.point.lastSeq)
    yield emit({ type: 'run.gap', afterSeq: Math.max(resume.point.lastSeq, 1) });
  if (!resume.point.openStep) return;
  // Parts the stopped instance left open end first (a tool call's arguments were cut short).
  for (const part of resume.point.openParts) {
    if (part.kind === 'tool_call')
      yield emit({
        type: 'tool_call.invalid',
        toolCallId: part.toolCallId,
        name: part.name,
        argsText: part.argsText,
        reason: 'interrupted: the server streaming this call stopped',
      });
    else
      yield emit({
        type: part.kind === 'text' ? 'text.end' : 'reasoning.end',
        partId: part.partId,
      });
  }
  yield emit({ type: 'step.reset', reason: 'failover' });
}
