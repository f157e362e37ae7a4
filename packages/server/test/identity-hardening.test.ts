import type { api } from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * The red team's identity findings of issue 30, reproduced against real servers:
 *  - an address in PARLEY_OPERATOR_EMAILS made whoever signed up first with it an operator;
 *  - a removed member's token came back with its full scopes once their account was deleted;
 *  - a 1-day token minted a 366-day token that survived its parent's revocation;
 *  - an admin could revoke every token an owner created;
 *  - renaming an agent took confusables, HTML, a right-to-left override and newlines;
 *  - a deleted workspace's trust-page slug could be claimed by anyone.
 */

const PASSWORD = 'correct horse battery staple';

interface Res {
  status: number;
  text: string;
  json<T = Record<string, unknown>>(): T;
  cookie?: string;
}

async function send(
  server: TestServer,
  method: string,
  path: string,
  options: { body?: unknown; cookie?: string; token?: string } = {},
): Promise<Res> {
  const res = await fetch(new URL(path, server.url), {
    method,
    headers: {
      origin: server.url,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  return {
    status: res.status,
    text,
    json: <T>() => JSON.parse(text) as T,
    ...(cookie ? { cookie } : {}),
  };
}

function expectProblem(res: Res, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.json<api.Problem>().code).toBe(code);
}

interface Person {
  cookie: string;
  userId: string;
  workspaceId: string;
}

async function signUp(server: TestServer, email: string): Promise<Person> {
  const res = await send(server, 'POST', '/v1/auth/signup', {
    body: { email, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(201);
  const session = res.json<z.infer<typeof api.SessionResponseSchema>>();
  return { cookie: res.cookie!, userId: session.user.id, workspaceId: session.workspaces[0]!.id };
}

async function join(server: TestServer, owner: Person, member: Person, role: string) {
  const invited = await send(server, 'POST', `/v1/workspaces/${owner.workspaceId}/invitations`, {
    cookie: owner.cookie,
    body: { email: (await me(server, member.cookie)).user!.email, role },
  });
  expect(invited.status, invited.text).toBe(201);
  const accepted = await send(server, 'POST', '/v1/invitations/accept', {
    cookie: member.cookie,
    body: { token: invited.json<{ token: string }>().token },
  });
  expect(accepted.status, accepted.text).toBe(200);
}

async function me(server: TestServer, cookie: string) {
  return (await send(server, 'GET', '/v1/me', { cookie })).json<api.Me>();
}

type Created = z.infer<typeof api.CreatedTokenSchema>;

async function createToken(
  server: TestServer,
  workspaceId: string,
  as: { cookie?: string; token?: string },
  body: { name: string; scopes: string[]; expiresInDays?: number },
): Promise<Res> {
  return send(server, 'POST', `/v1/workspaces/${workspaceId}/tokens`, { ...as, body });
}

const OPERATOR = 'operator@example.com';
const SECOND_OPERATOR = 'second-operator@example.com';
const CODE_LINE = /Operator confirmation code: ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})/;

describe('operator confirmation (sign-up race)', () => {
  let server: TestServer;
  const lines: string[] = [];
  const latestCode = () => {
    const found = lines.map((l) => CODE_LINE.exec(l)?.[1]).filter(Boolean);
    return found.at(-1);
  };

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        PARLEY_MULTI_USER: '1',
        PARLEY_OPERATOR_EMAILS: `${OPERATOR},${SECOND_OPERATOR}`,
      },
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a stranger signing up first with an operator address is no operator, and cannot guess the code', async () => {
    const printed = latestCode();
    expect(printed, 'the server prints a code at start').toBeDefined();

    const stranger = await signUp(server, OPERATOR);
    expect((await me(server, stranger.cookie)).operator).toBe(false);
    expectProblem(
      await send(server, 'GET', '/v1/instance/security-signals', { cookie: stranger.cookie }),
      403,
      'auth.forbidden',
    );
    expectProblem(
      await send(server, 'POST', '/v1/auth/operator/confirm', {
        cookie: stranger.cookie,
        body: { code: 'AAAA-BBBB-CCCC-DDDD' },
      }),
      403,
      'auth.operator_code_invalid',
    );
    expect((await me(server, stranger.cookie)).operator).toBe(false);

    // Someone not listed gets nothing from the right code, and does not use it up.
    const outsider = await signUp(server, 'outsider@example.com');
    expectProblem(
      await send(server, 'POST', '/v1/auth/operator/confirm', {
        cookie: outsider.cookie,
        body: { code: printed },
      }),
      403,
      'auth.forbidden',
    );
    expect(latestCode()).toBe(printed);
  });

  it('the operator with the code is an operator; the code works once', async () => {
    const code = latestCode()!;
    const operator = await signUp(server, SECOND_OPERATOR);
    expect((await me(server, operator.cookie)).operator).toBe(false);
    // Case and dashes do not matter.
    const confirmed = await send(server, 'POST', '/v1/auth/operator/confirm', {
      cookie: operator.cookie,
      body: { code: code.replaceAll('-', '').toLowerCase() },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.json()).toEqual({ operator: true, alreadyConfirmed: false });
    expect((await me(server, operator.cookie)).operator).toBe(true);
    const signals = await send(server, 'GET', '/v1/instance/security-signals', {
      cookie: operator.cookie,
    });
    expect(signals.status, signals.text).toBe(200);
    const kinds = signals.json<{ kind: string }[]>().map((s) => s.kind);
    expect(kinds).toEqual(expect.arrayContaining(['operator.confirmed', 'operator.code_refused']));

    // Asking again changes nothing.
    expect(
      (
        await send(server, 'POST', '/v1/auth/operator/confirm', {
          cookie: operator.cookie,
          body: { code },
        })
      ).json(),
    ).toEqual({ operator: true, alreadyConfirmed: true });

    // The stranger holding the first address cannot use the spent code; a new one was
    // printed for the address still unconfirmed, and it is not the old one.
    const stranger = await send(server, 'POST', '/v1/auth/login', {
      body: { email: OPERATOR, password: PASSWORD },
    });
    expectProblem(
      await send(server, 'POST', '/v1/auth/operator/confirm', {
        cookie: stranger.cookie!,
        body: { code },
      }),
      403,
      'auth.operator_code_invalid',
    );
    expect(latestCode()).toBeDefined();
    expect(latestCode()).not.toBe(code);
    expect((await me(server, stranger.cookie!)).operator).toBe(false);
  });

  it('guessing is rate-limited like sign-in', async () => {
    const guesser = await send(server, 'POST', '/v1/auth/login', {
      body: { email: OPERATOR, password: PASSWORD },
    });
    let last: Res | undefined;
    for (let i = 0; i < 12; i++) {
      last = await send(server, 'POST', '/v1/auth/operator/confirm', {
        cookie: guesser.cookie!,
        body: { code: `GUESS-${i}` },
      });
      if (last.status === 429) break;
    }
    expectProblem(last!, 429, 'auth.rate_limited');
  });
});

describe('operator code from the environment', () => {
  let server: TestServer;
  const lines: string[] = [];
  const CODE = 'env-operator-code-0123456789';

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        PARLEY_MULTI_USER: '1',
        PARLEY_OPERATOR_EMAILS: OPERATOR,
        PARLEY_OPERATOR_CODE: CODE,
      },
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('redeems PARLEY_OPERATOR_CODE, which never appears in the log', async () => {
    const operator = await signUp(server, OPERATOR);
    expectProblem(
      await send(server, 'POST', '/v1/auth/operator/confirm', {
        cookie: operator.cookie,
        body: { code: `${CODE}x` },
      }),
      403,
      'auth.operator_code_invalid',
    );
    const ok = await send(server, 'POST', '/v1/auth/operator/confirm', {
      cookie: operator.cookie,
      body: { code: CODE },
    });
    expect(ok.status, ok.text).toBe(200);
    expect((await me(server, operator.cookie)).operator).toBe(true);
    expect(lines.join('\n')).not.toContain(CODE);
    expect(lines.some((l) => CODE_LINE.test(l))).toBe(false);
  });
});

