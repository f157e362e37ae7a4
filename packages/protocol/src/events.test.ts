import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  isParleyEvent,
  isTerminalEvent,
  type ParleyEvent,
  ParleyEventSchema,
  type ParleyEventType,
} from './events.ts';
import { EXAMPLE_STREAM } from './example-stream.ts';

const envelope = { v: 1, seq: 5, runId: 'run_1', t: 12.5 } as const;
const step = { ...envelope, stepId: 'run_1.s1' };
const usage = {
  inputTokens: 1,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 2,
  costSource: 'unknown',
};
const error = { code: 'overloaded', message: 'Overloaded', retryable: true, retryAfterMs: 2000 };

/** One valid example of every event type, with optional fields exercised. */
const valid: Record<ParleyEventType, Record<string, unknown>> = {
  'run.start': {
    ...envelope,
    type: 'run.start',
    agentId: 'a',
    startedAt: '2026-11-24T10:00:00Z',
    resumedAfter: 3,
  },
  'step.start': {
    ...step,
    type: 'step.start',
    stepIndex: 0,
    provider: 'anthropic',
    model: 'claude',
    attempt: 2,
  },
  'text.start': { ...step, type: 'text.start', partId: 'p', kind: 'refusal' },
  'text.delta': { ...step, type: 'text.delta', partId: 'p', delta: '' },
  'text.end': { ...step, type: 'text.end', partId: 'p' },
  'reasoning.start': { ...step, type: 'reasoning.start', partId: 'r', visibility: 'summary' },
  'reasoning.delta': { ...step, type: 'reasoning.delta', partId: 'r', delta: 'hmm' },
  'reasoning.end': {
    ...step,
    type: 'reasoning.end',
    partId: 'r',
    replay: { provider: 'anthropic', signature: 'sig' },
  },
  'tool_call.start': { ...step, type: 'tool_call.start', toolCallId: 'c', name: 'f', index: 1 },
  'tool_call.delta': { ...step, type: 'tool_call.delta', toolCallId: 'c', argsDelta: '{"a"' },
  'tool_call.complete': {
    ...step,
    type: 'tool_call.complete',
    toolCallId: 'c',
    name: 'f',
    args: { a: 1 },
    argsText: '{"a":1}',
  },
  'tool_call.invalid': {
    ...step,
    type: 'tool_call.invalid',
    toolCallId: 'c',
    name: 'f',
    argsText: '{"a',
    reason: 'not JSON',
  },
  'tool.result': {
    ...envelope,
    type: 'tool.result',
    toolCallId: 'c',
    ok: false,
    error: 'boom',
    durationMs: 3,
  },
  'tool.approval_requested': {
    ...envelope,
    type: 'tool.approval_requested',
    toolCallId: 'c',
    approvalId: 'ap',
    timeoutMs: 60000,
  },
  'memory.write': {
    ...envelope,
    type: 'memory.write',
    memoryId: 'm',
    op: 'update',
    scope: { workspaceId: 'w', userId: 'u', conversationId: 'c' },
    kind: 'fact',
    summary: 'likes tea',
    bytes: 9,
    cause: { toolCallId: 'c' },
  },
  'memory.recall': {
    ...envelope,
    type: 'memory.recall',
    hits: [],
    method: 'fulltext',
    latencyMs: 0,
  },
  'knowledge.retrieve': {
    ...envelope,
    type: 'knowledge.retrieve',
    query: 'how do I reset it?',
    method: 'hybrid',
    chunks: [{ document: 'manual.md', text: 'Hold the button.', position: 3, score: 0.03 }],
    latencyMs: 2.5,
  },
  usage: {
    ...step,
    type: 'usage',
    usage: { ...usage, reasoningTokens: 1, costUsd: 0.001, costSource: 'provider' },
  },
  'step.finish': {
    ...step,
    type: 'step.finish',
    finishReason: { unified: 'error', raw: 'error', native: 'overloaded' },
    timing: { durationMs: 10, retries: 0 },
    error,
  },
  'step.reset': { ...step, type: 'step.reset', reason: 'retry', error },
  'run.finish': {
    ...envelope,
    type: 'run.finish',
    finishReason: { unified: 'stop' },
    usage,
    timing: { durationMs: 100, ttftMs: 20, steps: 1 },
  },
  'run.error': { ...envelope, type: 'run.error', error, partial: true },
  'run.gap': { ...envelope, type: 'run.gap', afterSeq: 3 },
  'run.abort': { ...envelope, type: 'run.abort', reason: 'cancelled', by: 'usr_1' },
  'run.child': {
    ...envelope,
    type: 'run.child',
    childRunId: 'run_2',
    agent: 'worker',
    toolCallId: 'call_1',
    event: {
      v: 1,
      seq: 1,
      runId: 'run_2',
      t: 0,
      type: 'run.start',
      agentId: 'w',
      startedAt: '2026-11-24T10:00:00Z',
    },
  },
};

