import { expect, it } from 'vitest';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Audit A-05: disabling an account ended its sessions but left its API tokens working. A
 * disabled creator's token now acts with no permissions, like a former member's.
 */

describeEachEngine('disabled users', (h) => {
  it("a disabled account's API tokens keep no permission; other members' tokens are untouched", async () => {
    const { user: owner, workspaceId } = await seedWorkspace(h().store, 'disabled');
    const dev = await h().store.system.users.create({
      email: `dev-${Date.now()}@example.test`,
      displayName: 'D',
    });
    const tokens = await h().store.withWorkspace(workspaceId, async (w) => {
      await w.members.add({ userId: dev.id, role: 'developer' });
      const expiresAt = new Date(Date.now() + 3_600_000);
      return {
        dev: await w.apiTokens.create({
          name: 'ci',
          scopes: ['agents:read'],
          expiresAt,
          createdBy: dev.id,
        }),
        owner: await w.apiTokens.create({
          name: 'mine',
          scopes: ['agents:read'],
          expiresAt,
          createdBy: owner.id,
        }),
      };
    });
    const { authenticateApiToken, users } = h().store.system;
    expect(await authenticateApiToken(tokens.dev.token)).toMatchObject({
      ok: true,
      creatorRole: 'developer',
      permissions: ['agents:read'],
    });

    await users.disable(dev.id);
    expect(await authenticateApiToken(tokens.dev.token)).toMatchObject({
      ok: true,
      creatorRole: null,
      permissions: [],
    });
    expect(await authenticateApiToken(tokens.owner.token)).toMatchObject({
      ok: true,
      creatorRole: 'owner',
      permissions: ['agents:read'],
    });
  });
});
