import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';
import { type StandIn, slowProvider } from './slow-provider.ts';

export interface TwoServers {
  database: TestDatabase;
  first: TestServer;
  second: TestServer;
  provider: StandIn;
}

/**
 * Two servers on one PostgreSQL database (and one data directory: the second finds the
 * single-user owner the first made), with a slow provider, for the file's tests; torn down
 * after them. Read the returned getter inside tests.
 */
export function twoServersForFile(label: string): () => TwoServers {
  let servers: TwoServers | undefined;
  let dataDir = '';
  let database: TestDatabase | undefined;
  let provider: StandIn | undefined;
  let first: TestServer | undefined;
  let second: TestServer | undefined;
  beforeAll(async () => {
    provider = await slowProvider();
    database = await createTestDatabase(label, { migrated: true });
    dataDir = await mkdtemp(join(tmpdir(), `parley-${label}-`));
    const reuse = { database, dataDir };
    first = await startTestServer({ engine: 'postgres', reuse, keepDatabase: true });
    second = await startTestServer({ engine: 'postgres', reuse, keepDatabase: true });
    servers = { database, first, second, provider };
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await provider?.close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return () => servers!;
}
