import { openStore, type Store, type WorkspaceScope } from '@parley/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifySupportRequest, computeTrustMetrics, supportDesk } from '../src/index.ts';

/*
 * The trust metrics from a real event log (PGlite) against numbers worked out by hand, and
 * the support-request classifier.
 */

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-02T00:00:00.000Z'); // a Monday
const at = (hours: number) => new Date(T0 + hours * HOUR);

describe('trust metrics from the event log', () => {
  let store: Store;
  let workspaceId: string;
  const inWs = <T>(fn: (ws: WorkspaceScope) => Promise<T>) => store.withWorkspace(workspaceId, fn);
  beforeAll(async () => {
    store = await openStore({ memory: true, masterKey: Buffer.alloc(32, 3).toString('base64') });
    await store.migrate();
    const user = await store.system.users.create({ email: 'm@example.org', displayName: 'M' });
    workspaceId = (await store.system.workspaces.create({ name: 'm', ownerUserId: user.id })).id;
  });
  afterAll(async () => {
    await store?.close();
  });

  it('match the hand-computed example', async () => {
    const open = (subject: string, channel: string, hours: number, body: string) =>
      inWs((ws) =>
        supportDesk(ws).createTicket({ subject, channel, requester: 'r', body }, at(hours)),
      );
    const reply = (id: string, hours: number) =>
      inWs((ws) =>
        supportDesk(ws).addMessage(id, { direction: 'outbound', body: 'hi' }, at(hours)),
      );
    const inbound = (id: string, hours: number, body: string) =>
      inWs((ws) => supportDesk(ws).addMessage(id, { direction: 'inbound', body }, at(hours)));
    const status = (id: string, hours: number, to: 'pending' | 'solved') =>
      inWs((ws) => supportDesk(ws).updateTicket(id, { status: to }, at(hours)));
    const check = (hours: number) => inWs((ws) => supportDesk(ws).detectBreaches(at(hours)));

    // A: answered after 2 h, solved, reopened, solved again.
    const a = await open('A', 'discord', 0, 'How do I migrate my tokens?');
    await reply(a.id, 2);
    await status(a.id, 3, 'solved');
    await inbound(a.id, 5, 'still broken');
    await status(a.id, 6, 'solved');
    // B: pending from 5 h to 25 h, answered at 30 h: (30 − 1) − 20 = 9 h.
    const b = await open('B', 'email', 1, 'how to migrate tokens');
    await status(b.id, 5, 'pending');
    await inbound(b.id, 25, 'here are the screenshots');
    await reply(b.id, 30);
    await status(b.id, 31, 'solved');
    // C: never answered: breaches at 50 h (week of 2 March), still new.
    const c = await open('C', 'discord', 2, 'Where is the migration for tokens?');
    expect((await check(72)).map((x) => x.ticketId)).toEqual([c.id]);
    // F: breaches at 168 h (Monday 9 March), answered at 170 h: 50 h.
    const f = await open('F', 'github', 120, 'password reset');
    expect((await check(169)).map((x) => x.ticketId)).toEqual([f.id]);
    await reply(f.id, 170);
    // D: answered after 40 h, within the SLA.
    const d = await open('D', 'email', 192, 'api keys rotate');
    await reply(d.id, 232);
    // E: 12 h old, not due yet.
    await open('E', 'api', 228, 'dashboard colours');
    expect(await check(240)).toEqual([]);

    await inWs(async (ws) => {
      await ws.securitySignals.record({ kind: 'scam.link_warned', severity: 'info' });
      await ws.securitySignals.record({ kind: 'scam.link_warned', severity: 'info' });
      await ws.securitySignals.record({ kind: 'scam.link_blocked', severity: 'warning' });
    });

    const m = await inWs((ws) => computeTrustMetrics(ws, { since: at(-1), now: at(240) }));
    expect(m.support.ticketsCreated).toBe(6);
    // First responses [2, 9, 40, 50] h: p50 = 9 + 0.5 × 31 = 24.5 h; p90 = 40 + 0.7 × 10 = 47 h.
    expect(m.support.firstResponse).toEqual({
      count: 4,
      p50Seconds: 24.5 * 3600,
      p90Seconds: 47 * 3600,
      // Settled: A, B, D fulfilled in time; C breached; F breached then answered → 3 / 5.
      withinSlaRatio: 0.6,
      breached: 2,
    });
    expect(m.support.breachesByWeek).toEqual([
      { week: '2026-03-02', channel: 'discord', count: 1 },
      { week: '2026-03-09', channel: 'github', count: 1 },
    ]);
    // Open: E 12 h, D 48 h, F 120 h, C 238 h; p90 = 120 + 0.7 × 118 = 202.6 h.
    expect(m.support.backlog).toEqual({
      open: 4,
      byAgeBand: { '0-1d': 1, '1-3d': 1, '3-7d': 1, '>7d': 1 },
      oldest: { ticketId: c.id, ageSeconds: 238 * 3600, subject: 'C' },
      p90AgeSeconds: expect.closeTo(202.6 * 3600, 6),
    });
    // Solved in the window: A (reopened) and B.
    expect(m.support.reopen).toEqual({ solved: 2, reopened: 1, ratio: 0.5 });
    const today = new Date().toISOString().slice(0, 10);
    expect(m.scamVerdictsPerDay).toEqual([{ day: today, warned: 2, blocked: 1 }]);
    // "How do I migrate my tokens?", "how to migrate tokens", "Where is the migration for tokens?"
    expect(m.repeatedQuestions).toHaveLength(1);
    expect(m.repeatedQuestions[0]).toMatchObject({ count: 3, tickets: 3 });
    expect(m.repeatedQuestions[0]!.terms).toEqual(expect.arrayContaining(['migrat', 'token']));
    expect(m.truncated).toBe(false);
  });
});

describe('the support-request classifier', () => {
  it.each([
    ['How do I migrate my tokens?', true],
    ['my wallet got drained after I clicked a link', true],
    ['the bridge is not working for my swap', true],
    ['gm everyone', false],
    ['great job on the launch', false],
    ['what time is the community call?', false],
  ])('%s → %s', (text, support) => {
    expect(classifySupportRequest(text).support).toBe(support);
  });
});
