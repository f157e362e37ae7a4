import { beforeAll, expect, it } from 'vitest';
import { isWellFormedApiToken } from '../src/index.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * The system surface and the workspace's people: users, sessions, workspaces, members and
 * roles, invitations, API tokens and what they may do, product funnel, security signals.
 */

const HOUR = 3_600_000;
const PHC = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';

describeEachEngine('identity', (h) => {
  let n = 0;
  const email = (label: string) =>
    `${label}-${++n}-${Math.random().toString(36).slice(2, 6)}@Example.test`;

  it('creates users with unique, case-insensitive emails and never returns the password hash', async () => {
    const { users } = h().store.system;
    const address = email('User');
    const user = await users.create({ email: address, displayName: 'Ada', passwordHash: PHC });
    expect(user.email).toBe(address.toLowerCase());
    expect(user).not.toHaveProperty('passwordHash');
    await expect(
      users.create({ email: address.toUpperCase(), displayName: 'Again' }),
    ).rejects.toMatchObject({ code: 'store.conflict' });
    expect(await users.findByEmail(address.toUpperCase())).toEqual(user);
    expect(await users.getCredentials(address)).toEqual({ user, passwordHash: PHC });
    await expect(users.update(user.id, { passwordHash: 'hunter2' })).rejects.toMatchObject({
      code: 'store.invalid_input',
      issues: [{ path: 'passwordHash' }],
    });
    expect(await users.update(user.id, { displayName: 'Ada L.' })).toMatchObject({
      displayName: 'Ada L.',
    });
    expect(await users.get('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('runs sessions: cookie, validation, idle and absolute expiry, revocation, disabled users', async () => {
    const { users, sessions } = h().store.system;
    const user = await users.create({ email: email('sess'), displayName: 'S' });
    const { session, cookie } = await sessions.create({
      userId: user.id,
      ip: '203.0.113.9',
      userAgent: 'test',
    });
    expect(cookie.startsWith(`${session.id}.`)).toBe(true);
    expect(await sessions.validate(cookie)).toMatchObject({
      session: { id: session.id },
      user: { id: user.id },
    });
    expect(await sessions.validate(`${session.id}.${'A'.repeat(43)}`)).toBeNull();
    expect(await sessions.validate('garbage')).toBeNull();
    const [stored] = await h().admin<{ secret_hash: string }>(
      'select secret_hash from sessions where id = $1',
      [session.id],
    );
    expect(stored!.secret_hash).not.toContain(cookie.split('.')[1]!);

    await h().admin(`update sessions set last_seen_at = now() - interval '2 hours' where id = $1`, [
      session.id,
    ]);
    expect(await sessions.validate(cookie, { idleTimeoutMs: HOUR })).toBeNull();
    expect(await sessions.validate(cookie)).not.toBeNull();
    await h().admin(`update sessions set expires_at = now() - interval '1 second' where id = $1`, [
      session.id,
    ]);
    expect(await sessions.validate(cookie)).toBeNull();

    const second = await sessions.create({ userId: user.id });
    const third = await sessions.create({ userId: user.id });
    expect(await sessions.revokeAllForUser(user.id, { except: third.session.id })).toBe(2);
    expect(await sessions.validate(second.cookie)).toBeNull();
    expect(await sessions.validate(third.cookie)).not.toBeNull();
    await sessions.markAuthenticated(third.session.id);
    await users.disable(user.id);
    expect(await sessions.validate(third.cookie)).toBeNull();
    expect(await sessions.deleteExpired()).toBeGreaterThanOrEqual(3);
    expect(await sessions.listForUser(user.id)).toEqual([]);
  });

  it('creates a workspace with its owner and lists a user’s workspaces', async () => {
    const { user, workspace } = await seedWorkspace(h().store, 'ws');
    const second = await h().store.system.workspaces.create({
      name: 'Second',
      ownerUserId: user.id,
    });
    const listed = await h().store.system.workspaces.listForUser(user.id);
    expect(listed.map((w) => [w.workspaceId, w.role])).toEqual([
      [workspace.id, 'owner'],
      [second.id, 'owner'],
    ]);
    const audit = await h().store.withWorkspace(workspace.id, (w) => w.audit.list());
    expect(audit).toEqual([
      expect.objectContaining({ action: 'workspace.create', actorType: 'user', actorId: user.id }),
    ]);
    expect(
      await h().store.withWorkspace(second.id, (w) => w.workspace.rename('Renamed')),
    ).toMatchObject({ name: 'Renamed' });
  });

  it('keeps at least one owner', async () => {
    const { user: owner, workspaceId } = await seedWorkspace(h().store, 'owners');
    const other = await h().store.system.users.create({ email: email('other'), displayName: 'O' });
    await h().store.withWorkspace(workspaceId, async (w) => {
      await expect(w.members.setRole(owner.id, 'admin')).rejects.toMatchObject({
        code: 'store.last_owner',
      });
      await expect(w.members.remove(owner.id)).rejects.toMatchObject({ code: 'store.last_owner' });
      await w.members.add({ userId: other.id, role: 'developer' });
      await expect(w.members.add({ userId: other.id, role: 'viewer' })).rejects.toMatchObject({
        code: 'store.conflict',
      });
      await w.members.setRole(other.id, 'owner');
      await w.members.setRole(owner.id, 'viewer');
      await expect(w.members.remove(other.id)).rejects.toMatchObject({ code: 'store.last_owner' });
      expect((await w.members.list()).map((m) => [m.userId, m.role]).sort()).toEqual(
        [
          [owner.id, 'viewer'],
          [other.id, 'owner'],
        ].sort(),
      );
    });
    const changes = await h().store.withWorkspace(workspaceId, (w) =>
      w.audit.list({ action: 'member.role_change' }),
    );
    // Same transaction, same timestamp: compare as a set.
    expect(changes).toHaveLength(2);
    expect(changes.map((c) => c.metadata)).toEqual(
      expect.arrayContaining([
        { from: 'owner', to: 'viewer' },
        { from: 'developer', to: 'owner' },
      ]),
    );
  });

  it('invites by a one-time link bound to the invitee’s email', async () => {
    const { user: owner, workspaceId } = await seedWorkspace(h().store, 'invites');
    const invitee = await h().store.system.users.create({
      email: email('invitee'),
      displayName: 'I',
    });
    const stranger = await h().store.system.users.create({
      email: email('stranger'),
      displayName: 'X',
    });
    const { token } = await h().store.withWorkspace(
      workspaceId,
      (w) => w.invitations.create({ email: invitee.email, role: 'developer', invitedBy: owner.id }),
      { actor: { type: 'user', id: owner.id } },
    );
    const { system } = h().store;
    expect(await system.invitations.lookup(token)).toMatchObject({
      workspaceId,
      role: 'developer',
      status: 'pending',
    });
    expect(await system.invitations.lookup('x'.repeat(43))).toBeNull();
    await expect(system.invitations.accept(token, stranger.id)).rejects.toMatchObject({
      code: 'store.conflict',
      details: { status: 'wrong_user' },
    });
    expect(await system.invitations.accept(token, invitee.id)).toMatchObject({
      userId: invitee.id,
      role: 'developer',
    });
    await expect(system.invitations.accept(token, invitee.id)).rejects.toMatchObject({
      details: { status: 'accepted' },
    });
    expect(await system.workspaces.listForUser(invitee.id)).toEqual([
      expect.objectContaining({ workspaceId, role: 'developer' }),
    ]);

    const revoked = await h().store.withWorkspace(workspaceId, async (w) => {
      const created = await w.invitations.create({ email: stranger.email, role: 'viewer' });
      expect((await w.invitations.listPending()).map((i) => i.id)).toEqual([created.invitation.id]);
      await w.invitations.revoke(created.invitation.id);
      expect(await w.invitations.listPending()).toEqual([]);
      return created.token;
    });
    await expect(system.invitations.accept(revoked, stranger.id)).rejects.toMatchObject({
      details: { status: 'revoked' },
    });
    const expired = await h().store.withWorkspace(workspaceId, (w) =>
      w.invitations.create({ email: stranger.email, role: 'viewer' }),
    );
    await h().admin(
      `update invitations set expires_at = now() - interval '1 minute' where id = $1`,
      [expired.invitation.id],
    );
    expect(await system.invitations.lookup(expired.token)).toMatchObject({ status: 'expired' });
    const audit = await h().store.withWorkspace(workspaceId, (w) => w.audit.list());
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['invitation.create', 'invitation.accept', 'invitation.revoke']),
    );
    expect(JSON.stringify(audit)).not.toContain(token);
  });

  it('authenticates API tokens: format first, then hash, revocation, expiry, and the creator’s current role', async () => {
    const { user: owner, workspaceId } = await seedWorkspace(h().store, 'tokens');
    const dev = await h().store.system.users.create({ email: email('dev'), displayName: 'D' });
    const created = await h().store.withWorkspace(workspaceId, async (w) => {
      await w.members.add({ userId: dev.id, role: 'developer' });
      const expiresAt = new Date(Date.now() + 24 * HOUR);
      return {
        dev: await w.apiTokens.create({
          name: 'ci',
          scopes: ['agents:read', 'agents:deploy', 'tokens:manage'],
          expiresAt,
          createdBy: dev.id,
        }),
        service: await w.apiTokens.create({ name: 'svc', scopes: ['runs:read'], expiresAt }),
        owner: await w.apiTokens.create({
          name: 'mine',
          scopes: ['secrets:write'],
          expiresAt,
          createdBy: owner.id,
        }),
      };
    });
    const { authenticateApiToken } = h().store.system;
    expect(isWellFormedApiToken(created.dev.token)).toBe(true);
    expect(created.dev.info).not.toHaveProperty('tokenHash');
    expect(created.dev.info.prefix).toBe(created.dev.token.slice(0, 8));

    const first = await authenticateApiToken(created.dev.token, {
      ip: '198.51.100.1',
      userAgent: 'cli/1',
    });
    expect(first).toMatchObject({
      ok: true,
      workspaceId,
      creatorRole: 'developer',
      newAddress: false,
    });
    // A developer's token never gets what a developer may not do, whatever its scopes say.
    expect(first.ok && first.permissions.sort()).toEqual(['agents:deploy', 'agents:read']);
    expect(await authenticateApiToken(created.service.token)).toMatchObject({
      ok: true,
      creatorRole: undefined,
      permissions: ['runs:read'],
    });
    const moved = await authenticateApiToken(created.dev.token, { ip: '192.0.2.77' });
    expect(moved).toMatchObject({ ok: true, newAddress: true });
    const info = await h().store.withWorkspace(workspaceId, (w) =>
      w.apiTokens.get(created.dev.info.id),
    );
    expect(info).toMatchObject({ lastUsedIp: '192.0.2.77', lastUsedAt: expect.any(Date) });

    expect(await authenticateApiToken('prl_short')).toEqual({ ok: false, reason: 'malformed' });
    const typo = `${created.dev.token.slice(0, 10)}${created.dev.token[10] === 'a' ? 'b' : 'a'}${created.dev.token.slice(11)}`;
    expect(await authenticateApiToken(typo)).toEqual({ ok: false, reason: 'malformed' });

    await h().store.withWorkspace(workspaceId, (w) => w.members.remove(dev.id));
    expect(await authenticateApiToken(created.dev.token)).toMatchObject({
      ok: true,
      creatorRole: null,
      permissions: [],
    });
    await h().store.withWorkspace(workspaceId, (w) => w.apiTokens.revoke(created.dev.info.id));
    expect(await authenticateApiToken(created.dev.token)).toMatchObject({
      ok: false,
      reason: 'revoked',
      workspaceId,
    });
    await h().admin(
      `update api_tokens set expires_at = now() - interval '1 second' where id = $1`,
      [created.owner.info.id],
    );
    expect(await authenticateApiToken(created.owner.token)).toMatchObject({
      ok: false,
      reason: 'expired',
    });

    const [row] = await h().admin<{ token_hash: string }>(
      'select token_hash from api_tokens where id = $1',
      [created.owner.info.id],
    );
    expect(row!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const actions = (await h().store.withWorkspace(workspaceId, (w) => w.audit.list())).map(
      (e) => e.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['token.create', 'token.revoke']));
  });

  it('refuses tokens without expiry, beyond 366 days, or with unknown scopes', async () => {
    const { workspaceId } = await seedWorkspace(h().store, 'badtokens');
    const attempts = [
      { name: 't', scopes: ['agents:read'], expiresAt: new Date(Date.now() - 1_000) },
      { name: 't', scopes: ['agents:read'], expiresAt: new Date(Date.now() + 400 * 24 * HOUR) },
      { name: 't', scopes: ['root:everything'], expiresAt: new Date(Date.now() + HOUR) },
      { name: 't', scopes: [], expiresAt: new Date(Date.now() + HOUR) },
      { name: 't', scopes: ['agents:read'] },
    ];
    for (const attempt of attempts) {
      await expect(
        h().store.withWorkspace(workspaceId, (w) => w.apiTokens.create(attempt as never)),
      ).rejects.toMatchObject({
        code: 'store.invalid_input',
      });
    }
  });

  it('single-user mode: one local owner and workspace, created once even when asked twice at once', async () => {
    const [x, y] = await Promise.all([
      h().store.system.workspaces.ensureLocalOwner({ email: 'local-owner@parley.local' }),
      h().store.system.workspaces.ensureLocalOwner({ email: 'local-owner@parley.local' }),
    ]);
    expect(x.user.id).toBe(y.user.id);
    const again = await h().store.system.workspaces.ensureLocalOwner({
      email: 'local-owner@parley.local',
    });
    expect(again.workspace.workspaceId).toBe(x.workspace.workspaceId);
    expect(await h().store.system.workspaces.listForUser(x.user.id)).toHaveLength(1);
  });

  it('counts the product funnel by distinct users', async () => {
    const { system } = h().store;
    const u1 = await system.users.create({ email: email('funnel'), displayName: 'F1' });
    const u2 = await system.users.create({ email: email('funnel'), displayName: 'F2' });
    const since = new Date(Date.now() - 60_000);
    for (const [name, user] of [
      ['signup', u1],
      ['signup', u2],
      ['agent_created', u1],
      ['agent_created', u1],
      ['provider_selected', u1],
    ] as const) {
      await system.productEvents.record({ name, userId: user.id, props: { provider: 'openai' } });
    }
    const funnel = await system.productEvents.funnel({ since });
    expect(funnel.find((s) => s.step === 'agent_created')).toEqual({
      step: 'agent_created',
      users: 1,
      events: 2,
    });
    expect(funnel.map((s) => s.step)).toEqual([
      'signup',
      'agent_created',
      'provider_selected',
      'first_run',
      'deployed',
    ]);
    await expect(
      system.productEvents.record({ name: 'clicked_button' as never }),
    ).rejects.toMatchObject({ code: 'store.invalid_input' });
    await expect(
      system.productEvents.record({ name: 'signup', props: { text: 'x'.repeat(500) } }),
    ).rejects.toMatchObject({
      code: 'store.invalid_input',
    });
  });

  it('keeps workspace signals and instance-wide signals apart', async () => {
    const { workspaceId } = await seedWorkspace(h().store, 'signals');
    const { workspaceId: otherId } = await seedWorkspace(h().store, 'signals2');
    const signal = await h().store.withWorkspace(workspaceId, (w) =>
      w.securitySignals.record({
        kind: 'secret.decrypt_spike',
        severity: 'warning',
        details: { count: 40 },
      }),
    );
    const instanceId = await h().store.system.securitySignals.record({
      kind: 'auth.failure_burst',
      severity: 'critical',
      ip: '203.0.113.50',
      details: { failures: 60 },
    });
    expect(
      (await h().store.withWorkspace(workspaceId, (w) => w.securitySignals.list())).map(
        (s) => s.id,
      ),
    ).toEqual([signal.id]);
    expect(await h().store.withWorkspace(otherId, (w) => w.securitySignals.list())).toEqual([]);
    const instance = await h().store.system.securitySignals.list({
      since: new Date(Date.now() - 60_000),
    });
    expect(instance.map((s) => s.id)).toContain(instanceId);
    expect(instance.map((s) => s.id)).not.toContain(signal.id);
    expect(instance.find((s) => s.id === instanceId)).toMatchObject({
      kind: 'auth.failure_burst',
      details: { failures: 60 },
    });
    await h().store.withWorkspace(workspaceId, (w) => w.securitySignals.acknowledge(signal.id));
    expect(
      await h().store.withWorkspace(workspaceId, (w) =>
        w.securitySignals.list({ unacknowledgedOnly: true }),
      ),
    ).toEqual([]);
  });
});

