import type { ParleyError } from './errors.ts';
import type { EventOf, ParleyEvent, RunTiming, StepTiming } from './events.ts';
import type { FinishReason } from './finish-reason.ts';
import { addUsage, emptyUsage, type Usage } from './usage.ts';

export interface TextPart {
  kind: 'text' | 'refusal';
  partId: string;
  stepId?: string;
  text: string;
  done: boolean;
}

export interface ReasoningPart {
  kind: 'reasoning';
  partId: string;
  stepId?: string;
  visibility: EventOf<'reasoning.start'>['visibility'];
  text: string;
  done: boolean;
  replay?: EventOf<'reasoning.end'>['replay'];
}

export type ToolCallStatus =
  | 'streaming'
  | 'ready'
  | 'invalid'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed';

export interface ToolCallPart {
  kind: 'tool_call';
  toolCallId: string;
  stepId?: string;
  name: string;
  index: number;
  argsText: string;
  args?: unknown;
  status: ToolCallStatus;
  invalidReason?: string;
  approvalId?: string;
  result?: { ok: boolean; output?: unknown; error?: string; durationMs: number };
}

export type MessagePart = TextPart | ReasoningPart | ToolCallPart;

export interface StepState {
  stepId: string;
  stepIndex: number;
  provider: string;
  model: string;
  attempt: number;
  status: 'streaming' | 'finished' | 'reset';
  finishReason?: FinishReason;
  usage?: Usage;
  timing?: StepTiming;
  error?: ParleyError;
}

/** What a client knows about one run after folding its events. */
export interface StreamState {
  runId?: string;
  agentId?: string;
  /** Highest seq applied; events at or below it are ignored, so replays are idempotent. */
  lastSeq: number;
  status: 'idle' | 'streaming' | 'finished' | 'failed' | 'aborted';
  parts: MessagePart[];
  steps: StepState[];
  memoryWrites: EventOf<'memory.write'>[];
  memoryRecalls: EventOf<'memory.recall'>[];
  /** Knowledge-base chunks retrieved into the context (`knowledge.retrieve`). */
  knowledgeRetrievals: EventOf<'knowledge.retrieve'>[];
  finishReason?: FinishReason;
  /** The run's usage from `run.finish`; before that, see `usageOf()`. */
  runUsage?: Usage;
  timing?: RunTiming;
  error?: ParleyError;
  partial?: boolean;
  abort?: { reason: EventOf<'run.abort'>['reason']; by?: string };
  /**
   * Set by `run.gap`: events after this seq were never stored. When `lastSeq` before the gap
   * was higher, this state holds output the run did not keep: read the log again to show it.
   */
  lostAfterSeq?: number;
  /**
   * The child runs this run started (agents called as tools, handoffs), in the order they
   * started, each folded from its own events (`run.child`): docs/multi-agent.md.
   */
  children: ChildRunState[];
}

/** A child run folded under its parent. */
export interface ChildRunState {
  childRunId: string;
  /** The name of the agent it executes. */
  agent: string;
  /** The parent's tool call that started it. */
  toolCallId?: string;
  state: StreamState;
}

export function initialStreamState(): StreamState {
  return {
    lastSeq: 0,
    status: 'idle',
    parts: [],
    steps: [],
    memoryWrites: [],
    memoryRecalls: [],
    knowledgeRetrievals: [],
    children: [],
  };
}

function partKey(part: MessagePart): string {
  return part.kind === 'tool_call' ? part.toolCallId : part.partId;
}

function updatePart<P extends MessagePart>(
  state: StreamState,
  id: string,
  update: (part: P) => P,
): StreamState {
  const index = state.parts.findIndex((part) => partKey(part) === id);
  if (index < 0) return state;
  const parts = state.parts.slice();
  parts[index] = update(parts[index] as P);
  return { ...state, parts };
}

function updateStep(
  state: StreamState,
  stepId: string | undefined,
  update: (s: StepState) => StepState,
) {
  const index = state.steps.findLastIndex((step) => step.stepId === stepId);
  if (index < 0) return state;
  const steps = state.steps.slice();
  steps[index] = update(steps[index]!);
  return { ...state, steps };
}

/**
 * Folds one event into the state and returns the new state (the old one is not modified).
 * Events with `seq <= lastSeq`, from another run, or of unknown types return the state as is.
 */
export function reduceEvent(state: StreamState, event: ParleyEvent): StreamState {
  if (event.seq <= state.lastSeq) return state;
  if (state.runId !== undefined && event.runId !== state.runId) return state;
  const next = applyEvent({ ...state, lastSeq: event.seq, runId: event.runId }, event);
  return next;
}

