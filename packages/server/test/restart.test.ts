import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConformance, type ParleyEvent, readParleyEvents } from '@parley/protocol';
import type { ScriptTurn } from '@parley/providers';
import { copyPgliteTemplate, createTestDatabase } from '@parley/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { client, ENGINES, freePort, scriptedAgent, startTestServer } from './support/harness.ts';

/*
 * A client that reconnects after a server restart gets every event it was shown before the
 * restart, then the run's end. Graceful stop (in process): on PGlite running runs end with
 * run.abort (shutdown) and the log is flushed; on PostgreSQL they are handed over, and the
 * next server continues them (step.reset, reason failover). Crash (SIGKILL of a real server process):
 * events are shown live and stored in batches, so the log holds a prefix of what the client
 * saw (all of it unless the crash beat the last write); the next server closes the orphaned
 * run after a run.gap past that prefix, and a client resuming from further on gets that end
 * (crash-durability.test.ts checks the rest).
 */

const hangScript: ScriptTurn[] = [
  [{ type: 'text', text: 'alpha beta gamma delta epsilon zeta eta theta' }, { type: 'hang' }],
];

async function readUntil(
  response: Response,
  stop: (e: ParleyEvent, all: ParleyEvent[]) => boolean,
) {
  const events: ParleyEvent[] = [];
  const reader = readParleyEvents(response.body!);
  for await (const event of reader) {
    events.push(event);
    if (stop(event, events)) break;
  }
  return events;
}

async function readAll(response: Response) {
  return readUntil(response, () => false);
}

