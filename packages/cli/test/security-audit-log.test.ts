import { createParleyClient } from '@parley/client';
import { startTestServer, type TestServer } from '@parley/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parley, testIo } from './support/io.ts';

/*
 * `parley security audit-log`: the workspace's audit log exported for an investigation, every
 * event once, across pages whose boundaries fall inside a transaction (whose events share
 * their time to the microsecond).
 */

/** Records `n` audit events in one transaction: they share one `at`. */
async function burst(server: TestServer, action: string, label: string, n: number) {
  await server.store.withWorkspace(server.workspaceId, async (ws) => {
    for (let i = 0; i < n; i++)
      await ws.audit.record({ action, targetType: 'test', targetId: `${label}-${i}` });
  });
}

describe('parley security audit-log', () => {
  let server: TestServer;
  const env = () => ({ PARLEY_SERVER: server.url, PARLEY_TOKEN: server.token });

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('exports every event once as JSON Lines, though pages end inside a transaction', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    for (const label of ['a', 'b', 'c']) await burst(server, 'test.burst', label, 150);

    // The API alone, paged by the last event's time, skips the rest of that transaction.
    const owner = createParleyClient({ baseUrl: server.url, token: server.token });
    let naive = 0;
    let before: string | undefined;
    for (;;) {
      const page = await owner.audit.list(server.workspaceId, {
        action: 'test.burst',
        limit: 200,
        ...(before ? { before } : {}),
      });
      naive += page.length;
      if (page.length < 200) break;
      before = page.at(-1)!.at;
    }
    expect(naive).toBeLessThan(450);
    // Paged by the last event's id, the API gives each event once.
    const byId: string[] = [];
    for (let beforeId: string | undefined; ; ) {
      const page = await owner.audit.list(server.workspaceId, {
        action: 'test.burst',
        limit: 200,
        ...(beforeId ? { beforeId } : {}),
      });
      byId.push(...page.map((e) => e.id));
      if (page.length < 200) break;
      beforeId = page.at(-1)!.id;
    }
    expect(byId).toHaveLength(450);
    expect(new Set(byId).size).toBe(450);

    const io = await testIo({ env: env() });
    const { code, stdout, stderr } = await parley(
      ['security', 'audit-log', '--since', since, '--json'],
      io,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const events = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; at: string; action: string; targetId: string });
    const burstEvents = events.filter((e) => e.action === 'test.burst');
    expect(burstEvents).toHaveLength(450);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(new Set(burstEvents.map((e) => e.targetId))).toEqual(
      new Set(['a', 'b', 'c'].flatMap((l) => Array.from({ length: 150 }, (_, i) => `${l}-${i}`))),
    );
    // Newest first, none before --since.
    const times = events.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(Date.parse(since));

    // --action narrows the export to one action.
    const only = await parley(
      ['security', 'audit-log', '--since', since, '--action', 'test.burst', '--json'],
      io,
    );
    expect(only.stdout.trimEnd().split('\n')).toHaveLength(450);
  });

  it('prints one readable line per event, and says when the window is empty', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    await burst(server, 'test.readable', 'r', 2);
    const io = await testIo({ env: env() });
    const { code, stdout } = await parley(
      ['security', 'audit-log', '--since', since, '--action', 'test.readable'],
      io,
    );
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines)
      expect(l).toMatch(
        /^\d{4}-\d\d-\d\dT\S+Z {2}test\.readable {2}ok {2}system {2}test:r-[01] {2}-$/,
      );

    const later = await parley(['security', 'audit-log', '--since', '9999-01-01T00:00:00Z'], io);
    expect(later.code).toBe(0);
    expect(later.stdout).toBe('(no audit events in that window)\n');
  });

  it('exports every event of an instant that holds more events than a page (paged by id)', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    await burst(server, 'test.crowd', 'early', 5);
    await burst(server, 'test.crowd', 'crowd', 250);
    const io = await testIo({ env: env() });
    const { code, stdout, stderr } = await parley(
      ['security', 'audit-log', '--since', since, '--action', 'test.crowd', '--json'],
      io,
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const targets = stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { targetId: string }).targetId);
    expect(targets.filter((t) => t.startsWith('crowd-'))).toHaveLength(250);
    expect(new Set(targets).size).toBe(targets.length);
    expect(targets.filter((t) => t.startsWith('early-')).sort()).toEqual(
      Array.from({ length: 5 }, (_, i) => `early-${i}`).sort(),
    );
  });
});