function applyEvent(state: StreamState, event: ParleyEvent): StreamState {
  const stepId = event.stepId;
  switch (event.type) {
    case 'run.start':
      return { ...state, agentId: event.agentId, status: 'streaming' };
    case 'step.start':
      return {
        ...state,
        status: 'streaming',
        steps: [
          ...state.steps,
          {
            stepId: stepId ?? `step-${event.seq}`,
            stepIndex: event.stepIndex,
            provider: event.provider,
            model: event.model,
            attempt: event.attempt,
            status: 'streaming',
          },
        ],
      };
    case 'text.start':
      return {
        ...state,
        parts: [
          ...state.parts,
          { kind: event.kind ?? 'text', partId: event.partId, stepId, text: '', done: false },
        ],
      };
    case 'text.delta':
    case 'reasoning.delta':
      return updatePart<TextPart | ReasoningPart>(state, event.partId, (part) => ({
        ...part,
        text: part.text + event.delta,
      }));
    case 'text.end':
      return updatePart<TextPart>(state, event.partId, (part) => ({ ...part, done: true }));
    case 'reasoning.start':
      return {
        ...state,
        parts: [
          ...state.parts,
          {
            kind: 'reasoning',
            partId: event.partId,
            stepId,
            visibility: event.visibility,
            text: '',
            done: false,
          },
        ],
      };
    case 'reasoning.end':
      return updatePart<ReasoningPart>(state, event.partId, (part) =>
        event.replay ? { ...part, done: true, replay: event.replay } : { ...part, done: true },
      );
    case 'tool_call.start':
      return {
        ...state,
        parts: [
          ...state.parts,
          {
            kind: 'tool_call',
            toolCallId: event.toolCallId,
            stepId,
            name: event.name,
            index: event.index,
            argsText: '',
            status: 'streaming',
          },
        ],
      };
    case 'tool_call.delta':
      return updatePart<ToolCallPart>(state, event.toolCallId, (part) => ({
        ...part,
        argsText: part.argsText + event.argsDelta,
      }));
    case 'tool_call.complete':
      return updatePart<ToolCallPart>(state, event.toolCallId, (part) => ({
        ...part,
        name: event.name,
        argsText: event.argsText,
        args: event.args,
        status: 'ready',
      }));
    case 'tool_call.invalid':
      return updatePart<ToolCallPart>(state, event.toolCallId, (part) => ({
        ...part,
        argsText: event.argsText,
        status: 'invalid',
        invalidReason: event.reason,
      }));
    case 'tool.approval_requested':
      return updatePart<ToolCallPart>(state, event.toolCallId, (part) => ({
        ...part,
        status: 'awaiting_approval',
        approvalId: event.approvalId,
      }));
    case 'tool.result': {
      const result: ToolCallPart['result'] = { ok: event.ok, durationMs: event.durationMs };
      if (event.output !== undefined) result.output = event.output;
      if (event.error !== undefined) result.error = event.error;
      return updatePart<ToolCallPart>(state, event.toolCallId, (part) => ({
        ...part,
        status: event.ok ? 'succeeded' : 'failed',
        result,
      }));
    }
    case 'memory.write':
      return { ...state, memoryWrites: [...state.memoryWrites, event] };
    case 'memory.recall':
      return { ...state, memoryRecalls: [...state.memoryRecalls, event] };
    case 'knowledge.retrieve':
      return { ...state, knowledgeRetrievals: [...state.knowledgeRetrievals, event] };
    case 'usage':
      return updateStep(state, stepId, (step) => ({ ...step, usage: event.usage }));
    case 'step.finish':
      return updateStep(state, stepId, (step) => {
        const done: StepState = {
          ...step,
          status: 'finished',
          finishReason: event.finishReason,
          timing: event.timing,
        };
        const usage = event.usage ?? step.usage;
        if (usage) done.usage = usage;
        if (event.error) done.error = event.error;
        return done;
      });
    case 'step.reset': {
      const kept = state.parts.filter((part) => part.stepId !== stepId);
      return updateStep({ ...state, parts: kept }, stepId, (step) => ({
        ...step,
        status: 'reset',
      }));
    }
    case 'run.finish':
      return {
        ...state,
        status: 'finished',
        finishReason: event.finishReason,
        runUsage: event.usage,
        timing: event.timing,
      };
    case 'run.error':
      return { ...state, status: 'failed', error: event.error, partial: event.partial };
    case 'run.gap':
      return { ...state, lostAfterSeq: event.afterSeq };
    case 'run.abort':
      return {
        ...state,
        status: 'aborted',
        abort:
          event.by === undefined
            ? { reason: event.reason }
            : { reason: event.reason, by: event.by },
      };
    case 'run.child':
      return foldChild(state, event);
    default:
      return state;
  }
}

/** Folds a child run's event into its own state, under the parent. */
function foldChild(state: StreamState, event: EventOf<'run.child'>): StreamState {
  const children = state.children.slice();
  let index = children.findIndex((child) => child.childRunId === event.childRunId);
  if (index < 0) {
    index = children.length;
    children.push({
      childRunId: event.childRunId,
      agent: event.agent,
      ...(event.toolCallId ? { toolCallId: event.toolCallId } : {}),
      state: initialStreamState(),
    });
  }
  const child = children[index]!;
  children[index] = { ...child, state: reduceEvent(child.state, event.event as ParleyEvent) };
  return { ...state, children };
}

/** Folds a whole sequence of events from the initial state. */
export function reduceEvents(
  events: Iterable<ParleyEvent>,
  from = initialStreamState(),
): StreamState {
  let state = from;
  for (const event of events) state = reduceEvent(state, event);
  return state;
}

/** The assistant's visible text (refusals excluded), in stream order. */
export function textOf(state: StreamState): string {
  return joinParts(state, 'text');
}
export function refusalOf(state: StreamState): string {
  return joinParts(state, 'refusal');
}
export function reasoningOf(state: StreamState): string {
  return joinParts(state, 'reasoning');
}
export function toolCallsOf(state: StreamState): ToolCallPart[] {
  return state.parts.filter((part): part is ToolCallPart => part.kind === 'tool_call');
}

function joinParts(state: StreamState, kind: 'text' | 'refusal' | 'reasoning'): string {
  let out = '';
  for (const part of state.parts) if (part.kind === kind) out += part.text;
  return out;
}

/** The run's usage: `run.finish` when it arrived, else the sum of the finished steps so far. */
export function usageOf(state: StreamState): Usage {
  if (state.runUsage) return state.runUsage;
  let total = emptyUsage();
  for (const step of state.steps)
    if (step.status !== 'reset' && step.usage) total = addUsage(total, step.usage);
  return total;
}
