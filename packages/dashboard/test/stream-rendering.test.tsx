// @vitest-environment jsdom
import type { Message, Run } from '@parley/client';
import { initialStreamState, type ParleyEvent, reduceEvent } from '@parley/protocol';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { turnsFromHistory } from '../src/chat/history.ts';
import { Turn, turnFromLive } from '../src/chat/transcript.tsx';
import type { LiveTurn, TurnPhase } from '../src/chat/use-run.ts';
import approval from './fixtures/scripted-approval.json' with { type: 'json' };
import cancelled from './fixtures/scripted-cancelled.json' with { type: 'json' };
import demo from './fixtures/scripted-demo.json' with { type: 'json' };
import history from './fixtures/scripted-history.json' with { type: 'json' };

/*
 * The transcript rendering real streams, recorded from a server run with the scripted
 * provider (scripts/capture-streams.ts): the events are replayed one by one through the
 * protocol's reducer, as the chat does while a run streams, and the page is checked at the
 * moments that matter.
 */

afterEach(cleanup);

const events = (recorded: unknown) => recorded as ParleyEvent[];

/** Replays `recorded` up to and including the first event `stop` matches (all without). */
function liveAfter(
  recorded: ParleyEvent[],
  stop?: (event: ParleyEvent, index: number) => boolean,
  phase?: TurnPhase,
): LiveTurn {
  let state = initialStreamState();
  let ended = false;
  for (const [index, event] of recorded.entries()) {
    state = reduceEvent(state, event);
    if (stop?.(event, index)) {
      ended = true;
      break;
    }
  }
  const finished =
    state.status === 'finished' ? 'finished' : state.status === 'aborted' ? 'stopped' : 'streaming';
  return {
    id: 'turn-1',
    input: 'What is 6 * 7?',
    state,
    phase: phase ?? (ended ? 'streaming' : finished),
  };
}

const nth = (type: ParleyEvent['type'], n = 1) => {
  let seen = 0;
  return (event: ParleyEvent) => event.type === type && ++seen === n;
};

function show(turn: LiveTurn, onDecide?: (id: string, decision: 'approved' | 'denied') => void) {
  const view = render(
    <ol>
      <Turn turn={turnFromLive(turn)} onDecide={onDecide} />
    </ol>,
  );
  return {
    ...view,
    update: (next: LiveTurn) =>
      view.rerender(
        <ol>
          <Turn turn={turnFromLive(next)} onDecide={onDecide} />
        </ol>,
      ),
  };
}

describe('a streamed demo run (reasoning, a calculator call, text)', () => {
  const recorded = events(demo);

  it('fills the tool card in as argument deltas arrive, then shows the result', () => {
    const view = show(liveAfter(recorded, nth('tool_call.delta', 1)));
    const card = screen.getByRole('region', { name: 'Tool call calculator' });
    expect(card.textContent).toContain('writing arguments…');
    expect(card.textContent).toContain('{"expres');
    expect(card.textContent).not.toContain('6 * 7');

    view.update(liveAfter(recorded, nth('tool_call.delta', 3)));
    expect(card.textContent).toContain('{"expression": "6 * 7"}');

    view.update(liveAfter(recorded, nth('tool_call.complete')));
    expect(card.textContent).toContain('running…');
    expect(card.textContent).toContain('"expression": "6 * 7"');
    expect(card.textContent).not.toContain('"result"');

    view.update(liveAfter(recorded, nth('tool.result')));
    expect(card.textContent).toContain('done');
    expect(card.textContent).toContain('"result": 42');
  });

  it('streams the text into one paragraph that grows in place, with the numbers line reserved', () => {
    // The numbers line is there from the first event, with placeholders (no jump later).
    const view = show(liveAfter(recorded, nth('run.start')));
    expect(screen.getByTestId('ttft').textContent).toBe('—');
    expect(screen.getByTestId('tokens-out').textContent).toBe('—');
    expect(screen.getByText('Thinking…')).toBeTruthy();
    const numbers = view.container.querySelector('.turn-numbers');

    view.update(liveAfter(recorded, nth('text.delta', 1)));
    const paragraph = view.container.querySelector('p.text');
    expect(paragraph?.textContent).toBe('The ');
    expect(view.container.querySelector('.turn-numbers')).toBe(numbers);

    view.update(liveAfter(recorded, nth('text.delta', 14)));
    const grown = view.container.querySelector('p.text');
    expect(grown).toBe(paragraph); // the same element, updated: nothing re-mounts
    expect(grown?.textContent).toBe('The calculator says 6 * 7 = 42. I am the offline demo: ');
    expect(view.container.querySelector('.caret')).not.toBeNull();
    expect(view.container.querySelector('.turn-numbers')).toBe(numbers);

    view.update(liveAfter(recorded));
    const done = view.container.querySelector('p.text');
    expect(done).toBe(paragraph);
    expect(done?.textContent).toBe(
      'The calculator says 6 * 7 = 42. I am the offline demo: I play a script instead of thinking, so every question gets this answer. Pick a real model to have a real conversation, or deploy me as I am.',
    );
    expect(view.container.querySelector('.caret')).toBeNull();
    const finish = recorded.at(-1);
    if (finish?.type !== 'run.finish') throw new Error('the demo ends with run.finish');
    expect(screen.getByTestId('tokens-out').textContent).toBe(String(finish.usage.outputTokens));
    expect(screen.getByTestId('tokens-in').textContent).toBe(String(finish.usage.inputTokens));
    expect(screen.getByTestId('ttft').textContent).not.toBe('—');
  });

  it('keeps the reasoning collapsed until asked', () => {
    show(liveAfter(recorded));
    const details = screen.getByText('Reasoning').closest('details')!;
    expect(details.open).toBe(false);
    expect(details.textContent).toContain('the calculator works out 6 * 7');
    fireEvent.click(screen.getByText('Reasoning'));
    expect(details.open).toBe(true);
  });
});

