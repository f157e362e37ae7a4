import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkConformance,
  isTerminalEvent,
  type ParleyEvent,
  reduceEvents,
  textOf,
} from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from './support/harness.ts';
import {
  killServerProcesses,
  readUntilGone,
  type ServerProcess,
  startServerProcess,
} from './support/server-process.ts';
import { type StandIn, slowProvider } from './support/slow-provider.ts';

/*
 * Issue #21: runs that survive losing their instance. Two instances on one PostgreSQL
 * database; a run streams on the first (a real server process), a slow provider stand-in
 * answers its first model call forever and every later call at once. When the first instance
 * is SIGKILLed, the second takes the run over once its lease lapses and continues it: its
 * clients see `run.gap` (the dead instance may have shown events it never stored), then
 * `step.reset` (reason failover), the model call again, and one end. On SIGTERM the first
 * hands the run over at once, its log complete: no gap.
 */

const LEASE_SECONDS = '2';
let database: TestDatabase;
let dataDir = '';
let provider: StandIn;
let survivor: TestServer;
let first: ServerProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase('failover', { migrated: true });
  dataDir = await mkdtemp(join(tmpdir(), 'parley-failover-'));
  provider = await slowProvider();
}, 120_000);

afterEach(() => killServerProcesses());

afterAll(async () => {
  killServerProcesses();
  await survivor?.close();
  await provider?.close();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Starts both instances (the first as a process it can kill) and a streaming run on the first. */
async function runOnFirst(agent = 'slow', apiKeySecret?: string) {
  provider.requests.length = 0;
  first = await startServerProcess({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_DATABASE_URL: database.runtimeUrl,
    PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
    PARLEY_RUN_LEASE_SECONDS: LEASE_SECONDS,
    PARLEY_INSTANCE_ID: 'first',
  });
  survivor ??= await startTestServer({
    engine: 'postgres',
    reuse: { database, dataDir },
    keepDatabase: true,
    env: { PARLEY_RUN_LEASE_SECONDS: LEASE_SECONDS, PARLEY_INSTANCE_ID: 'survivor' },
  });
  const call = client(first.url, first.token);
  if (apiKeySecret) {
    const put = await call('PUT', `/v1/workspaces/${first.workspaceId}/secrets/${apiKeySecret}`, {
      value: 'sk-slow-key-for-the-test',
    });
    expect(put.status).toBeLessThan(300);
  }
  const agents = `/v1/workspaces/${first.workspaceId}/agents`;
  // Created by the first test; the second finds it (409).
  const created = await call('POST', agents, {
    definition: {
      name: agent,
      instructions: 'You are a test agent.',
      model: {
        provider: 'openai-compatible',
        model: 'slow',
        baseURL: provider.baseURL,
        ...(apiKeySecret ? { apiKeySecret } : {}),
      },
      memory: { enabled: false, autoExtract: false },
    },
    deploy: true,
  });
  expect([201, 409]).toContain(created.status);
  const response = await call('POST', `${agents}/${agent}/runs`, { input: 'count' });
  expect(response.status).toBe(200);
  const runId = response.headers.get('x-parley-run-id')!;
  // The run streams while its row and log are written: only a crash after the row and the
  // model call's step.start are stored leaves a run to continue and a step to reset (under a
  // loaded CI machine the log may lag what the client was shown).
  const row = { stored: false };
  void (async () => {
    for (;;) {
      const answer = await call('GET', `/v1/runs/${runId}`);
      if (answer.status === 200 && ((await answer.json()) as { lastSeq: number }).lastSeq >= 2)
        break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    row.stored = true;
  })().catch(() => {});
  return { response, runId, row };
}

/** Follows a run through the survivor from `after` to its end (once its row is stored). */
async function follow(runId: string, after: number) {
  const get = client(survivor.url, survivor.token);
  while ((await get('GET', `/v1/runs/${runId}`)).status !== 200)
    await new Promise((resolve) => setTimeout(resolve, 10));
  const response = await fetch(`${survivor.url}/v1/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${survivor.token}`, 'last-event-id': String(after) },
  });
  expect(response.status).toBe(200);
  return readUntilGone(response);
}

describe('a run whose instance stops [postgres]', () => {
  it('SIGKILL: another instance continues it after a run.gap and step.reset (failover), to one end', {
    timeout: 120_000,
  }, async () => {
    const { response, runId, row } = await runOnFirst();
    // A follower through the survivor from the start, live by the bus's doorbells.
    let following: Promise<ParleyEvent[]> | undefined;
    let killedAt = 0;
    const seen = await readUntilGone(response, (event) => {
      if (event.type === 'text.delta' && event.seq === 10) following = follow(runId, 0);
      if (event.type === 'text.delta' && event.seq >= 40 && row.stored && killedAt === 0) {
        killedAt = performance.now();
        first!.child.kill('SIGKILL');
      }
    });
    expect(killedAt).toBeGreaterThan(0);
    // The client of the dead instance reconnects to the survivor where it was.
    const tail = await follow(runId, seen.at(-1)!.seq);
    const whole = [...seen, ...tail];
    expect(checkConformance(whole)).toEqual([]);
    expect(whole.filter(isTerminalEvent)).toEqual([
      expect.objectContaining({ type: 'run.finish' }),
    ]);
    expect(tail[0]).toMatchObject({ type: 'run.gap' });
    expect(tail.find((e) => e.type === 'step.reset')).toMatchObject({ reason: 'failover' });
    expect(textOf(reduceEvents(whole))).toBe('ok');

    const followed = await following!;
    expect(checkConformance(followed)).toEqual([]);
    expect(followed.filter(isTerminalEvent)).toEqual([tail.at(-1)]);
    const resumedAt = followed.findIndex((e) => e.type === 'run.gap');
    console.info(
      `[failover] SIGKILL → the survivor's first event of the continued run: ${Math.round(performance.now() - killedAt)} ms (lease ${LEASE_SECONDS} s); follower saw ${resumedAt} events before the gap`,
    );

    // The model was asked again with the same conversation: the user's input, once.
    expect(provider.requests).toHaveLength(2);
    expect(provider.requests[1]!.filter((m) => m.role === 'user')).toEqual([
      { role: 'user', content: 'count' },
    ]);
    const run = (await (
      await client(survivor.url, survivor.token)('GET', `/v1/runs/${runId}`)
    ).json()) as {
      status: string;
      conversationId: string;
    };
    expect(run.status).toBe('succeeded');
    const messages = await survivor.store.withWorkspace(survivor.workspaceId, (ws) =>
      ws.messages.list(run.conversationId),
    );
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', [{ kind: 'text', text: 'count' }]],
      ['assistant', [{ kind: 'text', text: 'ok' }]],
    ]);
  });

  it('SIGTERM: the instance hands the run over at once, its log complete (no gap)', {
    timeout: 120_000,
  }, async () => {
    const { response, runId, row } = await runOnFirst();
    let stopped = false;
    const seen = await readUntilGone(response, (event) => {
      if (event.type === 'text.delta' && event.seq >= 30 && row.stored && !stopped) {
        stopped = true;
        first!.child.kill('SIGTERM');
      }
    });
    expect(stopped).toBe(true);
    await first!.exited;
    const tail = await follow(runId, seen.at(-1)!.seq);
    const whole = [...seen, ...tail];
    expect(checkConformance(whole)).toEqual([]);
    expect(whole.filter(isTerminalEvent)).toEqual([
      expect.objectContaining({ type: 'run.finish' }),
    ]);
    const log = await follow(runId, 0);
    expect(log.some((e) => e.type === 'run.gap')).toBe(false);
    expect(log.find((e) => e.type === 'step.reset')).toMatchObject({ reason: 'failover' });
    // Nothing the client saw is missing from the log, or different there.
    const bySeq = new Map(log.map((e) => [e.seq, JSON.stringify(e)]));
    expect(seen.filter((e) => bySeq.get(e.seq) !== JSON.stringify(e))).toEqual([]);
    expect(textOf(reduceEvents(log))).toBe('ok');
  });

  it('a run nobody can continue (its model key was deleted meanwhile) ends with run.error run_lost', {
    timeout: 120_000,
  }, async () => {
    const { response, runId, row } = await runOnFirst('keyed', 'SLOW_KEY');
    let killed = false;
    const seen = await readUntilGone(response, (event) => {
      if (event.type === 'text.delta' && event.seq >= 20 && row.stored && !killed) {
        killed = true;
        first!.child.kill('SIGKILL');
      }
    });
    expect(killed).toBe(true);
    const removed = await client(survivor.url, survivor.token)(
      'DELETE',
      `/v1/workspaces/${survivor.workspaceId}/secrets/SLOW_KEY`,
    );
    expect(removed.status).toBe(204);
    const tail = await follow(runId, seen.at(-1)!.seq);
    const whole = [...seen, ...tail];
    expect(checkConformance(whole)).toEqual([]);
    expect(whole.filter(isTerminalEvent)).toEqual([
      expect.objectContaining({
        type: 'run.error',
        error: expect.objectContaining({ code: 'run_lost' }),
      }),
    ]);
    const run = (await (
      await client(survivor.url, survivor.token)('GET', `/v1/runs/${runId}`)
    ).json()) as {
      status: string;
    };
    expect(run.status).toBe('failed');
  });
});
