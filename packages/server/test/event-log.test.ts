import { Writable } from 'node:stream';
import type { ParleyEvent } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { createEventLog } from '../src/runs/event-log.ts';
import { pipeRunEvents } from '../src/runs/event-stream.ts';
import { LiveRun } from '../src/runs/live-run.ts';
import { textRun } from './support/event-script.ts';

/*
 * What a client sees of a live run, and when: events as they are produced (no database round
 * in front of a token), the terminal event only once it and everything before it is stored;
 * and a client resuming past the end of a log a crash cut short still gets the run's end.
 */

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** run.start, step.start, text.start, text.delta, text.end, step.finish, run.finish. */
const script = (runId: string) => textRun(runId);

/** A store whose writes wait until the test lets them through. */
function gatedStore() {
  const stored: ParleyEvent[][] = [];
  let open: () => void = () => {};
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    stored,
    persist: async (batch: ParleyEvent[]) => {
      await gate;
      stored.push(batch);
    },
    release() {
      open();
      gate = Promise.resolve();
    },
  };
}

describe('live events and the event log', () => {
  it('shows events before they are stored, and the terminal one only once everything is', async () => {
    const run = new LiveRun('r1', 'w', 'a', 'c');
    const store = gatedStore();
    const log = createEventLog(run, { persist: store.persist, onFailure: () => {} });
    for (const event of script('r1')) {
      // What the run manager does for each event.
      run.events.push(event);
      log.append(event);
      run.show();
    }
    await turn();
    await turn();
    expect(store.stored).toEqual([]);
    expect(run.visibleSeq).toBe(6); // everything but run.finish
    expect(run.closed).toBe(false);
    store.release();
    await log.flush();
    expect(store.stored.flat().map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // One write for the burst: the events of one turn of the event loop go together.
    expect(store.stored).toHaveLength(1);
    expect(run.visibleSeq).toBe(7);
    expect(run.closed).toBe(true);
  });

  it('shows the events of one turn of the event loop together (one wake-up for subscribers)', async () => {
    const run = new LiveRun('r2', 'w', 'a', 'c');
    let wakeups = 0;
    const count = async () => {
      await run.changed();
      wakeups++;
    };
    const counted = count();
    for (const event of script('r2').slice(0, 6)) {
      run.events.push(event);
      run.show();
    }
    await counted;
    expect(wakeups).toBe(1);
    expect(run.visibleSeq).toBe(6);
  });
});

describe('resuming a run whose log a crash cut short', () => {
  const sink = () => {
    let text = '';
    const out = new Writable({
      write(chunk, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    return { out, text: () => text };
  };
  const ids = (sse: string) => [...sse.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  const types = (sse: string) => [...sse.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);

  const abortAt = (seq: number): ParleyEvent =>
    ({
      v: 1,
      seq,
      runId: 'r',
      t: 0,
      type: 'run.abort',
      reason: 'shutdown',
      by: 'server',
    }) as ParleyEvent;
  const finishAt = (seq: number): ParleyEvent => ({ ...script('r').at(-1)!, seq }) as ParleyEvent;

  const resume = async (afterSeq: number, end: ParleyEvent) => {
    const { out, text } = sink();
    await pipeRunEvents(
      out,
      {
        live: () => undefined,
        stored: async () => [],
        ended: async () => ({ last: end }),
      },
      { afterSeq, closed: new Promise(() => {}) },
    );
    return text();
  };

  it('sends the end numbered after what the client saw when its cursor is past the log', async () => {
    const sse = await resume(7, abortAt(5));
    expect(types(sse)).toEqual(['run.abort']);
    expect(ids(sse)).toEqual([8]);
  });

  it('sends it too when the cursor is at the shutdown abort (that seq was a lost event for this client)', async () => {
    const sse = await resume(5, abortAt(5));
    expect(ids(sse)).toEqual([6]);
  });

  it('sends nothing to a client that has seen a stored end', async () => {
    expect(await resume(5, finishAt(5))).toBe('');
  });
});
