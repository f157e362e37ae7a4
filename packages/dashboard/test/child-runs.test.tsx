// @vitest-environment jsdom
import { initialStreamState, type ParleyEvent, reduceEvent, textOf } from '@parley/protocol';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import { storedChildOf, Turn, turnFromLive } from '../src/chat/transcript.tsx';
import demo from './fixtures/scripted-demo.json' with { type: 'json' };

/*
 * A child run (an agent the agent called, docs/multi-agent.md) shows folded under the tool
 * call that started it: its agent and status, and opened, what it said. The recorded demo
 * stream plays both parts: the parent, and (renamed) the child its tool call started.
 */

afterEach(cleanup);

/** The demo stream, with a child run (the same demo, another run) carried after its tool call. */
function nested(): ParleyEvent[] {
  const parent = demo as ParleyEvent[];
  const call = parent.find((e) => e.type === 'tool_call.complete')!;
  const toolCallId = call.type === 'tool_call.complete' ? call.toolCallId : '';
  const at = parent.findIndex((e) => e.type === 'tool.result');
  const carried = parent.map(
    (event) =>
      ({
        ...parent[at]!,
        type: 'run.child',
        childRunId: 'child_1',
        agent: 'calculator-bot',
        toolCallId,
        event: { ...event, runId: 'child_1' },
      }) as ParleyEvent,
  );
  const all = [...parent.slice(0, at), ...carried, ...parent.slice(at)];
  return all.map((event, index) => ({ ...event, seq: index + 1 }));
}

it('folds a child run under the tool call that started it', () => {
  const events = nested();
  let state = initialStreamState();
  for (const event of events) state = reduceEvent(state, event);
  render(
    <ol>
      <Turn turn={turnFromLive({ id: 't', input: 'What is 6 * 7?', state, phase: 'finished' })} />
    </ol>,
  );
  const summary = screen.getByText('calculator-bot').closest('summary')!;
  expect(summary.textContent).toContain('done');
  const details = summary.closest('details')!;
  expect(details.open).toBe(false);
  expect(details.querySelector('p')!.textContent).toBe(textOf(state.children[0]!.state));
});

it('reads an agent call back from history: its result holds the answer', () => {
  const call = {
    kind: 'tool_call' as const,
    toolCallId: 'c1',
    name: 'ask_researcher',
    index: 0,
    argsText: '{}',
    status: 'succeeded' as const,
    result: {
      ok: true,
      output: '{"agent":"researcher","runId":"r1","answer":"Paris."}',
      durationMs: 1,
    },
  };
  expect(storedChildOf(call)).toEqual({ agent: 'researcher', answer: 'Paris.' });
  expect(
    storedChildOf({ ...call, result: { ok: true, output: { value: 42 }, durationMs: 1 } }),
  ).toBe(undefined);
});
