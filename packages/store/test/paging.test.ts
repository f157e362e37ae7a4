import { beforeAll, expect, it } from 'vitest';
import type { WorkspaceScope } from '../src/workspace-scope.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Every keyset-paged list (newest first) pages by the last row's id: rows written in one
 * transaction share their time, and paging by time alone skipped all but one of them.
 */

type Row = { id: string };
type Page = (ws: WorkspaceScope, cursor: { beforeId?: string; before?: Date }) => Promise<Row[]>;

describeEachEngine('keyset paging', (h) => {
  let workspaceId = '';
  let agentId = '';

  beforeAll(async () => {
    workspaceId = (await seedWorkspace(h().store, 'paging')).workspaceId;
    agentId = (
      await h().store.withWorkspace(workspaceId, (w) => w.agents.create({ name: 'pager' }))
    ).id;
  });

  /** Pages one row at a time by id, as a client following `beforeId` does. */
  async function pageByOne(page: Page): Promise<string[]> {
    const ids: string[] = [];
    for (let beforeId: string | undefined; ; ) {
      const rows = await h().store.withWorkspace(workspaceId, (w) =>
        page(w, beforeId ? { beforeId } : {}),
      );
      if (rows.length === 0) return ids;
      ids.push(rows[0]!.id);
      beforeId = rows[0]!.id;
    }
  }

  const lists: [string, (w: WorkspaceScope) => Promise<Row[]>, Page, string][] = [
    [
      'runs',
      (w) => Promise.all([1, 2, 3].map(() => w.runs.create({ agentId, startedBy: 'system' }))),
      (w, cursor) => w.runs.list({ agentId, limit: 1, ...cursor }),
      'createdAt',
    ],
    [
      'conversations',
      (w) => Promise.all([1, 2, 3].map(() => w.conversations.create({ agentId }))),
      (w, cursor) => w.conversations.list({ agentId, limit: 1, ...cursor }),
      'updatedAt',
    ],
    [
      'audit events',
      async (w) => {
        for (let i = 0; i < 3; i++) await w.audit.record({ action: 'paging.probe' });
        return w.audit.list({ action: 'paging.probe' });
      },
      (w, cursor) => w.audit.list({ action: 'paging.probe', limit: 1, ...cursor }),
      'at',
    ],
  ];

  for (const [name, createThree, page, timeKey] of lists) {
    it(`${name}: rows with the same time are each listed once, paging by id`, async () => {
      // One transaction: the three rows share their timestamp.
      const created = await h().store.withWorkspace(workspaceId, createThree);
      expect(created).toHaveLength(3);
      const ids = await pageByOne(page);
      expect(ids).toHaveLength(3);
      expect(new Set(ids)).toEqual(new Set(created.map((r) => r.id)));
      // By time alone, the first page's time hides the other two.
      const [first] = await h().store.withWorkspace(workspaceId, (w) => page(w, {}));
      const time = (first as unknown as Record<string, Date>)[timeKey]!;
      expect(time).toBeInstanceOf(Date);
      const byTime = await h().store.withWorkspace(workspaceId, (w) => page(w, { before: time }));
      expect(byTime).toEqual([]);
      // An id that is no row of this workspace selects nothing.
      const none = await h().store.withWorkspace(workspaceId, (w) =>
        page(w, { beforeId: '00000000-0000-4000-8000-000000000000' }),
      );
      expect(none).toEqual([]);
    });
  }
});
