// @vitest-environment jsdom
import type { ParleyEvent } from '@parley/protocol';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Waterfall } from '../src/runs/run-trace.tsx';
import { traceOf } from '../src/runs/trace.ts';

afterEach(cleanup);

const runId = '00000000-0000-4000-8000-00000000000a';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
let seq = 0;
const e = (t: number, payload: Record<string, unknown>) =>
  ({ v: 1, runId, seq: ++seq, t, ...payload }) as unknown as ParleyEvent;
const usage = { inputTokens: 10, outputTokens: 5 };
const finish = (t: number, ttftMs: number) =>
  e(t, {
    type: 'step.finish',
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage,
    timing: { ttftMs, durationMs: 0 },
  });

// A run that recalls memories, calls a model, waits 400 ms for a person to approve a tool
// that then takes 100 ms, and answers in a second model call.
const events: ParleyEvent[] = [
  e(0, { type: 'run.start', agentId: 'a', startedAt: '2026-12-07T00:00:00Z', traceId: TRACE }),
  e(20, { type: 'memory.recall', hits: [], method: 'fulltext', latencyMs: 15 }),
  e(25, { type: 'step.start', stepIndex: 0, attempt: 0, provider: 'openai', model: 'gpt-x' }),
  e(300, {
    type: 'tool_call.complete',
    toolCallId: 'c1',
    name: 'refund',
    args: {},
    argsText: '{}',
  }),
  finish(310, 120),
  e(320, { type: 'tool.approval_requested', toolCallId: 'c1', approvalId: 'p1' }),
  e(820, { type: 'tool.result', toolCallId: 'c1', ok: true, output: 'done', durationMs: 100 }),
  e(830, { type: 'step.start', stepIndex: 1, attempt: 0, provider: 'openai', model: 'gpt-x' }),
  finish(1030, 90),
  e(1040, {
    type: 'run.finish',
    finishReason: { unified: 'stop', raw: 'stop' },
    usage,
    timing: { ttftMs: 145, durationMs: 1040 },
  }),
];

describe('run trace', () => {
  it('builds the waterfall from the run’s events', () => {
    const trace = traceOf(events);
    expect(trace.traceId).toBe(TRACE);
    expect(trace.totalMs).toBe(1040);
    expect(trace.ttftMs).toBe(145);
    expect(trace.rows.map((r) => [r.kind, r.startMs, r.endMs])).toEqual([
      ['run', 0, 1040],
      ['recall', 5, 20],
      ['step', 25, 310],
      ['approval', 320, 820],
      ['tool', 300, 820],
      ['step', 830, 1030],
    ]);
    expect(trace.modelMs).toBe(285 + 200);
    expect(trace.waitMs).toBe(500);
    expect(trace.toolMs).toBe(20); // 520 in the tool's row, 500 of them waiting for a person
    expect(trace.rows[2]!.detail).toBe('first token after 120 ms');
  });

  it('shows a run still going, and a failed tool', () => {
    seq = 0;
    const trace = traceOf([
      e(0, { type: 'run.start', agentId: 'a', startedAt: '2026-12-07T00:00:00Z' }),
      e(5, { type: 'step.start', stepIndex: 0, attempt: 0, provider: 'openai', model: 'm' }),
      e(50, {
        type: 'tool_call.complete',
        toolCallId: 'x',
        name: 'fetch',
        args: {},
        argsText: '{}',
      }),
      e(70, { type: 'tool.result', toolCallId: 'x', ok: false, error: 'timeout', durationMs: 20 }),
      e(90, { type: 'step.start', stepIndex: 1, attempt: 0, provider: 'openai', model: 'm' }),
    ]);
    expect(trace.totalMs).toBe(90);
    expect(trace.rows.find((r) => r.kind === 'tool')).toMatchObject({
      failed: true,
      detail: 'timeout',
    });
    // The first step was cut by the next one; the second is still going.
    expect(trace.rows.filter((r) => r.kind === 'step').map((r) => r.endMs)).toEqual([
      90,
      undefined,
    ]);
  });

  it('renders one bar per row, placed on the run’s clock', () => {
    render(<Waterfall trace={traceOf(events)} />);
    expect(screen.getByTestId('trace-ttft').textContent).toBe('145 ms');
    expect(screen.getByTestId('trace-wait').textContent).toBe('500 ms');
    expect(screen.getByTestId('trace-id').textContent).toBe(TRACE);
    const rows = screen.getByRole('list', { name: 'Waterfall' }).querySelectorAll('li');
    expect(rows).toHaveLength(6);
    const approval = [...rows].find((row) => row.dataset.kind === 'approval')!;
    const bar = approval.querySelector<HTMLElement>('.waterfall-bar')!;
    expect(bar.style.left).toBe(`${((100 * 320) / 1040).toFixed(2)}%`);
    expect(bar.style.width).toBe(`${((100 * 500) / 1040).toFixed(2)}%`);
    expect(approval.textContent).toContain('waiting for approval');
  });
});
