import { openStore, type Store } from '@parley/store';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeMemoryPort } from '../src/runs/store-ports.ts';

/*
 * The memory port tells a run whether its agent may have memories, so a new agent's runs skip
 * recall (a search and, with embeddings, a model call) before their first token.
 */
describe.each(['pglite', 'postgres'] as const)('memory port presence [%s]', (engine) => {
  let database: TestDatabase | undefined;
  let store: Store;
  let workspaceId: string;
  const system = { actor: { type: 'system' as const } };

  beforeAll(async () => {
    const masterKey = Buffer.alloc(32, 5).toString('base64');
    if (engine === 'postgres') {
      database = await createTestDatabase('memport', { migrated: true });
      store = await openStore({
        url: database.runtimeUrl,
        migrationUrl: database.adminUrl,
        masterKey,
        onBackgroundError: () => {},
      });
    } else store = await openStore({ memory: true, masterKey });
    await store.migrate();
    workspaceId = (await store.system.workspaces.ensureLocalOwner()).workspace.workspaceId;
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('answers "none" for a new agent (to a burst too) and "some" after a write', async () => {
    const agent = await store.withWorkspace(workspaceId, (ws) =>
      ws.agents.create({ name: `presence-${engine}` }),
    );
    const port = storeMemoryPort(store, workspaceId, system);
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => port.mayHaveMemories!(agent.id)),
    );
    expect(new Set(burst)).toEqual(new Set([false]));
    // Another run's port (same store) writes: every port knows at once.
    await storeMemoryPort(store, workspaceId, system).write({
      text: 'Ada prefers tea',
      kind: 'fact',
      scope: { workspaceId, agentId: agent.id },
    });
    expect(await port.mayHaveMemories!(agent.id)).toBe(true);
    const hits = await port.search({ text: 'tea', agentId: agent.id, limit: 5 });
    expect(hits.map((hit) => hit.text)).toEqual(['Ada prefers tea']);
  });

  it('treats an agent with memories stored before this process started as having them', async () => {
    const agent = await store.withWorkspace(workspaceId, async (ws) => {
      const created = await ws.agents.create({ name: `earlier-${engine}` });
      await ws.memories.add({ agentId: created.id, scope: 'agent', kind: 'fact', content: 'x' });
      return created;
    });
    expect(await storeMemoryPort(store, workspaceId, system).mayHaveMemories!(agent.id)).toBe(true);
  });
});