describeEachEngine('workspace deletion', (h) => {
  let doomed = '';
  let kept = '';
  beforeAll(async () => {
    doomed = (await seedWorkspace(h().store, 'doomed')).workspaceId;
    kept = (await seedWorkspace(h().store, 'kept')).workspaceId;
    for (const id of [doomed, kept]) {
      await h().store.withWorkspace(id, async (w) => {
        const agent = await w.agents.create({ name: 'a' });
        const conversation = await w.conversations.create({ agentId: agent.id });
        const run = await w.runs.create({ agentId: agent.id, conversationId: conversation.id });
        await w.runs.appendRunEvents(run.id, [
          {
            v: 1,
            seq: 1,
            runId: run.id,
            t: 0,
            type: 'run.start',
            agentId: agent.id,
            startedAt: new Date().toISOString(),
          },
        ]);
        await w.messages.append(conversation.id, [
          { role: 'assistant', content: [{ kind: 'text', text: 'hi' }], runId: run.id },
        ]);
        await w.memories.add({
          agentId: agent.id,
          scope: 'conversation',
          conversationId: conversation.id,
          kind: 'fact',
          content: 'x',
        });
        await w.secrets.put('K', 'value-value-value');
        await w.agents.deploy(agent.id, { definition: { name: 'a' } });
      });
    }
  });

  it('removes every row of the workspace and nothing of the others', async () => {
    await h().store.withWorkspace(doomed, (w) => w.workspace.delete());
    const tables = await h().admin<{ tbl: string }>(
      `select distinct c.relname as tbl from pg_attribute a join pg_class c on c.oid = a.attrelid
       where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and a.attname = 'workspace_id'`,
    );
    for (const { tbl } of tables) {
      const [left] = await h().admin<{ n: number }>(
        `select count(*)::int as n from ${tbl} where workspace_id = $1`,
        [doomed],
      );
      expect(left?.n, tbl).toBe(0);
    }
    const [keptRuns] = await h().admin<{ n: number }>(
      'select count(*)::int as n from run_events where workspace_id = $1',
      [kept],
    );
    expect(keptRuns?.n).toBe(1);
    await expect(h().store.withWorkspace(doomed, (w) => w.workspace.get())).rejects.toMatchObject({
      code: 'store.not_found',
    });
  });
});
