import { randomBytes, randomUUID } from 'node:crypto';
import { type Bus, type BusMessage, createPostgresBus } from '@parley/cluster';
import type { ParleyEvent } from '@parley/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { createDoorbell } from '../src/runs/doorbell.ts';

/*
 * The doorbell on a real PostgreSQL bus: two instances, one executing a run and ringing as
 * its log grows, one with a follower waiting. A ring goes out only for a run some instance
 * watches; a waiting follower wakes on the ring (its fallback here is a minute: only the
 * ring can wake it within the test's time).
 */

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const channel = `bell_${randomBytes(6).toString('hex')}`;
const buses: Bus[] = [];
const bus = async () => {
  const made = createPostgresBus({ url: DATABASE_URL, channel });
  buses.push(made);
  await made.ready;
  return made;
};
afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
});

/** Resolves once `test` holds for a message the bus carried. */
const heard = (on: Bus, test: (m: BusMessage) => boolean) =>
  new Promise<BusMessage>((resolve) => on.subscribe((m) => test(m) && resolve(m)));

describe('the doorbell', () => {
  it('rings only for watched runs, and a ring wakes a follower on another instance', async () => {
    const [owner, follower] = [await bus(), await bus()];
    const [ownerBell, followerBell] = [createDoorbell(owner), createDoorbell(follower)];
    const rings: BusMessage[] = [];
    follower.subscribe((m) => {
      if (m.type === 'run.stored') rings.push(m);
    });

    // Nobody follows this run: its growing log costs no message.
    const unwatched = randomUUID();
    ownerBell.ring(unwatched, 1);
    ownerBell.ring(unwatched, 2);

    const runId = randomUUID();
    const closed = new Promise<void>(() => {});
    // The follower's first wait asks for rings and comes back soon to read the log again.
    const watch = heard(owner, (m) => m.type === 'run.watch' && m.runId === runId);
    await followerBell.wait(runId, 0, closed, 60_000);
    await watch;
    // Now it waits for real: only a ring of a seq past its cursor wakes it.
    const woken = followerBell.wait(runId, 5, closed, 60_000);
    ownerBell.ring(runId, 5); // not past its cursor
    ownerBell.ring(runId, 6);
    await woken;
    expect(rings.filter((m) => m.runId === unwatched)).toEqual([]);
    expect(rings.filter((m) => m.runId === runId).map((m) => m.seq)).toEqual([5, 6]);
  });

  it('wakes a waiting follower at once when its client leaves', async () => {
    const follower = await bus();
    const bell = createDoorbell(follower);
    let leave: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      leave = resolve;
    });
    const runId = randomUUID();
    await bell.wait(runId, 0, new Promise(() => {}), 60_000);
    const waiting = bell.wait(runId, 0, closed, 60_000);
    leave();
    await waiting;
  });

  it('shows followers elsewhere what the owner shows, as it shows it, without reading the log', async () => {
    const [owner, follower] = [await bus(), await bus()];
    const [ownerBell, followerBell] = [createDoorbell(owner), createDoorbell(follower)];
    const runId = randomUUID();
    const never = new Promise<void>(() => {});
    const watch = heard(owner, (m) => m.type === 'run.watch' && m.runId === runId);
    await followerBell.wait(runId, 0, never, 60_000);
    await watch;

    const woken = followerBell.wait(runId, 2, never, 60_000);
    ownerBell.show(runId, () => [textEvent(3), textEvent(4)]);
    expect((await woken)?.map((e) => e.seq)).toEqual([3, 4]);

    // Events shown while the follower is busy (sending, reading) are not lost: the next wait
    // returns them at once. Waiting for them here was a 2 s fallback.
    const both = heard(follower, (m) => m.type === 'run.shown' && m.seq === 6);
    ownerBell.show(runId, () => [textEvent(5)]);
    ownerBell.show(runId, () => [textEvent(6)]);
    await both;
    expect((await followerBell.wait(runId, 4, never, 60_000))?.map((e) => e.seq)).toEqual([5, 6]);
    // A cursor older than what is kept reads the log, once a stored ring says it holds more.
    const stored = followerBell.wait(runId, 1, never, 60_000);
    ownerBell.ring(runId, 6);
    expect(await stored).toBeUndefined();
    // An event too large to ride along is read from the log, and so is what follows it.
    const large = heard(follower, (m) => m.type === 'run.shown' && m.seq === 7);
    ownerBell.show(runId, () => [textEvent(7), textEvent(8, 'x'.repeat(10_000)), textEvent(9)]);
    await large;
    expect((await followerBell.wait(runId, 6, never, 60_000))?.map((e) => e.seq)).toEqual([7]);
    const unstored = followerBell.wait(runId, 7, never, 60_000);
    ownerBell.ring(runId, 9);
    expect(await unstored).toBeUndefined();
  });

  it('hands what the owner shows to the bus in the same turn, in order', async () => {
    const [owner, follower] = [await bus(), await bus()];
    const published: BusMessage[] = [];
    // The owner's bus as the doorbell sees it, telling what it was handed and when.
    const seen: Bus = {
      ...owner,
      publish: (m) => {
        published.push(m);
        owner.publish(m);
      },
    };
    const [ownerBell, followerBell] = [createDoorbell(seen), createDoorbell(follower)];
    const runId = randomUUID();
    const never = new Promise<void>(() => {});
    const watch = heard(owner, (m) => m.type === 'run.watch' && m.runId === runId);
    await followerBell.wait(runId, 0, never, 60_000);
    await watch;
    // A run shows from a check-phase callback: held for a turn of the doorbell's own, its
    // events left behind the next poll phase, and the bus's own turn came after that.
    const arrived = heard(follower, (m) => m.type === 'run.shown' && m.seq === 3);
    ownerBell.show(runId, () => [textEvent(1)]);
    ownerBell.show(runId, () => [textEvent(2), textEvent(3)]);
    expect(published.map((m) => [m.type, m.seq])).toEqual([
      ['run.shown', 1],
      ['run.shown', 3],
    ]);
    await arrived;
    expect((await followerBell.wait(runId, 0, never, 60_000))?.map((e) => e.seq)).toEqual([
      1, 2, 3,
    ]);
  });

  it('splits many shown events into messages that fit a NOTIFY', async () => {
    const [owner, follower] = [await bus(), await bus()];
    const [ownerBell, followerBell] = [createDoorbell(owner), createDoorbell(follower)];
    const runId = randomUUID();
    const never = new Promise<void>(() => {});
    const watch = heard(owner, (m) => m.type === 'run.watch' && m.runId === runId);
    await followerBell.wait(runId, 0, never, 60_000);
    await watch;
    const events = Array.from({ length: 200 }, (_, i) => textEvent(i + 1, 'y'.repeat(100)));
    const last = heard(follower, (m) => m.type === 'run.shown' && m.seq === 200);
    ownerBell.show(runId, () => events.slice(0, 150));
    ownerBell.show(runId, () => events.slice(150));
    await last;
    expect((await followerBell.wait(runId, 0, never, 60_000))?.map((e) => e.seq)).toEqual(
      events.map((e) => e.seq),
    );
  });

  it('stops sending a run’s events to an instance once its last follower left, not a watch later', async () => {
    const [owner, first, second] = [await bus(), await bus(), await bus()];
    const [ownerBell, firstBell, secondBell] = [owner, first, second].map((b) => createDoorbell(b));
    const runId = randomUUID();
    const never = new Promise<void>(() => {});
    const shownTo = (at: Bus) => {
      const seqs: number[] = [];
      at.subscribe(
        (m) => m.type === 'run.shown' && m.runId === runId && seqs.push(m.seq as number),
      );
      return seqs;
    };
    const atOwner = shownTo(owner);
    /** Shows one event, then waits until a marker sent after it came back: it went, or not. */
    const showAndSettle = async (seq: number) => {
      ownerBell!.show(runId, () => [textEvent(seq)]);
      const marker = randomUUID();
      const back = heard(owner, (m) => m.type === 'marker' && m.id === marker);
      owner.publish({ type: 'marker', id: marker });
      await back;
    };

    // Two streams here follow the run, and one on another instance.
    const leaves = [firstBell!.follow(runId), firstBell!.follow(runId), secondBell!.follow(runId)];
    for (const [bell, at] of [
      [firstBell!, owner],
      [secondBell!, owner],
    ] as const) {
      const watch = heard(at, (m) => m.type === 'run.watch' && m.runId === runId);
      await bell.wait(runId, 0, never, 60_000);
      await watch;
    }
    await showAndSettle(1);
    // One of two streams leaving changes nothing; the second one leaving tells the owner.
    leaves[0]!();
    leaves[0]!(); // leaving twice is leaving once
    await showAndSettle(2);
    const unwatch = heard(owner, (m) => m.type === 'run.unwatch' && m.runId === runId);
    leaves[1]!();
    await unwatch;
    // The other instance still follows: the run's events still go out.
    await showAndSettle(3);
    const last = heard(owner, (m) => m.type === 'run.unwatch' && m.runId === runId);
    leaves[2]!();
    await last;
    await showAndSettle(4);
    expect(atOwner).toEqual([1, 2, 3]);
  });

  it('sends a new follower what the owner showed lately, so it goes live at once', async () => {
    const [owner, follower] = [await bus(), await bus()];
    const runId = randomUUID();
    const shown = Array.from({ length: 30 }, (_, i) => textEvent(i + 1));
    createDoorbell(owner, (id) => (id === runId ? shown.slice(10) : []));
    const followerBell = createDoorbell(follower);
    const never = new Promise<void>(() => {});
    // The follower read the log up to 15; peeking asks for rings, and the backlog comes.
    const backlog = heard(follower, (m) => m.type === 'run.shown' && m.runId === runId);
    expect(followerBell.peek(runId, 15)).toBeUndefined();
    await backlog;
    const next = await followerBell.wait(runId, 15, never, 60_000);
    expect(next?.map((e) => e.seq)).toEqual(shown.slice(15).map((e) => e.seq));
    // Peeking past what was carried finds nothing: the follower waits (or reads the log).
    expect(followerBell.peek(runId, 30)).toBeUndefined();
    expect(followerBell.peek(runId, 20)?.map((e) => e.seq)).toEqual([
      21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
    ]);
  });
});

