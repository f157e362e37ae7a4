import type { WorkspaceScope } from '@parley/store';
import { describeEachEngine, seedWorkspace } from '@parley/store/testing/engines';
import { expect, it } from 'vitest';
import { supportDesk } from '../src/index.ts';

/*
 * The support desk on PGlite and PostgreSQL: the first-response SLA clock (pause, resume,
 * fulfil, reopen, breach exactly at the deadline), the policy per priority and connector
 * threads, each written as the ticket's event log and its projection on the ticket row.
 */

const HOUR = 3_600_000;
const T0 = new Date('2026-03-02T09:00:00.000Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);

describeEachEngine('support desk', (h) => {
  const store = () => h().store;
  it('runs the first-response clock: pause, resume, breach at exactly the deadline, reopen', async () => {
    const { workspaceId } = await seedWorkspace(store(), 'sla');
    const run = <T>(fn: (s: WorkspaceScope) => Promise<T>) =>
      store().withWorkspace(workspaceId, fn);

    const ticket = await run((s) =>
      supportDesk(s).createTicket(
        { subject: 'Where is the migration?', channel: 'discord', requester: 'ann', body: 'help' },
        at(0),
      ),
    );
    expect(ticket.slaHours).toBe(48);
    expect(ticket.firstResponseDueAt).toEqual(at(48));

    // Pending on the requester from hour 10 to hour 20: the deadline moves by 10 hours.
    await run((s) => supportDesk(s).updateTicket(ticket.id, { status: 'pending' }, at(10)));
    expect(await run((s) => supportDesk(s).detectBreaches(at(50)))).toEqual([]);
    const resumed = await run((s) =>
      supportDesk(s).addMessage(ticket.id, { direction: 'inbound', body: 'still stuck' }, at(20)),
    );
    expect(resumed.status).toBe('open');
    expect(resumed.firstResponseDueAt).toEqual(at(58));

    // One millisecond before the deadline nothing; at the deadline exactly, one breach.
    expect(await run((s) => supportDesk(s).detectBreaches(new Date(at(58).getTime() - 1)))).toEqual(
      [],
    );
    const breaches = await run((s) => supportDesk(s).detectBreaches(at(58)));
    expect(breaches.map((b) => [b.ticketId, b.at])).toEqual([[ticket.id, at(58)]]);
    expect(await run((s) => supportDesk(s).detectBreaches(at(100)))).toEqual([]);

    await run((s) =>
      supportDesk(s).addMessage(ticket.id, { direction: 'outbound', body: 'hi' }, at(60)),
    );
    await run((s) => supportDesk(s).updateTicket(ticket.id, { status: 'solved' }, at(61)));
    const reopened = await run((s) =>
      supportDesk(s).addMessage(ticket.id, { direction: 'inbound', body: 'again' }, at(70)),
    );
    expect(reopened.status).toBe('open');
    const kinds = (await run((s) => s.support.listEvents(ticket.id)))
      .filter((e) => e.kind !== 'status')
      .map((e) => e.kind);
    expect(kinds).toEqual([
      'activate',
      'message',
      'pause',
      'message',
      'activate',
      'breach',
      'message',
      'fulfill',
      'message',
      'reopen',
    ]);
    expect((await run((s) => s.support.listBreaches())).map((b) => b.ticketId)).toEqual([
      ticket.id,
    ]);
    expect(await store().system.trust.listSupportWorkspaces()).toContain(workspaceId);
  });

  it('uses the workspace policy per priority and threads connector messages into one ticket', async () => {
    const { workspaceId } = await seedWorkspace(store(), 'policy');
    const result = await store().withWorkspace(workspaceId, async (s) => {
      const policy = await s.support.setPolicy({ urgent: 4 });
      const urgent = await supportDesk(s).createTicket(
        { subject: 'Drained', channel: 'telegram', requester: '@bob', priority: 'urgent' },
        at(0),
      );
      const first = await supportDesk(s).openOrUpdate(
        { subject: 'Q', channel: 'discord', requester: 'cy', externalKey: 'thread-1', body: 'a' },
        at(1),
      );
      const second = await supportDesk(s).openOrUpdate(
        { subject: 'Q', channel: 'discord', requester: 'cy', externalKey: 'thread-1', body: 'b' },
        at(2),
      );
      return {
        policy,
        urgent,
        first,
        second,
        audit: await s.audit.list({ action: 'support.policy_update' }),
      };
    });
    expect(result.policy).toEqual({ low: 48, normal: 48, high: 48, urgent: 4 });
    expect(result.urgent.firstResponseDueAt).toEqual(at(4));
    expect(result.first.created).toBe(true);
    expect(result.second.created).toBe(false);
    expect(result.second.ticket.id).toBe(result.first.ticket.id);
    expect(result.audit).toHaveLength(1);
  });
});
