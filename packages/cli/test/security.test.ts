import { createParleyClient } from '@parley/client';
import { startTestServer, type TestServer } from '@parley/server/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from '../src/commands/security.ts';
import { CliError } from '../src/io.ts';
import { parley, testIo } from './support/io.ts';

/*
 * `parley security`, in process against real servers: the report (human and --json), revoking
 * tokens and ending sessions (asking first unless --yes, refusing without a terminal), and the
 * operator's actions through a local owner session (single-user) or a sign-in (multi-user).
 */

const HTTP = '@parley/plugin-http';

describe('parley security on a single-user server', () => {
  let server: TestServer;
  const env = () => ({ PARLEY_SERVER: server.url, PARLEY_TOKEN: server.token });

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('reports what happened: human output and --json, with --since', async () => {
    const owner = createParleyClient({ baseUrl: server.url, token: server.token });
    // The server's first start made the owner's token: the window opens after it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const since = new Date().toISOString();
    await owner.tokens.create(server.workspaceId, { name: 'ci', scopes: ['agents:read'] });
    await owner.secrets.put(server.workspaceId, 'SOME_KEY', 'some-value-of-a-key');
    const io = await testIo({ env: env() });
    const human = await parley(['security', 'report', '--since', since], io);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Security report: workspace ${server.workspaceId}`);
    expect(human.stdout).toMatch(/tokens created\s+1\n/);
    expect(human.stdout).toMatch(/secret writes\s+1\n/);
    expect(human.stdout).toContain('Top addresses');
    expect(human.stdout).toMatch(/127\.0\.0\.1\s+\d+ audit events?, 0 signals/);

    const json = await parley(['security', 'report', '--since', '1h', '--json'], io);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      since: string;
      audit: { tokensCreated: number; secretWrites: number };
    };
    // The last hour: the owner's first token too.
    expect(report.audit).toMatchObject({ tokensCreated: 2, secretWrites: 1 });
    expect(Date.now() - Date.parse(report.since)).toBeGreaterThanOrEqual(3_600_000);
    expect(Date.now() - Date.parse(report.since)).toBeLessThan(3_700_000);
    // A window in the future holds nothing.
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const empty = await parley(['security', 'report', '--since', future, '--json'], io);
    expect(JSON.parse(empty.stdout)).toMatchObject({ audit: { total: 0 }, signals: { total: 0 } });

    const bad = await parley(['security', 'report', '--since', 'yesterday'], io);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since takes a duration');
    const unknown = await parley(['security', 'nuke'], io);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Usage: parley security report');
  });

  it("switches plugins off and on as the server's operator (the local owner's session)", async () => {
    const io = await testIo({ env: env() });
    const off = await parley(['security', 'disable-plugin', HTTP, '--yes'], io);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toContain(`${HTTP} is disabled on ${server.url}.`);
    expect(off.stdout).toContain(`Disabled now: ${HTTP}`);
    const owner = createParleyClient({ baseUrl: server.url, token: server.token });
    expect((await owner.plugins()).find((p) => p.name === HTTP)?.disabled).toBe(true);
    // Asked first: without a terminal and without --yes, nothing changes.
    const refused = await parley(['security', 'disable-plugin', '@parley/plugin-basics'], io);
    expect(refused.code).toBe(2);
    expect((await owner.plugins()).find((p) => p.name === '@parley/plugin-basics')?.disabled).toBe(
      false,
    );
    const on = await parley(['security', 'enable-plugin', HTTP, '--json'], io);
    expect(JSON.parse(on.stdout)).toEqual({ name: HTTP, disabled: false, disabledPlugins: [] });
    const unknown = await parley(['security', 'disable-plugin', '@parley/nope', '--yes'], io);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('is not installed on this server');
    // The sessions the command opened are closed again.
    const sessions = await server.store.system.sessions.listForUser(server.ownerId);
    expect(sessions).toEqual([]);
  });

  it('asks before revoking every token, refuses without a terminal, and revokes with --yes', async () => {
    const owner = createParleyClient({ baseUrl: server.url, token: server.token });
    const extra = await owner.tokens.create(server.workspaceId, {
      name: 'extra',
      scopes: ['agents:read'],
    });
    const extraClient = createParleyClient({ baseUrl: server.url, token: extra.token });
    // No terminal, no --yes: nothing happens.
    const refused = await parley(['security', 'revoke-tokens'], await testIo({ env: env() }));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    // A terminal, and the answer is no.
    const declining = await testIo({ env: env(), tty: true });
    declining.type('n\n');
    const declined = await parley(['security', 'revoke-tokens'], declining);
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain('Revoke EVERY active API token');
    expect((await extraClient.me()).token?.id).toBe(extra.info.id);

    // This test revokes the token it uses: a spare one, with tokens:manage, does the revoking.
    const spare = await owner.tokens.create(server.workspaceId, {
      name: 'spare',
      scopes: ['admin'],
    });
    const io = await testIo({ env: { PARLEY_SERVER: server.url, PARLEY_TOKEN: spare.token } });
    const done = await parley(['security', 'revoke-tokens', '--yes'], io);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/Revoked \d+ tokens\./);
    expect(done.stderr).toContain('The token this command used is revoked too');
    await expect(extraClient.me()).rejects.toMatchObject({ code: 'auth.invalid_token' });
    await expect(owner.me()).rejects.toMatchObject({ code: 'auth.invalid_token' });
    const after = await parley(['security', 'report'], io);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('auth.invalid_token');
  });
});

describe('parley security on a multi-user server', () => {
  const OPERATOR = 'ops@example.com';
  const OPERATOR_CODE = 'cli-security-operator-code';
  const PASSWORD = 'correct horse battery staple';
  let server: TestServer;
  let workspaceId = '';
  let adminToken = '';
  let bobId = '';
  let bobToken = '';
  let bobCookie = '';

  async function signUp(email: string) {
    const res = await fetch(`${server.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { user: { id: string }; workspaces: { id: string }[] };
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    return { id: body.user.id, workspaceId: body.workspaces[0]!.id, cookie };
  }
  const asCookie = (cookie: string) =>
    createParleyClient({ baseUrl: server.url, headers: { cookie, origin: server.url } });
  const env = (token = adminToken) => ({
    PARLEY_SERVER: server.url,
    PARLEY_TOKEN: token,
    PARLEY_WORKSPACE: workspaceId,
  });

  beforeAll(async () => {
    server = await startTestServer({
      engine: 'postgres',
      env: {
        PARLEY_MULTI_USER: '1',
        PARLEY_OPERATOR_EMAILS: OPERATOR,
        PARLEY_OPERATOR_CODE: OPERATOR_CODE,
      },
    });
    const ada = await signUp('ada@example.com');
    workspaceId = ada.workspaceId;
    const bob = await signUp('bob@example.com');
    bobId = bob.id;
    bobCookie = bob.cookie;
    await signUp(OPERATOR);
    const adaClient = asCookie(ada.cookie);
    const invitation = await adaClient.invitations.create(workspaceId, {
      email: 'bob@example.com',
      role: 'admin',
    });
    await asCookie(bob.cookie).invitations.accept(invitation.token);
    adminToken = (await adaClient.tokens.create(workspaceId, { name: 'cli', scopes: ['admin'] }))
      .token;
    bobToken = (
      await asCookie(bob.cookie).tokens.create(workspaceId, {
        name: 'bob',
        scopes: ['agents:read'],
      })
    ).token;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("revokes one member's tokens by email, and ends their sessions", async () => {
    const io = await testIo({ env: env() });
    const revoked = await parley(
      ['security', 'revoke-tokens', '--user', 'BOB@example.com', '--yes', '--json'],
      io,
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ revoked: 1, userId: bobId });
    await expect(
      createParleyClient({ baseUrl: server.url, token: bobToken }).me(),
    ).rejects.toMatchObject({ code: 'auth.invalid_token' });
    // The admin's own token still works.
    expect((await parley(['security', 'report', '--json'], io)).code).toBe(0);

    const missing = await parley(['security', 'end-sessions', '--yes'], io);
    expect(missing.code).toBe(2);
    const stranger = await parley(
      ['security', 'end-sessions', '--user', 'nobody@example.com', '--yes'],
      io,
    );
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain('No member of workspace');
    expect((await asCookie(bobCookie).me()).user?.id).toBe(bobId);
    const ended = await parley(
      ['security', 'end-sessions', '--user', 'bob@example.com', '--yes'],
      io,
    );
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toContain('Ended 1 session of bob@example.com.');
    await expect(asCookie(bobCookie).me()).rejects.toMatchObject({ code: 'auth.required' });
  });

  it('confirms the listed operator with the one-time code; a wrong code changes nothing', async () => {
    const before = await testIo({ env: env() });
    before.type(`${PASSWORD}\n`);
    const notYet = await parley(
      ['security', 'disable-plugin', HTTP, '--yes', '--email', OPERATOR],
      before,
    );
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toContain('auth.forbidden');

    const wrong = await testIo({ env: env() });
    wrong.type(`${PASSWORD}\n`);
    const refused = await parley(
      ['security', 'confirm-operator', '--email', OPERATOR, '--code', 'not-the-code'],
      wrong,
    );
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('auth.operator_code_invalid');

    const io = await testIo({ env: env() });
    io.type(`${PASSWORD}\n`);
    const confirmed = await parley(
      ['security', 'confirm-operator', '--email', OPERATOR, '--code', OPERATOR_CODE],
      io,
    );
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stdout).toContain(`You are now an operator of ${server.url}`);
  });

  it('signs the operator in for instance-wide actions, and refuses someone who is not', async () => {
    // The admin is no operator: the server says so.
    const notOperator = await testIo({ env: env() });
    notOperator.type(`${PASSWORD}\n`);
    const refused = await parley(
      ['security', 'disable-plugin', HTTP, '--yes', '--email', 'ada@example.com'],
      notOperator,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('auth.forbidden');

    const io = await testIo({ env: env() });
    io.type(`${PASSWORD}\n`);
    const disabled = await parley(
      ['security', 'disable-plugin', HTTP, '--yes', '--email', OPERATOR, '--json'],
      io,
    );
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(JSON.parse(disabled.stdout)).toEqual({
      name: HTTP,
      disabled: true,
      disabledPlugins: [HTTP],
    });
    const plugins = await createParleyClient({ baseUrl: server.url, token: adminToken }).plugins();
    expect(plugins.find((p) => p.name === HTTP)?.disabled).toBe(true);

    const again = await testIo({ env: env() });
    again.type(`${PASSWORD}\n`);
    const enabled = await parley(['security', 'enable-plugin', HTTP, '--email', OPERATOR], again);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(enabled.stdout).toContain(`${HTTP} is enabled on ${server.url}.`);

    // Rotation with one master key configured: the server explains what to add.
    const rotating = await testIo({ env: env() });
    rotating.type(`${PASSWORD}\n`);
    const rotation = await parley(['security', 'rotate-master-key', '--email', OPERATOR], rotating);
    expect(rotation.code).toBe(1);
    expect(rotation.stderr).toContain('vault.rotation_needs_new_key');
    expect(rotation.stderr).toContain('PARLEY_MASTER_KEY (v2:<new key>,v1:<current key>)');
  });
});

describe('--since', () => {
  it('takes durations and ISO 8601 times', () => {
    const now = Date.UTC(2025, 0, 31, 12);
    expect(parseSince('24h', now)).toBe('2025-01-30T12:00:00.000Z');
    expect(parseSince('7d', now)).toBe('2025-01-24T12:00:00.000Z');
    expect(parseSince('30m', now)).toBe('2025-01-31T11:30:00.000Z');
    expect(parseSince('2w', now)).toBe('2025-01-17T12:00:00.000Z');
    expect(parseSince('2025-01-31T09:00:00+01:00', now)).toBe('2025-01-31T08:00:00.000Z');
    expect(parseSince('2025-01-31', now)).toBe('2025-01-31T00:00:00.000Z');
    for (const bad of ['', '24', 'h', '-1d', '1y', 'yesterday', '2025-13-45', '0000-01-01'])
      expect(() => parseSince(bad, now), bad).toThrow(/--since/);
  });

  it('turns any text into a time the API takes (years 1–9999), or a usage error', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc
        .tuple(fc.nat({ max: 1_999_999 }), fc.constantFrom('m', 'h', 'd', 'w'))
        .map(([n, u]) => `${n}${u}`),
      fc
        .date({ min: new Date(-1e14), max: new Date(1e15), noInvalidDate: true })
        .map((d) => d.toISOString()),
    );
    fc.assert(
      fc.property(text, (value) => {
        let since: string;
        try {
          since = parseSince(value);
        } catch (error) {
          expect(error).toBeInstanceOf(CliError);
          expect((error as CliError).exitCode).toBe(2);
          expect((error as Error).message).toMatch(/^--since takes a duration/);
          return;
        }
        expect(since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(since >= '0001-01-01').toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