describe('rings from the bus', () => {
  it('ignores malformed rings, and joins carried events that overlap or come before what it holds', async () => {
    const [owner, follower] = [await bus(), await bus()];
    const followerBell = createDoorbell(follower);
    const runId = randomUUID();
    const never = new Promise<void>(() => {});
    const watch = heard(owner, (m) => m.type === 'run.watch' && m.runId === runId);
    await followerBell.wait(runId, 0, never, 60_000);
    await watch;
    const send = async (message: BusMessage) => {
      const carried = heard(follower, (m) => m === message || m.seq === message.seq);
      owner.publish(message);
      await carried;
    };
    const shown = (events: unknown[], seq = (events.at(-1) as { seq: number }).seq) =>
      send({ type: 'run.shown', runId, seq, events });
    // Not events (no seq, a negative one, a type that is no string, not objects), a seq that is not one: none is kept,
    // so nothing is carried after 0.
    await shown([{ type: 'text.delta' }], 1);
    await shown([{ ...textEvent(1), seq: -1 }], 1);
    await shown([{ ...textEvent(1), type: 5 }], 1);
    await shown(['text.delta'], 1);
    await send({ type: 'run.shown', runId, seq: 1.5, events: [textEvent(1)] });
    // Not contiguous, or not ending at the ring's seq.
    await shown([textEvent(1), textEvent(3)]);
    await shown([textEvent(1)], 2);
    expect(followerBell.peek(runId, 0)).toBeUndefined();

    await shown([textEvent(4), textEvent(5)]);
    await shown([textEvent(5), textEvent(6), textEvent(7)]); // overlaps: extends
    await shown([textEvent(2), textEvent(3), textEvent(4)]); // a backlog before it
    expect(followerBell.peek(runId, 1)?.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    await shown([textEvent(9)]); // after a hole: replaces what it held
    expect(followerBell.peek(runId, 1)).toBeUndefined();
    expect(followerBell.peek(runId, 8)?.map((e) => e.seq)).toEqual([9]);
  });
});

function textEvent(seq: number, delta = `t${seq}`): ParleyEvent {
  return {
    v: 1,
    type: 'text.delta',
    runId: '00000000-0000-4000-8000-000000000000',
    seq,
    at: '2026-12-06T00:00:00.000Z',
    partId: 'p1',
    delta,
  } as unknown as ParleyEvent;
}
