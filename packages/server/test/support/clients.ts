import type { ScriptTurn } from '@parley/providers';
import { expect } from 'vitest';
import { client, scriptedAgent, startTestServer, type TestServer } from './harness.ts';

/*
 * The fixture the client-protocol tests share (clients-*.test.ts): a multi-user server, a
 * workspace with scripted agents, an owner token that may run them, a viewer token, and a
 * token of another workspace.
 */

const basics = [{ name: '@parley/plugin-basics', version: '^0.1.0' }];

/** Calls the calculator, then answers with its result. */
export const toolScript: ScriptTurn[] = [
  [
    { type: 'text', text: 'Let me compute that.' },
    {
      type: 'tool_call',
      name: 'calculator',
      args: { expression: '6 * 7' },
      id: 'call_calc',
      deltas: ['{"expression"', ':"6 * 7"}'],
    },
  ],
  [{ type: 'text', text: 'It is 42.' }],
];

/** The provider refuses: the run ends with run.error. */
export const brokenScript: ScriptTurn[] = [
  [{ type: 'error', code: 'quota_exhausted', message: 'The account is out of credit.' }],
];

/** Words every 40 ms (about 1.2 s), so a client can come and go in the middle. */
export const slowScript: ScriptTurn[] = [
  Array.from({ length: 30 }, (_, i) => [
    { type: 'text' as const, text: `w${i} ` },
    { type: 'delay' as const, ms: 40 },
  ]).flat(),
];

export interface ClientsFixture {
  server: TestServer;
  workspaceId: string;
  /** May read and run (agents:read, runs:read, runs:create, runs:cancel). */
  token: string;
  /** agents:read and runs:read only. */
  viewerToken: string;
  /** A token of another workspace (all the run scopes there). */
  strangerToken: string;
  /** GET /v1/workspaces/:ws/runs as the owner token. */
  runs(): Promise<{ id: string; status: string; ttftMs: number | null; conversationId: string }[]>;
}

async function signUp(server: TestServer, email: string) {
  const res = await fetch(`${server.url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify({ email, password: 'a-long-enough-password' }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { workspaces: { id: string }[] };
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const workspaceId = body.workspaces[0]!.id;
  const call = (method: string, path: string, payload?: unknown) =>
    client(server.url)(method, path, payload, { cookie, origin: server.url });
  const mint = async (scopes: string[]) => {
    const res = await call('POST', `/v1/workspaces/${workspaceId}/tokens`, {
      name: `t-${scopes.length}`,
      scopes,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { token: string }).token;
  };
  return { call, workspaceId, mint };
}

const RUN_SCOPES = ['agents:read', 'runs:read', 'runs:create', 'runs:cancel'];

/**
 * Starts the server and deploys `calc`, `broken` and `slow`. On PostgreSQL only: these tests
 * are about the wire, and a PostgreSQL test database starts in about 2 s where PGlite takes
 * many more on a busy machine.
 */
export async function startClientsFixture(): Promise<ClientsFixture> {
  const server = await startTestServer({
    engine: 'postgres',
    env: { PARLEY_MULTI_USER: '1' },
    tuning: { runLingerMs: 0 },
  });
  const owner = await signUp(server, 'owner@clients.test');
  const stranger = await signUp(server, 'stranger@clients.test');
  for (const [name, script] of [
    ['calc', toolScript],
    ['broken', brokenScript],
    ['slow', slowScript],
  ] as const) {
    const res = await owner.call('POST', `/v1/workspaces/${owner.workspaceId}/agents`, {
      definition: scriptedAgent(name, script, { plugins: basics }),
      deploy: true,
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  const token = await owner.mint(RUN_SCOPES);
  return {
    server,
    workspaceId: owner.workspaceId,
    token,
    viewerToken: await owner.mint(['agents:read', 'runs:read']),
    strangerToken: await stranger.mint(RUN_SCOPES),
    async runs() {
      const res = await client(server.url, token)(
        'GET',
        `/v1/workspaces/${owner.workspaceId}/runs`,
      );
      expect(res.status).toBe(200);
      return res.json() as never;
    },
  };
}