describe.each(ENGINES)('resume after a graceful restart [%s]', (engine) => {
  it('replays what was sent, then the run goes on (PostgreSQL) or ends as the stopping server wrote (PGlite)', {
    timeout: 120_000,
  }, async () => {
    const database =
      engine === 'postgres' ? await createTestDatabase('restart', { migrated: true }) : undefined;
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-restart-'));
    // A migrated PGlite database to start from (the store's test templates), not initdb.
    if (engine === 'pglite') await copyPgliteTemplate(dataDir);
    const reuse = { dataDir, ...(database ? { database } : {}) };
    const first = await startTestServer({ engine, reuse, keepDatabase: true });
    try {
      const call = client(first.url, first.token);
      const created = await call('POST', `/v1/workspaces/${first.workspaceId}/agents`, {
        definition: scriptedAgent('waiter', hangScript),
        deploy: true,
      });
      expect(created.status).toBe(201);
      const res = await call('POST', `/v1/workspaces/${first.workspaceId}/agents/waiter/runs`, {
        input: 'wait',
      });
      const runId = res.headers.get('x-parley-run-id')!;
      const seen = await readUntil(res, (e) => e.type === 'text.delta' && e.seq >= 4);
      const stopping = first.close();
      await stopping;
      const second = await startTestServer({ engine, reuse });
      try {
        expect(second.token).toBe(first.token);
        const resumed = await fetch(`${second.url}/v1/runs/${runId}/events`, {
          headers: {
            authorization: `Bearer ${second.token}`,
            'last-event-id': String(seen.at(-1)!.seq),
          },
        });
        // PostgreSQL: the run was handed over, and this server continues it (the script hangs
        // again): cancel it once its new step starts. PGlite: it was ended at the stop.
        const tail = await readUntil(resumed, (e) => {
          if (engine === 'postgres' && e.type === 'step.start')
            void client(second.url, second.token)('POST', `/v1/runs/${runId}/cancel`);
          return false;
        });
        const whole = [...seen, ...tail];
        expect(checkConformance(whole)).toEqual([]);
        if (engine === 'postgres') {
          expect(tail.find((e) => e.type === 'step.reset')).toMatchObject({ reason: 'failover' });
          expect(whole.at(-1)).toMatchObject({ type: 'run.abort', reason: 'cancelled' });
        } else {
          expect(whole.at(-1)).toMatchObject({
            type: 'run.abort',
            reason: 'shutdown',
            by: 'server',
          });
        }
        const run = (await (
          await client(second.url, second.token)('GET', `/v1/runs/${runId}`)
        ).json()) as {
          status: string;
        };
        expect(run.status).toBe('cancelled');
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

function startProcess(
  dataDir: string,
  port: number,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    new URL('../../../node_modules/.bin/node', import.meta.url).pathname,
    [new URL('../src/main.js', import.meta.url).pathname],
    {
      env: {
        PATH: process.env.PATH ?? '',
        PARLEY_DATA_DIR: dataDir,
        PARLEY_PORT: String(port),
        PARLEY_LOG_LEVEL: 'warn',
        PARLEY_SHUTDOWN_GRACE_SECONDS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    // A fresh PGlite directory takes ~8 s to start, and far longer on a loaded machine.
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Parley listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

describe('resume after a crash (SIGKILL of the server process, PGlite)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('the log holds what the client saw, up to the crash; the next server closes the run after it', {
    timeout: 300_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-crash-'));
    await copyPgliteTemplate(dataDir);
    try {
      const port = await freePort();
      const first = await startProcess(dataDir, port);
      children.push(first.child);
      const credentials = JSON.parse(await readFile(join(dataDir, 'credentials'), 'utf8')) as {
        token: string;
        workspaceId: string;
      };
      const call = client(first.url, credentials.token);
      const created = await call('POST', `/v1/workspaces/${credentials.workspaceId}/agents`, {
        definition: scriptedAgent('crashy', hangScript),
        deploy: true,
      });
      expect(created.status).toBe(201);
      const res = await call(
        'POST',
        `/v1/workspaces/${credentials.workspaceId}/agents/crashy/runs`,
        {
          input: 'go',
        },
      );
      const runId = res.headers.get('x-parley-run-id')!;
      const seen = await readUntil(res, (e) => e.type === 'text.delta' && e.seq >= 6);
      // The run streams while its row is being written (docs/server.md): a crash before that
      // write leaves no run to resume (404). This test is about a run that exists.
      while ((await call('GET', `/v1/runs/${runId}`)).status !== 200) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const exited = new Promise((r) => first.child.once('exit', r));
      first.child.kill('SIGKILL');
      await exited;

      const second = await startProcess(dataDir, port);
      children.push(second.child);
      const resume = (after: number) =>
        fetch(`${second.url}/v1/runs/${runId}/events`, {
          headers: { authorization: `Bearer ${credentials.token}`, 'last-event-id': String(after) },
        });
      const tail = await readAll(await resume(seen.at(-1)!.seq));
      const whole = [...seen, ...tail];
      expect(checkConformance(whole)).toEqual([]);
      expect(whole.at(-1)).toMatchObject({ type: 'run.abort', reason: 'shutdown' });
      // What the log holds before its end is what the client was shown, unchanged. When the
      // crash beat the run's first event write, the next server wrote the run.start itself
      // (from the run's row: its own clock and start time), then the end.
      const log = await readAll(await resume(0));
      expect(checkConformance(log)).toEqual([]);
      // Before its end: a run.gap past whatever the client saw and the log did not get.
      expect(log.at(-2)).toMatchObject({ type: 'run.gap' });
      const stored = log.slice(0, -2);
      const common = Math.min(stored.length, seen.length);
      expect(common).toBeGreaterThan(0);
      if (stored.length === 1) {
        const { t: _t, startedAt: _s, ...start } = seen[0] as ParleyEvent & { startedAt: string };
        expect(stored[0]).toMatchObject(start);
      } else {
        expect(stored.slice(0, common)).toEqual(seen.slice(0, common));
      }
      expect(log.at(-1)).toMatchObject({ type: 'run.abort', reason: 'shutdown' });
      // The server writes its data directory until it has stopped: wait for that before removing it.
      if (second.child.exitCode === null) {
        const exited = new Promise((r) => second.child.once('exit', r));
        second.child.kill('SIGTERM');
        await exited;
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
    }
  });
});
