import { expect, it } from 'vitest';
import { isStoreError } from '../src/index.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Trust operations in the store, on PGlite and PostgreSQL: versioned and audited page edits,
 * publication by slug through the reviewed function, the partner matrix and isolation. The
 * support inbox's SLA clock is @parley/trust's (packages/trust/test/support-desk.test.ts).
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
});