describe('tokens and owners (PostgreSQL)', () => {
  let server: TestServer;
  let database: TestDatabase;
  let ada: Person;
  let bob: Person;

  beforeAll(async () => {
    database = await createTestDatabase('identity_hardening', { migrated: true });
    server = await startTestServer({
      engine: 'postgres',
      env: { PARLEY_MULTI_USER: '1' },
      reuse: { database },
    });
    ada = await signUp(server, 'ada@example.com');
    bob = await signUp(server, 'bob@example.com');
    await join(server, ada, bob, 'admin');
  });
  afterAll(async () => {
    await server?.close();
  });

  /** SQL as the database's superuser: what an operator deleting an account would run. */
  const asAdmin = (sql: string, params: unknown[]) => database.admin.query(sql, params);

  it("a removed member's token stays dead once their account is deleted", async () => {
    const dave = await signUp(server, 'dave@example.com');
    await join(server, ada, dave, 'admin');
    const created = await createToken(server, ada.workspaceId, dave, {
      name: 'dave-ci',
      scopes: ['agents:read', 'runs:create'],
    });
    expect(created.status, created.text).toBe(201);
    const { token } = created.json<Created>();
    const agents = `/v1/workspaces/${ada.workspaceId}/agents`;
    expect((await send(server, 'GET', agents, { token })).status).toBe(200);

    const removed = await send(
      server,
      'DELETE',
      `/v1/workspaces/${ada.workspaceId}/members/${dave.userId}`,
      { cookie: ada.cookie },
    );
    expect(removed.status, removed.text).toBe(204);
    await asAdmin('delete from users where id = $1', [dave.userId]);
    expectProblem(await send(server, 'GET', agents, { token }), 401, 'auth.invalid_token');
  });

  it('a token may not outlive or outrank the token that minted it, and goes with it', async () => {
    const parentRes = await createToken(server, ada.workspaceId, ada, {
      name: 'one-day',
      scopes: ['tokens:manage', 'agents:read'],
      expiresInDays: 1,
    });
    expect(parentRes.status, parentRes.text).toBe(201);
    const parent = parentRes.json<Created>();

    expectProblem(
      await createToken(server, ada.workspaceId, parent, {
        name: 'a-year',
        scopes: ['agents:read'],
        expiresInDays: 366,
      }),
      422,
      'store.token_exceeds_parent',
    );
    expectProblem(
      await createToken(server, ada.workspaceId, parent, {
        name: 'more',
        scopes: ['agents:read', 'secrets:write'],
        expiresInDays: 1,
      }),
      403,
      'auth.forbidden',
    );
    // Without an expiry asked for, the default (90 days) stops at the parent's.
    const childRes = await createToken(server, ada.workspaceId, parent, {
      name: 'child',
      scopes: ['tokens:manage', 'agents:read'],
    });
    expect(childRes.status, childRes.text).toBe(201);
    const child = childRes.json<Created>();
    expect(child.info.parentId).toBe(parent.info.id);
    expect(Date.parse(child.info.expiresAt)).toBeLessThanOrEqual(Date.parse(parent.info.expiresAt));
    const grandchild = (
      await createToken(server, ada.workspaceId, child, {
        name: 'grandchild',
        scopes: ['agents:read'],
      })
    ).json<Created>();

    const agents = `/v1/workspaces/${ada.workspaceId}/agents`;
    for (const t of [parent, child, grandchild])
      expect((await send(server, 'GET', agents, { token: t.token })).status).toBe(200);
    const revoked = await send(
      server,
      'DELETE',
      `/v1/workspaces/${ada.workspaceId}/tokens/${parent.info.id}`,
      { cookie: ada.cookie },
    );
    expect(revoked.status, revoked.text).toBe(204);
    for (const t of [parent, child, grandchild])
      expectProblem(
        await send(server, 'GET', agents, { token: t.token }),
        401,
        'auth.invalid_token',
      );
  });

  it("an admin may not revoke an owner's tokens; the owner may revoke their own", async () => {
    const owners = (
      await createToken(server, ada.workspaceId, ada, { name: 'ada-ci', scopes: ['agents:read'] })
    ).json<Created>();
    const path = `/v1/workspaces/${ada.workspaceId}/security/revoke-tokens`;
    const agents = `/v1/workspaces/${ada.workspaceId}/agents`;
    expectProblem(
      await send(server, 'POST', path, { cookie: bob.cookie, body: { userId: ada.userId } }),
      403,
      'auth.forbidden',
    );
    // Nor through a token of the admin's.
    const bobs = (
      await createToken(server, ada.workspaceId, bob, {
        name: 'bob-ci',
        scopes: ['tokens:manage'],
      })
    ).json<Created>();
    expectProblem(
      await send(server, 'POST', path, { token: bobs.token, body: { userId: ada.userId } }),
      403,
      'auth.forbidden',
    );
    // Nor one at a time.
    expectProblem(
      await send(server, 'DELETE', `/v1/workspaces/${ada.workspaceId}/tokens/${owners.info.id}`, {
        cookie: bob.cookie,
      }),
      403,
      'auth.forbidden',
    );
    expect((await send(server, 'GET', agents, { token: owners.token })).status).toBe(200);
    // Nor by revoking everything: an admin's `all` spares what owners created.
    const all = await send(server, 'POST', path, { cookie: bob.cookie, body: { all: true } });
    expect(all.status, all.text).toBe(200);
    expect(all.json<{ tokenIds: string[]; ownersTokensKept: number }>()).toMatchObject({
      tokenIds: expect.arrayContaining([bobs.info.id]),
      ownersTokensKept: expect.any(Number),
    });
    expect(all.json<{ tokenIds: string[] }>().tokenIds).not.toContain(owners.info.id);
    expect(all.json<{ ownersTokensKept: number }>().ownersTokensKept).toBeGreaterThan(0);
    expect((await send(server, 'GET', agents, { token: owners.token })).status).toBe(200);
    expectProblem(
      await send(server, 'GET', agents, { token: bobs.token }),
      401,
      'auth.invalid_token',
    );

    const own = await send(server, 'POST', path, {
      cookie: ada.cookie,
      body: { userId: ada.userId },
    });
    expect(own.status, own.text).toBe(200);
    expect(own.json<{ tokenIds: string[] }>().tokenIds).toContain(owners.info.id);
    expectProblem(
      await send(server, 'GET', agents, { token: owners.token }),
      401,
      'auth.invalid_token',
    );
  });

  it("a deleted workspace's trust-page slug is never issued again", async () => {
    const carol = await signUp(server, 'carol@example.com');
    const published = await send(
      server,
      'PUT',
      `/v1/workspaces/${carol.workspaceId}/trust/publication`,
      { cookie: carol.cookie, body: { published: true, slug: 'carol-coin' } },
    );
    expect(published.status, published.text).toBe(200);
    expect((await send(server, 'GET', '/trust/carol-coin.json')).status).toBe(200);
    const deleted = await send(server, 'DELETE', `/v1/workspaces/${carol.workspaceId}`, {
      cookie: carol.cookie,
    });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await send(server, 'GET', '/trust/carol-coin.json')).status).toBe(404);

    const claimed = await send(
      server,
      'PUT',
      `/v1/workspaces/${bob.workspaceId}/trust/publication`,
      { cookie: bob.cookie, body: { published: true, slug: 'carol-coin' } },
    );
    expectProblem(claimed, 409, 'store.slug_retired');
    expect(claimed.json<api.Problem>().detail).toContain('carol-coin');
    expect((await send(server, 'GET', '/trust/carol-coin.json')).status).toBe(404);
  });
});