/** Breakages per type: each must be rejected by the schema. */
const invalid: [ParleyEventType | 'envelope', string, Record<string, unknown>][] = [
  ['envelope', 'v must be 1', { ...valid['text.end'], v: 2 }],
  ['envelope', 'seq starts at 1', { ...valid['text.end'], seq: 0 }],
  ['envelope', 'seq is an integer', { ...valid['text.end'], seq: 1.5 }],
  ['envelope', 't is not negative', { ...valid['text.end'], t: -1 }],
  ['envelope', 'runId is required', { ...valid['text.end'], runId: '' }],
  ['envelope', 'unknown type', { ...envelope, type: 'text.begin', partId: 'p' }],
  ['run.start', 'startedAt is a datetime', { ...valid['run.start'], startedAt: 'yesterday' }],
  ['run.start', 'agentId is required', { ...valid['run.start'], agentId: undefined }],
  ['step.start', 'attempt is positive', { ...valid['step.start'], attempt: 0 }],
  ['step.start', 'model is required', { ...valid['step.start'], model: undefined }],
  ['text.start', 'kind is text or refusal', { ...valid['text.start'], kind: 'shout' }],
  ['text.delta', 'delta is a string', { ...valid['text.delta'], delta: 5 }],
  ['text.end', 'partId is required', { ...valid['text.end'], partId: undefined }],
  [
    'reasoning.start',
    'visibility is an enum',
    { ...valid['reasoning.start'], visibility: 'secret' },
  ],
  ['reasoning.delta', 'delta is required', { ...valid['reasoning.delta'], delta: undefined }],
  [
    'reasoning.end',
    'replay names its provider',
    { ...valid['reasoning.end'], replay: { signature: 's' } },
  ],
  ['tool_call.start', 'index is an integer', { ...valid['tool_call.start'], index: -1 }],
  [
    'tool_call.delta',
    'argsDelta is a string',
    { ...valid['tool_call.delta'], argsDelta: { a: 1 } },
  ],
  [
    'tool_call.complete',
    'argsText is required',
    { ...valid['tool_call.complete'], argsText: undefined },
  ],
  ['tool_call.invalid', 'reason is required', { ...valid['tool_call.invalid'], reason: undefined }],
  ['tool.result', 'ok is a boolean', { ...valid['tool.result'], ok: 'yes' }],
  ['tool.result', 'durationMs is required', { ...valid['tool.result'], durationMs: undefined }],
  [
    'tool.approval_requested',
    'approvalId is required',
    { ...valid['tool.approval_requested'], approvalId: '' },
  ],
  ['memory.write', 'op is an enum', { ...valid['memory.write'], op: 'upsert' }],
  ['memory.write', 'scope has a workspace', { ...valid['memory.write'], scope: { userId: 'u' } }],
  ['memory.recall', 'hits have scores', { ...valid['memory.recall'], hits: [{ memoryId: 'm' }] }],
  [
    'knowledge.retrieve',
    'chunks name their document',
    { ...valid['knowledge.retrieve'], chunks: [{ text: 'x', position: 0, score: 1 }] },
  ],
  [
    'usage',
    'token counts are not negative',
    { ...valid.usage, usage: { ...usage, outputTokens: -1 } },
  ],
  [
    'usage',
    'costSource is required',
    { ...valid.usage, usage: { ...usage, costSource: undefined } },
  ],
  [
    'step.finish',
    'unified reason is an enum',
    { ...valid['step.finish'], finishReason: { unified: 'done' } },
  ],
  ['step.finish', 'timing has retries', { ...valid['step.finish'], timing: { durationMs: 1 } }],
  ['step.reset', 'reason is an enum', { ...valid['step.reset'], reason: 'oops' }],
  ['run.finish', 'usage is required', { ...valid['run.finish'], usage: undefined }],
  [
    'run.error',
    'error code is known',
    { ...valid['run.error'], error: { ...error, code: 'teapot' } },
  ],
  ['run.error', 'partial is required', { ...valid['run.error'], partial: undefined }],
  ['run.gap', 'afterSeq is required', { ...valid['run.gap'], afterSeq: undefined }],
  ['run.abort', 'reason is an enum', { ...valid['run.abort'], reason: 'bored' }],
  [
    'run.child',
    'the child event has a seq',
    { ...valid['run.child'], event: { type: 'run.start', runId: 'run_2' } },
  ],
];

describe('Parley Stream v1 event schemas', () => {
  it('the examples cover every event type', () => {
    expect(Object.keys(valid).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES)
      expect(
        invalid.some(([t]) => t === type),
        type,
      ).toBe(true);
  });

  for (const type of EVENT_TYPES) {
    it(`accepts a valid ${type}`, () => {
      const parsed = ParleyEventSchema.parse(valid[type]);
      expect(parsed).toEqual(valid[type]);
      expect(isParleyEvent(valid[type])).toBe(true);
    });
  }

  for (const [type, what, event] of invalid) {
    it(`rejects ${type}: ${what}`, () => {
      expect(ParleyEventSchema.safeParse(event).success).toBe(false);
      expect(isParleyEvent(event)).toBe(false);
    });
  }

  it('ignores unknown fields so v1 can grow', () => {
    const parsed = ParleyEventSchema.parse({
      ...valid['text.delta'],
      future: 'field',
    }) as ParleyEvent;
    expect(parsed).toEqual(valid['text.delta']);
  });

  it('knows its terminals', () => {
    const terminals = EVENT_TYPES.filter((type) => isTerminalEvent({ type }));
    expect(terminals.sort()).toEqual(['run.abort', 'run.error', 'run.finish']);
  });

  it('the example stream is made of valid events', () => {
    for (const event of EXAMPLE_STREAM)
      expect(ParleyEventSchema.safeParse(event).success).toBe(true);
  });
});
