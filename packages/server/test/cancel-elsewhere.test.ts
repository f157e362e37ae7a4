import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkConformance,
  isTerminalEvent,
  type ParleyEvent,
  readParleyEvents,
} from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from './support/harness.ts';
import { type StandIn, slowProvider } from './support/slow-provider.ts';

/*
 * Two servers on one PostgreSQL database; a run streams on the first, a cancel arrives through
 * the second. Events reach the first server's clients before its log, and it goes on showing
 * what it produces until its next write finds the log closed: the cancel's end is numbered
 * after a run.gap past all of that, so no seq the first server's client saw stands for another
 * event in the log (the cancel used to take the next seq, which that client had seen as text).
 */

let database: TestDatabase;
let first: TestServer;
let second: TestServer;
let provider: StandIn;
let dataDir = '';

beforeAll(async () => {
  provider = await slowProvider();
  database = await createTestDatabase('cancel');
  // One data directory too: the second server finds the single-user owner the first made.
  dataDir = await mkdtemp(join(tmpdir(), 'parley-cancel-'));
  const reuse = { database, dataDir };
  first = await startTestServer({ engine: 'postgres', reuse, keepDatabase: true });
  second = await startTestServer({ engine: 'postgres', reuse, keepDatabase: true });
}, 120_000);

afterAll(async () => {
  await second?.close();
  await first?.close();
  await provider?.close();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a run cancelled through another server', () => {
  it('ends after a run.gap: the log never holds a seq the running server showed as something else', async () => {
    expect(second.token).toBe(first.token);
    const call = client(first.url, first.token);
    const agents = `/v1/workspaces/${first.workspaceId}/agents`;
    const created = await call('POST', agents, {
      definition: {
        name: 'counter',
        instructions: 'You are a test agent.',
        model: { provider: 'openai-compatible', model: 'slow', baseURL: provider.baseURL },
        memory: { enabled: false, autoExtract: false },
      },
      deploy: true,
    });
    expect(created.status).toBe(201);
    const response = await call('POST', `${agents}/counter/runs`, { input: 'count' });
    const runId = response.headers.get('x-parley-run-id')!;
    const seen: ParleyEvent[] = [];
    let cancel: Promise<Response> | undefined;
    for await (const event of readParleyEvents(response.body!)) {
      seen.push(event);
      // Cancel once the run is well under way (its row and first events are stored).
      if (event.type === 'text.delta' && event.seq === 30)
        cancel = client(second.url, second.token)('POST', `/v1/runs/${runId}/cancel`);
    }
    const answer = (await (await cancel!).json()) as { cancelled: boolean; status: string };
    expect(answer).toEqual({ runId, cancelled: true, status: 'cancelled' });
    expect(checkConformance(seen)).toEqual([]);
    expect(seen.filter(isTerminalEvent)).toHaveLength(1);

    const log: ParleyEvent[] = [];
    const stored = await fetch(`${second.url}/v1/runs/${runId}/events`, {
      headers: { authorization: `Bearer ${second.token}` },
    });
    for await (const event of readParleyEvents(stored.body!)) log.push(event);
    expect(checkConformance(log)).toEqual([]);
    expect(log.at(-2)).toMatchObject({ type: 'run.gap' });
    expect(log.at(-1)).toMatchObject({ type: 'run.abort', reason: 'cancelled' });
    const bySeq = new Map(log.map((e) => [e.seq, JSON.stringify(e)]));
    const reused = seen.filter((e) => bySeq.has(e.seq) && bySeq.get(e.seq) !== JSON.stringify(e));
    expect(reused).toEqual([]);
  });
});
