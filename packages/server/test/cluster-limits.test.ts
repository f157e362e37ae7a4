import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/harness.ts';

/*
 * Counters across instances: two servers on one PostgreSQL database count failed token checks
 * per address and security-signal thresholds together (Redis when configured, PostgreSQL's
 * table otherwise), so a burst split across them is refused at the cluster-wide limit, and a
 * probe spread over them is signalled once. Each test speaks from an address of its own
 * (127.x.y.z), so counts of other tests (and earlier runs, on Redis) do not mix in.
 */

const REDIS_URL = process.env.PARLEY_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LIMIT = 6;
const PROBES = 4;

/** A loopback address of this test's own. */
const ownAddress = () => `127.${randomInt(1, 255)}.${randomInt(0, 255)}.${randomInt(1, 255)}`;

/** GET with a bearer token from a given local address; resolves with the status. */
function get(url: string, token: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { authorization: `Bearer ${token}` }, localAddress },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

for (const counters of ['postgres', 'redis'] as const) {
  describe(`cluster-wide counters (${counters})`, () => {
    let database: TestDatabase;
    let dataDir = '';
    let servers: TestServer[] = [];

    beforeAll(async () => {
      database = await createTestDatabase(`limits_${counters}`, { migrated: true });
      dataDir = await mkdtemp(join(tmpdir(), 'parley-limits-'));
      const reuse = { database, dataDir };
      const env: Record<string, string> =
        counters === 'redis' ? { PARLEY_REDIS_URL: REDIS_URL } : {};
      const tuning = { authFailureLimit: LIMIT, probeThreshold: PROBES };
      for (let i = 0; i < 2; i++)
        servers.push(
          await startTestServer({ engine: 'postgres', reuse, keepDatabase: true, env, tuning }),
        );
    }, 120_000);

    afterAll(async () => {
      for (const server of servers.reverse()) await server.close();
      servers = [];
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('refuses a burst of bad tokens split across instances at the cluster-wide limit', async () => {
      const [a, b] = servers as [TestServer, TestServer];
      const from = ownAddress();
      const agents = `/v1/workspaces/${a.workspaceId}/agents`;
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT + 4; i++)
        statuses.push(await get(`${(i % 2 ? b : a).url}${agents}`, `prl_bad_${i}`, from));
      // Per instance, each would have allowed LIMIT failures (2 × LIMIT answers of 401).
      expect(statuses).toEqual([...Array(LIMIT).fill(401), ...Array(4).fill(429)]);
      // The block itself reaches both (the bus): even the right token is refused from there.
      for (const server of [a, b]) {
        const started = Date.now();
        while ((await get(`${server.url}${agents}`, server.token, from)) !== 429) {
          if (Date.now() - started > 5_000) throw new Error('the block never reached an instance');
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      // Counted where configured: Redis leaves PostgreSQL's table alone.
      const { rows } = await database.admin.query(
        'select count(*)::int as n from cluster_counters',
      );
      if (counters === 'redis') expect(rows[0].n).toBe(0);
      else expect(rows[0].n).toBeGreaterThan(0);
      // Another address is not blocked.
      expect(await get(`${a.url}${agents}`, a.token, ownAddress())).toBe(200);
      // One signal for the burst, from the one instance whose failure reached the limit.
      await Promise.all(servers.map((s) => s.app.services.detector.flush()));
      const signals = await a.store.system.securitySignals.list({ limit: 1_000 });
      expect(signals.filter((s) => s.kind === 'auth.failure_burst' && s.ip === from)).toHaveLength(
        1,
      );
    });

    it('signals a probe spread over instances once, at the cluster-wide threshold', async () => {
      const [a, b] = servers as [TestServer, TestServer];
      const from = ownAddress();
      for (let i = 0; i < PROBES * 2; i++) {
        const server = i % 2 ? b : a;
        const status = await get(
          `${server.url}/v1/workspaces/${randomUUID()}/agents`,
          server.token,
          from,
        );
        expect(status).toBe(404);
      }
      await Promise.all(servers.map((s) => s.app.services.detector.flush()));
      const signals = await a.store.withWorkspace(
        a.workspaceId,
        (ws) => ws.securitySignals.list({ kind: 'workspace.cross_probe' }),
        { actor: { type: 'system' } },
      );
      const mine = signals.filter((s) => s.ip === from);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ details: { misses: PROBES } });
    });
  });
}
