import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ParleyEvent, ParleyEventPayload } from './events.ts';
import { EXAMPLE_STREAM } from './example-stream.ts';
import {
  initialStreamState,
  reasoningOf,
  reduceEvent,
  reduceEvents,
  refusalOf,
  textOf,
  toolCallsOf,
  usageOf,
} from './reducer.ts';
import { createEventStamper } from './stamper.ts';

function stamped(payloads: ParleyEventPayload[]): ParleyEvent[] {
  let clock = 0;
  const stamper = createEventStamper({ runId: 'run_t', now: () => (clock += 1) });
  return payloads.map((p) => stamper.stamp(p));
}

const usage = (outputTokens: number) => ({
  inputTokens: 10,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens,
  costSource: 'unknown' as const,
});

describe('stream reducer', () => {
  it('folds the example run into a message', () => {
    const state = reduceEvents(EXAMPLE_STREAM);
    expect(state.status).toBe('finished');
    expect(textOf(state)).toBe('Let me check the weather.It is 14 °C and cloudy in Paris.');
    expect(toolCallsOf(state)).toEqual([
      expect.objectContaining({
        toolCallId: 'call_1',
        name: 'get_weather',
        args: { city: 'Paris' },
        argsText: '{"city":"Paris"}',
        status: 'succeeded',
        result: { ok: true, output: { tempC: 14, sky: 'cloudy' }, durationMs: 46 },
      }),
    ]);
    expect(state.steps.map((s) => s.finishReason?.unified)).toEqual(['tool-calls', 'stop']);
    expect(usageOf(state)).toMatchObject({ inputTokens: 882, outputTokens: 49 });
    expect(state.memoryWrites).toHaveLength(1);
    expect(state.memoryRecalls[0]?.hits).toEqual([{ memoryId: 'mem_7', score: 0.82 }]);
    expect(state.lastSeq).toBe(EXAMPLE_STREAM.length);
  });

  it('sums step usage until run.finish arrives', () => {
    const withoutTerminal = reduceEvents(EXAMPLE_STREAM.slice(0, -1));
    expect(usageOf(withoutTerminal)).toMatchObject({
      inputTokens: 882,
      cachedInputTokens: 384,
      outputTokens: 49,
    });
    expect(withoutTerminal.status).toBe('streaming');
  });

  it('is idempotent under replay: events at or below lastSeq are ignored', () => {
    const once = reduceEvents(EXAMPLE_STREAM);
    expect(reduceEvents(EXAMPLE_STREAM, once)).toBe(once);
    // A client that saw seq 1..k and resumes with an overlapping replay ends in the same state.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: EXAMPLE_STREAM.length }),
        fc.integer({ min: 0, max: 5 }),
        (k, overlap) => {
          const first = reduceEvents(EXAMPLE_STREAM.slice(0, k));
          const resumed = reduceEvents(EXAMPLE_STREAM.slice(Math.max(0, k - overlap)), first);
          expect(resumed).toEqual(once);
        },
      ),
    );
  });

  it('never mutates the state it is given', () => {
    const before = reduceEvents(EXAMPLE_STREAM.slice(0, 6));
    const snapshot = structuredClone(before);
    reduceEvent(before, EXAMPLE_STREAM[6]!);
    expect(before).toEqual(snapshot);
  });

  it('drops a reset step and keeps the retry', () => {
    const events = stamped([
      { type: 'run.start', agentId: 'a', startedAt: '2026-11-24T10:00:00Z' },
      { type: 'step.start', stepIndex: 0, provider: 'anthropic', model: 'm', attempt: 1 },
      { type: 'text.start', partId: 'x' },
      { type: 'text.delta', partId: 'x', delta: 'partial that will vanish' },
      { type: 'text.end', partId: 'x' },
      { type: 'step.reset', reason: 'retry' },
      { type: 'step.start', stepIndex: 0, provider: 'anthropic', model: 'm', attempt: 2 },
      { type: 'text.start', partId: 'y' },
      { type: 'text.delta', partId: 'y', delta: 'final' },
      { type: 'text.end', partId: 'y' },
      {
        type: 'step.finish',
        finishReason: { unified: 'stop' },
        usage: usage(1),
        timing: { durationMs: 1, retries: 1 },
      },
      {
        type: 'run.finish',
        finishReason: { unified: 'stop' },
        usage: usage(1),
        timing: { durationMs: 2, steps: 1 },
      },
    ]);
    const state = reduceEvents(events);
    expect(textOf(state)).toBe('final');
    expect(state.steps.map((s) => [s.attempt, s.status])).toEqual([
      [1, 'reset'],
      [2, 'finished'],
    ]);
  });

  it('keeps refusal, reasoning and replay data apart from text', () => {
    const state = reduceEvents(
      stamped([
        { type: 'run.start', agentId: 'a', startedAt: '2026-11-24T10:00:00Z' },
        { type: 'step.start', stepIndex: 0, provider: 'anthropic', model: 'm', attempt: 1 },
        { type: 'reasoning.start', partId: 'r', visibility: 'full' },
        { type: 'reasoning.delta', partId: 'r', delta: 'thinking' },
        {
          type: 'reasoning.end',
          partId: 'r',
          replay: { provider: 'anthropic', signature: 'EqQB' },
        },
        { type: 'text.start', partId: 'f', kind: 'refusal' },
        { type: 'text.delta', partId: 'f', delta: 'I cannot help with that.' },
        { type: 'text.end', partId: 'f' },
        {
          type: 'step.finish',
          finishReason: { unified: 'content-filter', raw: 'refusal' },
          timing: { durationMs: 1, retries: 0 },
        },
        {
          type: 'run.finish',
          finishReason: { unified: 'content-filter' },
          usage: usage(3),
          timing: { durationMs: 2, steps: 1 },
        },
      ]),
    );
    expect(textOf(state)).toBe('');
    expect(refusalOf(state)).toBe('I cannot help with that.');
    expect(reasoningOf(state)).toBe('thinking');
    expect(state.parts[0]).toMatchObject({ kind: 'reasoning', replay: { signature: 'EqQB' } });
  });

  it('records errors with the partial output, invalid calls and approvals', () => {
    const state = reduceEvents(
      stamped([
        { type: 'run.start', agentId: 'a', startedAt: '2026-11-24T10:00:00Z' },
        { type: 'step.start', stepIndex: 0, provider: 'openai', model: 'm', attempt: 1 },
        { type: 'text.start', partId: 't' },
        { type: 'text.delta', partId: 't', delta: 'The answer' },
        { type: 'text.end', partId: 't' },
        { type: 'tool_call.start', toolCallId: 'bad', name: 'f', index: 0 },
        { type: 'tool_call.delta', toolCallId: 'bad', argsDelta: '{"a":' },
        {
          type: 'tool_call.invalid',
          toolCallId: 'bad',
          name: 'f',
          argsText: '{"a":',
          reason: 'not JSON',
        },
        { type: 'tool_call.start', toolCallId: 'ok', name: 'g', index: 1 },
        { type: 'tool_call.complete', toolCallId: 'ok', name: 'g', args: {}, argsText: '' },
        {
          type: 'step.finish',
          finishReason: { unified: 'tool-calls' },
          timing: { durationMs: 1, retries: 0 },
        },
        { type: 'tool.approval_requested', toolCallId: 'ok', approvalId: 'ap1' },
        {
          type: 'run.error',
          error: { code: 'provider_error', message: 'boom', retryable: false },
          partial: true,
        },
      ]),
    );
    expect(state.status).toBe('failed');
    expect(state.error?.code).toBe('provider_error');
    expect(state.partial).toBe(true);
    expect(textOf(state)).toBe('The answer');
    expect(toolCallsOf(state).map((c) => [c.toolCallId, c.status])).toEqual([
      ['bad', 'invalid'],
      ['ok', 'awaiting_approval'],
    ]);
  });

  it('records an abort and ignores events from another run', () => {
    const events = stamped([
      { type: 'run.start', agentId: 'a', startedAt: '2026-11-24T10:00:00Z' },
      { type: 'run.abort', reason: 'cancelled', by: 'usr_1' },
    ]);
    const state = reduceEvents(events);
    expect(state.abort).toEqual({ reason: 'cancelled', by: 'usr_1' });
    const foreign = {
      ...events[1]!,
      seq: 99,
      runId: 'run_other',
      type: 'run.abort',
      reason: 'shutdown',
    } as ParleyEvent;
    expect(reduceEvent(state, foreign)).toBe(state);
    expect(initialStreamState().status).toBe('idle');
  });
});
