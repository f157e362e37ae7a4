import {
  checkConformance,
  isTerminalEvent,
  type ParleyEvent,
  readParleyEvents,
} from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * A run in a new conversation streams while its rows are still being written: the first
 * token does not wait for a database round that, under load, queues behind other runs'
 * writes. Only the end waits for the store. PostgreSQL, where a second connection can hold a
 * lock on the conversations table (or make its inserts fail) while the server works.
 */

async function readAll(response: Response): Promise<ParleyEvent[]> {
  const events: ParleyEvent[] = [];
  for await (const event of readParleyEvents(response.body!)) events.push(event);
  return events;
}

describe('a run in a new conversation [postgres]', () => {
  let database: TestDatabase;
  /** The superuser's pool on the test database (locks and triggers behind the server's back). */
  let admin: TestDatabase['admin'];
  let server: TestServer;

  const start = (conversationId?: string, agent = 'chatty') =>
    fetch(`${server.url}/v1/workspaces/${server.workspaceId}/agents/${agent}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'hello', ...(conversationId ? { conversationId } : {}) }),
    });

  beforeAll(async () => {
    database = await createTestDatabase('run_start', { migrated: true });
    server = await startTestServer({
      engine: 'postgres',
      reuse: { database },
      keepDatabase: true,
      tuning: { runLingerMs: 0 },
    });
    admin = database.admin;
    const res = await client(server.url, server.token)(
      'POST',
      `/v1/workspaces/${server.workspaceId}/agents`,
      {
        definition: scriptedAgent('chatty', [[{ type: 'text', text: 'Hello there, friend.' }]]),
        deploy: true,
      },
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const hangs = await client(server.url, server.token)(
      'POST',
      `/v1/workspaces/${server.workspaceId}/agents`,
      { definition: scriptedAgent('hangs', [[{ type: 'hang' }]]), deploy: true },
    );
    expect(hangs.status, await hangs.clone().text()).toBe(201);
    // Token, agent and model key are cached by this first run: the next ones need no reads.
    await (await start()).text();
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('streams its answer while its rows wait for a lock, and ends only once they are stored', async () => {
    const locker = await admin.connect();
    try {
      await locker.query('begin');
      // Blocks INSERTs into conversations (not reads) until this transaction ends.
      await locker.query('lock table conversations in share row exclusive mode');
      const res = await start();
      expect(res.status).toBe(200);
      const runId = res.headers.get('x-parley-run-id')!;
      const events: ParleyEvent[] = [];
      let released = false;
      let endSeenBeforeRelease = false;
      const reading = (async () => {
        for await (const event of readParleyEvents(res.body!)) {
          events.push(event);
          if (isTerminalEvent(event) && !released) endSeenBeforeRelease = true;
        }
      })();
      // The whole answer arrives although the run's row cannot be written yet.
      while (!events.some((e) => e.type === 'text.end')) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(events.filter((e) => e.type === 'text.delta').length).toBeGreaterThan(0);
      const waiting = await admin.query<{ n: string }>(
        'select count(*)::text as n from runs where id = $1',
        [runId],
      );
      expect(waiting.rows[0]!.n).toBe('0');
      // Held a moment longer: an end shown before it was stored would arrive now.
      await new Promise((resolve) => setTimeout(resolve, 300));
      released = true;
      await locker.query('commit');
      await reading;
      expect(endSeenBeforeRelease).toBe(false);
      expect(events.at(-1)!.type).toBe('run.finish');
      expect(checkConformance(events)).toEqual([]);
      // Everything the client saw is stored, in the same order.
      const stored = await admin.query<{ seq: number; type: string }>(
        'select seq, type from run_events where run_id = $1 order by seq',
        [runId],
      );
      expect(stored.rows.map((r) => [r.seq, r.type])).toEqual(events.map((e) => [e.seq, e.type]));
    } finally {
      locker.release();
    }
  });

  it("ends the stream when the run's rows cannot be stored, says so, and stores nothing", async () => {
    await admin.query(`
      create function refuse_conversations() returns trigger language plpgsql as $$
        begin raise exception 'conversations are refused in this test'; end $$;
      create trigger refuse_conversations before insert on conversations
        for each row execute function refuse_conversations();`);
    try {
      // A run that answers at once ends with an error naming the cause.
      const quick = await start();
      expect(quick.status).toBe(200);
      const quickEvents = await readAll(quick);
      expect(quickEvents.at(-1)).toMatchObject({
        type: 'run.error',
        error: { message: 'This run could not be stored, so nothing of it was kept.' },
      });
      // A run still waiting for its model is stopped, not left to spend tokens nobody keeps
      const slow = await start(undefined, 'hangs');
      expect(slow.status).toBe(200);
      const slowEvents = await readAll(slow);
      // (its model never answers: without the stop this stream would never end)
      expect(slowEvents.at(-1)).toMatchObject({
        type: 'run.error',
        error: { message: 'This run could not be stored, so nothing of it was kept.' },
      });
      for (const runId of [quick, slow].map((r) => r.headers.get('x-parley-run-id'))) {
        const stored = await admin.query('select 1 from runs where id = $1', [runId]);
        expect(stored.rowCount).toBe(0);
      }
    } finally {
      await admin.query(`
        drop trigger refuse_conversations on conversations;
        drop function refuse_conversations();`);
    }
    // The server is unharmed: the next run is stored as usual.
    const res = await start();
    const events = await readAll(res);
    expect(events.at(-1)!.type).toBe('run.finish');
  });

  it('ends saying so when its answer cannot be stored: no run.finish over a lost message', async () => {
    await admin.query(`
      create function refuse_answers() returns trigger language plpgsql as $$
        begin
          if new.role = 'assistant' then raise exception 'answers are refused in this test'; end if;
          return new;
        end $$;
      create trigger refuse_answers before insert on messages
        for each row execute function refuse_answers();`);
    try {
      const res = await start();
      const runId = res.headers.get('x-parley-run-id')!;
      const events = await readAll(res);
      expect(events.at(-1)).toMatchObject({
        type: 'run.error',
        // The store names the database error by its code, never by the database's text.
        error: { code: 'internal', message: 'Database error P0001.' },
      });
      expect(checkConformance(events)).toEqual([]);
      // The log holds the same end, and the run is recorded failed.
      const stored = await admin.query<{ type: string; status: string }>(
        `select e.type, r.status from run_events e join runs r on r.id = e.run_id
         where e.run_id = $1 order by e.seq desc limit 1`,
        [runId],
      );
      expect(stored.rows[0]).toEqual({ type: 'run.error', status: 'failed' });
    } finally {
      await admin.query(`
        drop trigger refuse_answers on messages;
        drop function refuse_answers();`);
    }
  });

  it('checks an existing conversation before the stream starts (404, not a stream)', async () => {
    const res = await start('00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });
});
