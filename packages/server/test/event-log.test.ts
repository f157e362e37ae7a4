import { Writable } from 'node:stream';
import type { ParleyEvent } from '@parley/protocol';
import { describe, expect, it, vi } from 'vitest';
import { createEventLog } from '../src/runs/event-log.ts';
import { pipeRunEvents } from '../src/runs/event-stream.ts';
import { LiveRun, MAX_UNSTORED_EVENTS } from '../src/runs/live-run.ts';
import { textRun } from './support/event-script.ts';

/*
 * What a client sees of a live run, and when: events as they are produced (no database round
 * in front of a token) but never more than MAX_UNSTORED_EVENTS ahead of the log, the terminal
 * event only once it and everything before it is stored; and a client following a run another
 * server stores gets all of it, whenever the last write lands.
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

describe('a write lingers for more events, but never the end of a run', () => {
  const record = () => {
    const stored: number[][] = [];
    return {
      stored,
      persist: async (batch: ParleyEvent[]) => void stored.push(batch.map((e) => e.seq)),
    };
  };

  it("takes events of many turns into one write, and writes at once when the run's end comes", async () => {
    const run = new LiveRun('r4', 'w', 'a', 'c');
    const store = record();
    // A linger no test could wait out: only the end (or a flush) can start this write.
    const log = createEventLog(run, {
      persist: store.persist,
      onFailure: () => {},
      lingerMs: 600_000,
    });
    const events = script('r4');
    for (const event of events) {
      run.events.push(event);
      log.append(event);
      run.show();
      await turn();
      await turn();
    }
    await log.flush();
    expect(store.stored).toEqual([events.map((e) => e.seq)]);
    expect(run.closed).toBe(true);
  });

  it('writes the events of runs lingering at one moment together, at one beat', async () => {
    vi.useFakeTimers();
    try {
      const writes: string[] = [];
      const logOf = (id: string) =>
        createEventLog(new LiveRun(id, 'w', 'a', 'c'), {
          persist: async (batch) => void writes.push(`${id}:${batch.length}`),
          onFailure: () => {},
          lingerMs: 40,
        });
      const [a, b] = [logOf('ra'), logOf('rb')];
      a.append(script('ra')[0]!);
      await vi.advanceTimersByTimeAsync(25);
      b.append(script('rb')[0]!);
      await vi.advanceTimersByTimeAsync(14);
      expect(writes).toEqual([]);
      // a's linger is up: b's write joins it (with a timer each, b's would wait 25 ms more).
      await vi.advanceTimersByTimeAsync(1);
      expect(writes).toEqual(['ra:1', 'rb:1']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes what lingers when flushed (a run handed over, a server stopping)', async () => {
    const run = new LiveRun('r5', 'w', 'a', 'c');
    const store = record();
    const log = createEventLog(run, {
      persist: store.persist,
      onFailure: () => {},
      lingerMs: 600_000,
    });
    for (const event of script('r5').slice(0, 4)) {
      run.events.push(event);
      log.append(event);
      await turn();
    }
    await log.flush();
    expect(store.stored).toEqual([[1, 2, 3, 4]]);
    expect(run.storedSeq).toBe(4);
  });
});

describe('how far clients may be shown ahead of the log', () => {
  it('never further than MAX_UNSTORED_EVENTS: a crash can lose no more, and the closing end numbers past them', async () => {
    const run = new LiveRun('r3', 'w', 'a', 'c');
    const store = gatedStore();
    const log = createEventLog(run, { persist: store.persist, onFailure: () => {} });
    const events = textRun('r3', { deltas: MAX_UNSTORED_EVENTS + 50 });
    for (const event of events) {
      run.events.push(event);
      log.append(event);
      run.show();
    }
    await turn();
    await turn();
    expect(run.visibleSeq).toBe(MAX_UNSTORED_EVENTS);
    store.release();
    await log.flush();
    expect(run.visibleSeq).toBe(events.length);
    expect(run.closed).toBe(true);
  });
});

describe('following a run stored by another server', () => {
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

  it('reads the tail when the run ended between its read of the log and its look at the run (issue #21)', async () => {
    // The other server stores the last batch, terminal included, right after this stream
    // found nothing new in the log: the look at the run then sees it ended.
    const events = script('r');
    let reads = 0;
    const { out, text } = sink();
    const sent = await pipeRunEvents(
      out,
      {
        live: () => undefined,
        stored: async (after) => {
          reads++;
          if (reads === 1) return events.slice(0, 3);
          if (reads === 2) return []; // read just before the other server's last write landed
          return events.filter((e) => e.seq > after);
        },
        ended: async () => ({ last: events.at(-1) }),
      },
      { afterSeq: 0, closed: new Promise(() => {}), pollMs: 1 },
    );
    expect(ids(text())).toEqual(events.map((e) => e.seq));
    expect(sent).toBe(events.length);
  });

  it('ends at once for a client that has seen the stored end', async () => {
    const events = script('r');
    const { out, text } = sink();
    await pipeRunEvents(
      out,
      {
        live: () => undefined,
        stored: async (after) => events.filter((e) => e.seq > after),
        ended: async () => ({ last: events.at(-1) }),
      },
      { afterSeq: events.length, closed: new Promise(() => {}) },
    );
    expect(text()).toBe('');
  });
});
