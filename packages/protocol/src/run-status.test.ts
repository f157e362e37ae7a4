import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, isTerminalEvent, TERMINAL_TYPES } from './events.ts';
import { RUN_STATUS_NAMES, runStatusOf } from './run-status.ts';

describe('runStatusOf', () => {
  it('maps each terminal event to the status its run ends in', () => {
    expect(TERMINAL_TYPES.map((type) => runStatusOf({ type }))).toEqual([
      'succeeded',
      'failed',
      'cancelled',
    ]);
  });

  it('says running for every other event, and reaches every status a stored run can end in', () => {
    for (const type of EVENT_TYPES.filter((t) => !isTerminalEvent({ type: t }))) {
      expect(runStatusOf({ type })).toBe('running');
    }
    // Every stored status but queued is reachable from the events.
    expect(new Set(EVENT_TYPES.map((type) => runStatusOf({ type })))).toEqual(
      new Set(RUN_STATUS_NAMES.filter((status) => status !== 'queued')),
    );
  });
});
