import { expect, it } from 'vitest';
import { isStoreError, type WorkspaceScope } from '../src/index.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Trust operations in the store, on PGlite and PostgreSQL: versioned and audited page edits,
 * publication by slug through the reviewed function, the partner matrix, the first-response
 * SLA clock (pause, resume, fulfil, reopen, breach exactly at the deadline) and isolation.
 */

const HOUR = 3_600_000;
const T0 = new Date('2026-03-02T09:00:00.000Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);

describeEachEngine('trust and support', (h) => {
  it('writes every page edit as a new version, audited, and publishes it by slug', async () => {
    const { workspaceId, user } = await seedWorkspace(h().store, 'trust');
    const actor = { actor: { type: 'user' as const, id: user.id } };
    const empty = await h().store.withWorkspace(workspaceId, (ws) => ws.trust.getPage());
    expect(empty.version).toBe(0);
    await h().store.withWorkspace(
      workspaceId,
      async (ws) => {
        await ws.trust.updatePage({
          content: { title: 'Acme', officialDomains: ['Acme.org'], brandTokens: ['acme'] },
        });
        await ws.trust.updatePage({
          content: {
            title: 'Acme',
            officialDomains: ['acme.org'],
            canonicalMigrationLink: 'https://acme.org/migrate',
          },
          note: 'migration link',
        });
      },
      actor,
    );
    const { page, versions, audit } = await h().store.withWorkspace(workspaceId, async (ws) => ({
      page: await ws.trust.getPage(),
      versions: await ws.trust.listVersions(),
      audit: await ws.audit.list({ action: 'trust.page_update' }),
    }));
    expect(page.version).toBe(2);
    expect(page.content.officialDomains).toEqual(['acme.org']);
    expect(page.content.canonicalMigrationLink).toBe('https://acme.org/migrate');
    expect(versions.map((v) => [v.version, v.editedBy])).toEqual([
      [2, `user:${user.id}`],
      [1, `user:${user.id}`],
    ]);
    expect(versions[1]!.content.officialDomains).toEqual(['acme.org']);
    expect(audit.map((a) => a.targetId).sort()).toEqual(['1', '2']);

    // Unpublished: the public lookup finds nothing, even with the slug set.
    expect(await h().store.system.trust.findPublishedPage('acme')).toBeUndefined();
    await h().store.withWorkspace(workspaceId, (ws) =>
      ws.trust.setPublication({ published: false, slug: 'acme' }),
    );
    expect(await h().store.system.trust.findPublishedPage('acme')).toBeUndefined();
    await h().store.withWorkspace(workspaceId, (ws) =>
      ws.trust.setPublication({ published: true }),
    );
    expect(await h().store.system.trust.findPublishedPage('acme')).toBe(workspaceId);
    expect(await h().store.system.trust.findPublishedPage('../acme')).toBeUndefined();

    // Another workspace cannot take the slug, and sees none of this workspace's page.
    const other = await seedWorkspace(h().store, 'other');
    const taken = await h()
      .store.withWorkspace(other.workspaceId, (ws) =>
        ws.trust.setPublication({ published: true, slug: 'acme' }),
      )
      .catch((e: unknown) => e);
    expect(isStoreError(taken) && taken.code).toBe('store.conflict');
    const seen = await h().store.withWorkspace(other.workspaceId, async (ws) => ({
      page: await ws.trust.getPage(),
      versions: await ws.trust.listVersions(),
    }));
    expect(seen.page.version).toBe(0);
    expect(seen.versions).toEqual([]);
  });

  it('refuses content that is not what users should be told to trust', async () => {
    const { workspaceId } = await seedWorkspace(h().store, 'bad');
    for (const content of [
      { canonicalMigrationLink: 'http://acme.org/migrate' },
      { canonicalMigrationLink: 'https://user:pw@acme.org/' },
      { officialDomains: ['https://acme.org/path'] },
      { brandTokens: ['two words'] },
      { unknownField: 1 },
    ]) {
      const error = await h()
        .store.withWorkspace(workspaceId, (ws) => ws.trust.updatePage({ content }))
        .catch((e: unknown) => e);
      expect(isStoreError(error) && error.code, JSON.stringify(content)).toBe(
        'store.invalid_input',
      );
    }
  });

  it('keeps one partner row per name and posts dated status updates', async () => {
    const { workspaceId } = await seedWorkspace(h().store, 'partners');
    const rows = await h().store.withWorkspace(workspaceId, async (ws) => {
      await ws.trust.upsertPartner({ name: 'Kraken', migrationStatus: 'in_progress' });
      await ws.trust.upsertPartner({
        name: 'kraken',
        migrationStatus: 'completed',
        lastVerifiedOn: '2026-03-01',
      });
      await ws.trust.postStatus({ body: 'Week 9: swaps open.', postedAt: at(0) });
      await ws.trust.postStatus({ body: 'Week 10: all done.', postedAt: at(24 * 7) });
      return {
        partners: await ws.trust.listPartners(),
        status: await ws.trust.listStatus(),
      };
    });
    expect(rows.partners.map((p) => [p.name, p.migrationStatus, p.lastVerifiedOn])).toEqual([
      ['kraken', 'completed', '2026-03-01'],
    ]);
    expect(rows.status.map((s) => s.body)).toEqual(['Week 10: all done.', 'Week 9: swaps open.']);
  });

  it('runs the first-response clock: pause, resume, breach at exactly the deadline, reopen', async () => {
    const { workspaceId } = await seedWorkspace(h().store, 'sla');
    const run = <T>(fn: (s: WorkspaceScope) => Promise<T>) =>
      h().store.withWorkspace(workspaceId, fn);

    const ticket = await run((s) =>
      s.support.createTicket(
        { subject: 'Where is the migration?', channel: 'discord', requester: 'ann', body: 'help' },
        at(0),
      ),
    );
    expect(ticket.slaHours).toBe(48);
    expect(ticket.firstResponseDueAt).toEqual(at(48));

    // Pending on the requester from hour 10 to hour 20: the deadline moves by 10 hours.
    await run((s) => s.support.updateTicket(ticket.id, { status: 'pending' }, at(10)));
    expect(await run((s) => s.support.detectBreaches(at(50)))).toEqual([]);
    const resumed = await run((s) =>
      s.support.addMessage(ticket.id, { direction: 'inbound', body: 'still stuck' }, at(20)),
    );
    expect(resumed.status).toBe('open');
    expect(resumed.firstResponseDueAt).toEqual(at(58));

    // One millisecond before the deadline nothing; at the deadline exactly, one breach.
    expect(await run((s) => s.support.detectBreaches(new Date(at(58).getTime() - 1)))).toEqual([]);
    const breaches = await run((s) => s.support.detectBreaches(at(58)));
    expect(breaches.map((b) => [b.ticketId, b.at])).toEqual([[ticket.id, at(58)]]);
    expect(await run((s) => s.support.detectBreaches(at(100)))).toEqual([]);

    await run((s) =>
      s.support.addMessage(ticket.id, { direction: 'outbound', body: 'hi' }, at(60)),
    );
    await run((s) => s.support.updateTicket(ticket.id, { status: 'solved' }, at(61)));
    const reopened = await run((s) =>
      s.support.addMessage(ticket.id, { direction: 'inbound', body: 'again' }, at(70)),
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
    expect(await h().store.system.trust.listSupportWorkspaces()).toContain(workspaceId);
  });

  it('uses the workspace policy per priority and threads connector messages into one ticket', async () => {
    const { workspaceId } = await seedWorkspace(h().store, 'policy');
    const result = await h().store.withWorkspace(workspaceId, async (s) => {
      const policy = await s.support.setPolicy({ urgent: 4 });
      const urgent = await s.support.createTicket(
        { subject: 'Drained', channel: 'telegram', requester: '@bob', priority: 'urgent' },
        at(0),
      );
      const first = await s.support.openOrUpdate(
        { subject: 'Q', channel: 'discord', requester: 'cy', externalKey: 'thread-1', body: 'a' },
        at(1),
      );
      const second = await s.support.openOrUpdate(
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
