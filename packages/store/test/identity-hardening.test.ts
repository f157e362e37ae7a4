import { createHash, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Red-team findings of issue 30 (identity): a deleted account's token came back with full
 * scopes, a token could mint one that outlived and survived it, a deleted workspace's
 * trust-page slug could be claimed by anyone, and operator codes must confirm one person once.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const hashOf = (code: string) => createHash('sha256').update(code).digest('hex');

describeEachEngine('identity hardening', (h) => {
  async function member(workspaceId: string, role: 'developer' | 'admin' = 'developer') {
    const user = await h().store.system.users.create({
      email: `m-${randomBytes(4).toString('hex')}@example.test`,
      displayName: 'M',
    });
    await h().store.withWorkspace(workspaceId, (w) => w.members.add({ userId: user.id, role }));
    return user;
  }

  it("a deleted account's token is dead, not a service token with its full scopes", async () => {
    const { workspaceId } = await seedWorkspace(h().store, 'deleted');
    const dev = await member(workspaceId);
    const created = await h().store.withWorkspace(workspaceId, (w) =>
      w.apiTokens.create({
        name: 'ci',
        scopes: ['agents:read', 'runs:create'],
        expiresAt: new Date(Date.now() + DAY),
        createdBy: dev.id,
      }),
    );
    const { authenticateApiToken } = h().store.system;
    await h().store.withWorkspace(workspaceId, (w) => w.members.remove(dev.id));
    expect(await authenticateApiToken(created.token)).toMatchObject({ ok: true, permissions: [] });
    await h().admin('delete from users where id = $1', [dev.id]);
    expect(await authenticateApiToken(created.token)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('a token may not outlive or outrank the token that mints it', async () => {
    const { user: owner, workspaceId } = await seedWorkspace(h().store, 'lineage');
    await h().store.withWorkspace(workspaceId, async (w) => {
      const parent = await w.apiTokens.create({
        name: 'one day',
        scopes: ['agents:read', 'tokens:manage'],
        expiresAt: new Date(Date.now() + DAY),
        createdBy: owner.id,
      });
      const mint = (scopes: string[], expiresAt: Date) =>
        w.apiTokens.create({
          name: 'child',
          scopes: scopes as ['agents:read'],
          expiresAt,
          createdBy: owner.id,
          parentId: parent.info.id,
        });
      await expect(
        mint(['agents:read'], new Date(Date.now() + 366 * DAY - HOUR)),
      ).rejects.toMatchObject({
        code: 'store.token_exceeds_parent',
        message: expect.stringContaining('outlive'),
      });
      await expect(
        mint(['agents:read', 'secrets:write'], new Date(Date.now() + HOUR)),
      ).rejects.toMatchObject({
        code: 'store.token_exceeds_parent',
        message: expect.stringContaining('secrets:write'),
      });
      const child = await mint(['agents:read'], new Date(Date.now() + HOUR));
      expect(child.info.parentId).toBe(parent.info.id);
    });
  });

  it('revoking a token revokes what it minted, recursively, and a revoked token mints nothing', async () => {
    const { user: owner, workspaceId } = await seedWorkspace(h().store, 'revoke-tree');
    const expiresAt = new Date(Date.now() + DAY);
    const tokens = await h().store.withWorkspace(workspaceId, async (w) => {
      const base = { scopes: ['agents:read', 'tokens:manage'] as const, createdBy: owner.id };
      const root = await w.apiTokens.create({
        ...base,
        scopes: [...base.scopes],
        name: 'root',
        expiresAt,
      });
      const child = await w.apiTokens.create({
        ...base,
        scopes: [...base.scopes],
        name: 'child',
        expiresAt,
        parentId: root.info.id,
      });
      const grandchild = await w.apiTokens.create({
        name: 'grandchild',
        scopes: ['agents:read'],
        createdBy: owner.id,
        expiresAt,
        parentId: child.info.id,
      });
      const sibling = await w.apiTokens.create({
        ...base,
        scopes: ['agents:read'],
        name: 'other',
        expiresAt,
      });
      return { root, child, grandchild, sibling };
    });
    const revoked = await h().store.withWorkspace(workspaceId, (w) =>
      w.apiTokens.revoke(tokens.root.info.id),
    );
    expect(revoked.sort()).toEqual(
      [tokens.root.info.id, tokens.child.info.id, tokens.grandchild.info.id].sort(),
    );
    const { authenticateApiToken } = h().store.system;
    for (const t of [tokens.root, tokens.child, tokens.grandchild])
      expect(await authenticateApiToken(t.token)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(await authenticateApiToken(tokens.sibling.token)).toMatchObject({ ok: true });
    await expect(
      h().store.withWorkspace(workspaceId, (w) =>
        w.apiTokens.create({
          name: 'late',
          scopes: ['agents:read'],
          expiresAt: new Date(Date.now() + HOUR),
          createdBy: owner.id,
          parentId: tokens.child.info.id,
        }),
      ),
    ).rejects.toMatchObject({ code: 'store.token_exceeds_parent' });
    const audit = await h().store.withWorkspace(workspaceId, (w) =>
      w.audit.list({ action: 'token.revoke' }),
    );
    expect(
      audit
        .filter((e) => e.metadata?.cause === 'parent_revoked')
        .map((e) => e.targetId)
        .sort(),
    ).toEqual([tokens.child.info.id, tokens.grandchild.info.id].sort());
  });

  it("a deleted workspace's trust-page slug is retired: nobody may claim it again", async () => {
    const first = await seedWorkspace(h().store, 'slug-a');
    const slug = `acme-${randomBytes(3).toString('hex')}`;
    await h().store.withWorkspace(first.workspaceId, (w) =>
      w.trust.setPublication({ published: true, slug }),
    );
    await h().store.withWorkspace(first.workspaceId, (w) => w.workspace.delete());
    expect(await h().store.system.trust.findPublishedPage(slug)).toBeUndefined();

    const stranger = await seedWorkspace(h().store, 'slug-b');
    await expect(
      h().store.withWorkspace(stranger.workspaceId, (w) =>
        w.trust.setPublication({ published: true, slug }),
      ),
    ).rejects.toMatchObject({ code: 'store.slug_retired', status: 409 });
    expect(await h().store.system.trust.findPublishedPage(slug)).toBeUndefined();
  });

  it('a published page that moves retires its old slug', async () => {
    const { workspaceId } = await seedWorkspace(h().store, 'slug-move');
    const old = `old-${randomBytes(3).toString('hex')}`;
    await h().store.withWorkspace(workspaceId, async (w) => {
      await w.trust.setPublication({ published: true, slug: old });
      await w.trust.setPublication({ published: true, slug: `new-${old}` });
    });
    const other = await seedWorkspace(h().store, 'slug-taker');
    await expect(
      h().store.withWorkspace(other.workspaceId, (w) =>
        w.trust.setPublication({ published: true, slug: old }),
      ),
    ).rejects.toMatchObject({ code: 'store.slug_retired' });
  });

  it('an operator code confirms one person, once', async () => {
    const { users } = h().store.system;
    const a = await users.create({
      email: `op-${randomBytes(3).toString('hex')}@example.test`,
      displayName: 'A',
    });
    const b = await users.create({
      email: `op-${randomBytes(3).toString('hex')}@example.test`,
      displayName: 'B',
    });
    const hash = hashOf(randomBytes(16).toString('hex'));
    expect((await users.get(a.id))?.operatorConfirmedAt).toBeNull();
    expect(await users.operatorCodeUsed(hash)).toBe(false);
    const confirmed = await users.confirmOperator(a.id, hash);
    expect(confirmed.operatorConfirmedAt).toBeInstanceOf(Date);
    expect(confirmed).not.toHaveProperty('operatorCodeHash');
    expect(await users.operatorCodeUsed(hash)).toBe(true);
    await expect(users.confirmOperator(b.id, hash)).rejects.toMatchObject({
      code: 'store.conflict',
    });
    expect((await users.get(b.id))?.operatorConfirmedAt).toBeNull();
    const [row] = await h().admin<{ operator_code_hash: string }>(
      'select operator_code_hash from users where id = $1',
      [a.id],
    );
    expect(row?.operator_code_hash).toBe(hash);
  });
});