describe('a run whose tool needs approval', () => {
  const recorded = events(approval);

  it('asks, and answers with the tool call id; the buttons go once decided', () => {
    const decide = vi.fn();
    const view = show(liveAfter(recorded, nth('tool.approval_requested')), decide);
    const card = screen.getByRole('region', { name: 'Tool call calculator' });
    expect(card.textContent).toContain('waiting for your approval');
    const approve = within(card).getByRole('button', { name: 'Approve' });
    fireEvent.click(approve);
    const requested = recorded.find((e) => e.type === 'tool.approval_requested');
    if (requested?.type !== 'tool.approval_requested') throw new Error('no approval requested');
    expect(decide).toHaveBeenCalledWith(requested.toolCallId, 'approved');
    expect(approve).toHaveProperty('disabled', true);
    expect(within(card).getByRole('button', { name: 'Deny' })).toHaveProperty('disabled', true);

    view.update(liveAfter(recorded));
    expect(within(card).queryByRole('button', { name: 'Approve' })).toBeNull();
    expect(card.textContent).toContain('"result": 42');
  });
});

describe('a run stopped mid-stream', () => {
  it('keeps what was written and says it stopped', () => {
    const view = show(liveAfter(events(cancelled)));
    expect(view.container.querySelector('p.text')?.textContent).toBe('Counting slowly: one, two,');
    expect(screen.getByRole('status').textContent).toBe('Stopped.');
  });

  it('shows a dropped connection while it reconnects', () => {
    show(liveAfter(events(cancelled), nth('text.delta', 2), 'reconnecting'));
    expect(screen.getByRole('status').textContent).toBe('Connection lost: reconnecting…');
  });
});

describe('a stored conversation', () => {
  const stored = history as unknown as { messages: Message[]; runs: Run[] };

  it('reads as the same turns, with each run’s numbers', () => {
    const turns = turnsFromHistory(stored.messages, stored.runs);
    expect(turns.map((t) => t.input)).toEqual(['What is 6 * 7?', 'And again?']);
    render(
      <ol>
        {turns.map((turn) => (
          <Turn key={turn.key} turn={turn} />
        ))}
      </ol>,
    );
    const cards = screen.getAllByRole('region', { name: 'Tool call calculator' });
    expect(cards).toHaveLength(2);
    for (const card of cards) expect(card.textContent).toContain('"result": 42');
    const outputs = screen.getAllByTestId('tokens-out').map((el) => el.textContent);
    const byRun = new Map(stored.runs.map((r) => [r.id, r]));
    const firstRunId = stored.messages.find((m) => m.role === 'user')!.runId!;
    expect(outputs[0]).toBe(String(byRun.get(firstRunId)!.usage.outputTokens));
    expect(screen.getAllByText(/^The calculator says 6 \* 7 = 42\./)).toHaveLength(2);
  });
});