describe('one agent-name rule for create and rename', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const ATTACKS: [string, string][] = [
    ['a Cyrillic letter in a Latin name', 'p\u0430ypal-support'],
    ['HTML', '<img src=x onerror=alert(1)>'],
    ['a right-to-left override', 'invoice\u202Eexe.pdf'],
    ['a newline', 'support\nadmin'],
    ['the Kelvin sign (folds to k)', '\u212Aelvin'],
    ['a zero-width space', 'sup\u200Bport'],
  ];

  it.each(ATTACKS)('refuses %s when renaming (PATCH) and when creating', async (_, name) => {
    const agents = `/v1/workspaces/${server.workspaceId}/agents`;
    const auth = { token: server.token };
    const base = `plain-${Math.random().toString(36).slice(2, 8)}`;
    const created = await send(server, 'POST', agents, {
      ...auth,
      body: { definition: scriptedAgent(base) },
    });
    expect(created.status, created.text).toBe(201);

    const renamed = await send(server, 'PATCH', `${agents}/${base}`, { ...auth, body: { name } });
    expectProblem(renamed, 400, 'request.invalid');
    expect(renamed.json<api.Problem>().errors?.[0]?.path).toBe('body.name');
    expect((await send(server, 'GET', `${agents}/${base}`, auth)).status).toBe(200);

    expectProblem(
      await send(server, 'POST', agents, { ...auth, body: { definition: scriptedAgent(name) } }),
      422,
      'agent.invalid_definition',
    );
  });

  it('still renames to a name the rule allows', async () => {
    const agents = `/v1/workspaces/${server.workspaceId}/agents`;
    const auth = { token: server.token };
    await send(server, 'POST', agents, { ...auth, body: { definition: scriptedAgent('before') } });
    const renamed = await send(server, 'PATCH', `${agents}/before`, {
      ...auth,
      body: { name: 'After 2_b' },
    });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json<{ name: string }>().name).toBe('After 2_b');
  });
});
