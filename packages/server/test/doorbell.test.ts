import { randomBytes, randomUUID } from 'node:crypto';
import { type Bus, type BusMessage, createPostgresBus } from '@parley/cluster';
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
});
