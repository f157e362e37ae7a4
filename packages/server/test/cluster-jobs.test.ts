import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/harness.ts';

/*
 * Timed jobs run once per cluster per tick: two instances on one database both tick the SLA
 * breach check every 200 ms, and each tick (numbered on the database's clock) is run by one
 * of them only; the other refreshes its gauges and leaves the breaches alone.
 */

let database: TestDatabase;
let dataDir = '';
const servers: TestServer[] = [];

beforeAll(async () => {
  database = await createTestDatabase('cluster_jobs', { migrated: true });
  dataDir = await mkdtemp(join(tmpdir(), 'parley-jobs-'));
  for (let i = 0; i < 2; i++)
    servers.push(
      await startTestServer({
        engine: 'postgres',
        reuse: { database, dataDir },
        keepDatabase: true,
        tuning: { slaCheckMs: 200 },
      }),
    );
}, 120_000);

afterAll(async () => {
  for (const server of servers.reverse()) await server.close();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('runs each tick of the SLA breach check on one instance only', async () => {
  const ticks = servers.map((s) => s.app.services.trust.scheduler.ticks);
  const started = Date.now();
  while (ticks.reduce((n, t) => n + t.ran.length, 0) < 10) {
    if (Date.now() - started > 30_000) throw new Error(`too few ticks: ${JSON.stringify(ticks)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const ran = ticks.flatMap((t) => t.ran);
  expect(new Set(ran).size).toBe(ran.length);
  // Both took part: each tried every 200 ms, and between them no tick ran twice.
  for (const t of ticks) expect(t.ran.length + t.skipped).toBeGreaterThan(1);
  console.info(
    `[cluster] SLA check ticks: ${ticks.map((t) => `ran ${t.ran.length}, left ${t.skipped}`).join('; ')}`,
  );
});
