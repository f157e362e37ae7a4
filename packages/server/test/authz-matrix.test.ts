import { randomUUID } from 'node:crypto';
import {
  ALL_PERMISSIONS,
  effectivePermissions,
  type Permission,
  type WorkspaceRole,
} from '@parley/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenAiPath, openAiCodeOf } from '../src/clients/openai/errors.ts';
import { isDashboardPath } from '../src/http/dashboard.ts';
import type { Access, RouteSpec } from '../src/http/route.ts';
import { ROUTES } from '../src/routes/index.ts';
import {
  type CallerModel,
  expectedOutcome,
  fillPath,
  mapLimit,
  type Outcome,
  parseRouteTree,
  routeKey,
  type Target,
} from './support/authz.ts';
import { scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * The authorization matrix: every route of the route table × every kind of caller × (own,
 * foreign, nonexistent) workspace or run, against a real multi-user server. What each case
 * must answer is derived from the route's access kind and ROLE_PERMISSIONS (support/authz.ts),
 * never written per route. The table below only pins down each route's access, so that a new
 * route, or a changed access, fails the suite until someone looks at it.
 *
 * Once the fixtures exist, every route handler is replaced by a probe that records the request
 * and answers 204: a case passed authorization when the probe saw it, or when validation
 * (which runs after authorization) refused it with 400. Denied cases must never reach the
 * probe. The probe keeps allowed cases free of side effects (an owner may DELETE the workspace,
 * log out, revoke tokens), so all cases run at once against the same fixtures.
 */

const EXPECTED_ACCESS: Record<string, Access> = {
  'GET /healthz': { kind: 'public' },
  'GET /readyz': { kind: 'public' },
  'GET /v1/openapi.json': { kind: 'public' },
  'GET /metrics': { kind: 'public' },
  'GET /.well-known/security.txt': { kind: 'public' },
  'POST /v1/auth/signup': { kind: 'public' },
  'POST /v1/auth/login': { kind: 'public' },
  'POST /v1/auth/local': { kind: 'public' },
  'POST /v1/auth/logout': { kind: 'person' },
  'POST /v1/auth/operator/confirm': { kind: 'person' },
  'GET /v1/me': { kind: 'principal' },
  'GET /v1/workspaces': { kind: 'principal' },
  'POST /v1/workspaces': { kind: 'person' },
  'GET /v1/workspaces/:workspaceId': { kind: 'workspace', permission: 'workspace:read' },
  'PATCH /v1/workspaces/:workspaceId': { kind: 'workspace', permission: 'workspace:manage' },
  'DELETE /v1/workspaces/:workspaceId': { kind: 'workspace', permission: 'workspace:delete' },
  'GET /v1/workspaces/:workspaceId/members': { kind: 'workspace', permission: 'members:read' },
  'PUT /v1/workspaces/:workspaceId/members/:userId/role': {
    kind: 'workspace',
    permission: 'members:manage',
  },
  'DELETE /v1/workspaces/:workspaceId/members/:userId': {
    kind: 'workspace',
    permission: 'members:manage',
  },
  'GET /v1/workspaces/:workspaceId/invitations': { kind: 'workspace', permission: 'members:read' },
  'POST /v1/workspaces/:workspaceId/invitations': {
    kind: 'workspace',
    permission: 'members:manage',
  },
  'DELETE /v1/workspaces/:workspaceId/invitations/:invitationId': {
    kind: 'workspace',
    permission: 'members:manage',
  },
  'POST /v1/invitations/accept': { kind: 'person' },
  'GET /v1/workspaces/:workspaceId/tokens': { kind: 'workspace', permission: 'tokens:manage' },
  'POST /v1/workspaces/:workspaceId/tokens': { kind: 'workspace', permission: 'tokens:manage' },
  'DELETE /v1/workspaces/:workspaceId/tokens/:tokenId': {
    kind: 'workspace',
    permission: 'tokens:manage',
  },
  'GET /v1/workspaces/:workspaceId/secrets': { kind: 'workspace', permission: 'secrets:read' },
  'PUT /v1/workspaces/:workspaceId/secrets/:name': {
    kind: 'workspace',
    permission: 'secrets:write',
  },
  'DELETE /v1/workspaces/:workspaceId/secrets/:name': {
    kind: 'workspace',
    permission: 'secrets:write',
  },
  'GET /v1/workspaces/:workspaceId/knowledge-bases': {
    kind: 'workspace',
    permission: 'memories:read',
  },
  'PUT /v1/workspaces/:workspaceId/knowledge-bases/:base': {
    kind: 'workspace',
    permission: 'memories:write',
  },
  'GET /v1/workspaces/:workspaceId/knowledge-bases/:base': {
    kind: 'workspace',
    permission: 'memories:read',
  },
  'DELETE /v1/workspaces/:workspaceId/knowledge-bases/:base': {
    kind: 'workspace',
    permission: 'memories:write',
  },
  'GET /v1/workspaces/:workspaceId/knowledge-bases/:base/documents': {
    kind: 'workspace',
    permission: 'memories:read',
  },
  'PUT /v1/workspaces/:workspaceId/knowledge-bases/:base/documents': {
    kind: 'workspace',
    permission: 'memories:write',
  },
  'DELETE /v1/workspaces/:workspaceId/knowledge-bases/:base/documents/:document': {
    kind: 'workspace',
    permission: 'memories:write',
  },
  'POST /v1/workspaces/:workspaceId/knowledge-bases/:base/search': {
    kind: 'workspace',
    permission: 'memories:read',
  },
  'GET /v1/workspaces/:workspaceId/agents': { kind: 'workspace', permission: 'agents:read' },
  'POST /v1/workspaces/:workspaceId/agents': { kind: 'workspace', permission: 'agents:write' },
  'GET /v1/workspaces/:workspaceId/agents/:agent': {
    kind: 'workspace',
    permission: 'agents:read',
  },
  'PATCH /v1/workspaces/:workspaceId/agents/:agent': {
    kind: 'workspace',
    permission: 'agents:write',
  },
  'DELETE /v1/workspaces/:workspaceId/agents/:agent': {
    kind: 'workspace',
    permission: 'agents:write',
  },
  'PUT /v1/workspaces/:workspaceId/agents/:agent/draft': {
    kind: 'workspace',
    permission: 'agents:write',
  },
  'GET /v1/workspaces/:workspaceId/agents/:agent/versions': {
    kind: 'workspace',
    permission: 'agents:read',
  },
  'GET /v1/workspaces/:workspaceId/agents/:agent/versions/:version': {
    kind: 'workspace',
    permission: 'agents:read',
  },
  'POST /v1/workspaces/:workspaceId/agents/:agent/versions': {
    kind: 'workspace',
    permission: 'agents:deploy',
  },
  'GET /v1/workspaces/:workspaceId/channels': { kind: 'workspace', permission: 'agents:read' },
  'POST /v1/workspaces/:workspaceId/channels/check': {
    kind: 'workspace',
    permission: 'agents:deploy',
  },
  'POST /v1/channels/:workspaceId/:agentId/:platform/webhook': { kind: 'public' },
  'GET /v1/workspaces/:workspaceId/conversations': { kind: 'workspace', permission: 'runs:read' },
  'POST /v1/workspaces/:workspaceId/conversations': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'GET /v1/workspaces/:workspaceId/conversations/:conversationId': {
    kind: 'workspace',
    permission: 'runs:read',
  },
  'GET /v1/workspaces/:workspaceId/conversations/:conversationId/messages': {
    kind: 'workspace',
    permission: 'runs:read',
  },
  'POST /v1/workspaces/:workspaceId/agents/:agent/runs': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'POST /v1/workspaces/:workspaceId/agents/:agent/evals': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'GET /v1/workspaces/:workspaceId/agents/:agent/evals': {
    kind: 'workspace',
    permission: 'runs:read',
  },
  'POST /v1/workspaces/:workspaceId/agents/:agent/chat': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'GET /v1/workspaces/:workspaceId/agents/:agent/chat/:chatId/stream': {
    kind: 'workspace',
    permission: 'runs:read',
  },
  'GET /a2a/:workspaceId/:agent/.well-known/agent-card.json': {
    kind: 'workspace',
    permission: 'agents:read',
  },
  'POST /a2a/:workspaceId/:agent': { kind: 'workspace', permission: 'runs:create' },
  'POST /v1/workspaces/:workspaceId/agents/:agent/mcp': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'GET /openai/v1/models': { kind: 'token', permission: 'agents:read' },
  'GET /openai/v1/models/:model': { kind: 'token', permission: 'agents:read' },
  'POST /openai/v1/chat/completions': { kind: 'token', permission: 'runs:create' },
  'GET /v1/workspaces/:workspaceId/runs': { kind: 'workspace', permission: 'runs:read' },
  'GET /v1/runs/:runId': { kind: 'run', permission: 'runs:read' },
  'GET /v1/runs/:runId/events': { kind: 'run', permission: 'runs:read' },
  'POST /v1/runs/:runId/cancel': { kind: 'run', permission: 'runs:cancel' },
  'POST /v1/runs/:runId/approvals/:callId': { kind: 'run', permission: 'runs:create' },
  'GET /v1/workspaces/:workspaceId/audit': { kind: 'workspace', permission: 'audit:read' },
  'GET /v1/workspaces/:workspaceId/security-signals': {
    kind: 'workspace',
    permission: 'audit:read',
  },
  'POST /v1/workspaces/:workspaceId/security-signals/:signalId/acknowledge': {
    kind: 'workspace',
    permission: 'workspace:manage',
  },
  'GET /v1/workspaces/:workspaceId/usage': { kind: 'workspace', permission: 'runs:read' },
  'GET /v1/workspaces/:workspaceId/usage/series': { kind: 'workspace', permission: 'runs:read' },
  'POST /v1/workspaces/:workspaceId/agents/:agent/key-check': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'GET /v1/instance/funnel': { kind: 'operator' },
  'GET /v1/instance/security-signals': { kind: 'operator' },
  'GET /v1/plugins': { kind: 'principal' },
  'GET /v1/workspaces/:workspaceId/security/report': {
    kind: 'workspace',
    permission: 'audit:read',
  },
  'POST /v1/workspaces/:workspaceId/security/revoke-tokens': {
    kind: 'workspace',
    permission: 'tokens:manage',
  },
  'POST /v1/workspaces/:workspaceId/security/end-sessions': {
    kind: 'workspace',
    permission: 'members:manage',
  },
  'POST /v1/instance/rotate-master-key': { kind: 'operator' },
  'POST /v1/instance/plugins/:name/disable': { kind: 'operator' },
  'POST /v1/instance/plugins/:name/enable': { kind: 'operator' },
  'GET /trust/:workspaceSlug': { kind: 'public' },
  'GET /v1/workspaces/:workspaceId/trust': { kind: 'workspace', permission: 'workspace:read' },
  'PUT /v1/workspaces/:workspaceId/trust': { kind: 'workspace', permission: 'workspace:manage' },
  'GET /v1/workspaces/:workspaceId/trust/versions': {
    kind: 'workspace',
    permission: 'workspace:read',
  },
  'PUT /v1/workspaces/:workspaceId/trust/publication': {
    kind: 'workspace',
    permission: 'workspace:manage',
  },
  'POST /v1/workspaces/:workspaceId/trust/status': {
    kind: 'workspace',
    permission: 'workspace:manage',
  },
  'PUT /v1/workspaces/:workspaceId/trust/partners': {
    kind: 'workspace',
    permission: 'workspace:manage',
  },
  'DELETE /v1/workspaces/:workspaceId/trust/partners/:partnerId': {
    kind: 'workspace',
    permission: 'workspace:manage',
  },
  'GET /v1/workspaces/:workspaceId/trust/metrics': {
    kind: 'workspace',
    permission: 'workspace:read',
  },
  'GET /v1/workspaces/:workspaceId/support/tickets': {
    kind: 'workspace',
    permission: 'workspace:read',
  },
  'POST /v1/workspaces/:workspaceId/support/tickets': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'GET /v1/workspaces/:workspaceId/support/tickets/:ticketId': {
    kind: 'workspace',
    permission: 'workspace:read',
  },
  'PATCH /v1/workspaces/:workspaceId/support/tickets/:ticketId': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'POST /v1/workspaces/:workspaceId/support/tickets/:ticketId/messages': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'POST /v1/workspaces/:workspaceId/support/inbound': {
    kind: 'workspace',
    permission: 'runs:create',
  },
  'GET /v1/workspaces/:workspaceId/support/policy': {
    kind: 'workspace',
    permission: 'workspace:read',
  },
  'PUT /v1/workspaces/:workspaceId/support/policy': {
    kind: 'workspace',
    permission: 'workspace:manage',
  },
  'GET /v1/workspaces/:workspaceId/support/breaches': {
    kind: 'workspace',
    permission: 'workspace:read',
  },
};

// ── Callers ─────────────────────────────────────────────────────────────────────────────

const OPERATOR_EMAIL = 'operator@example.com';
const OPERATOR_CODE = 'authz-matrix-operator-code';
const MEMBER_ROLES: WorkspaceRole[] = ['owner', 'admin', 'developer', 'viewer'];
const AGENT = 'matrix-agent';
const HANGING = 'matrix-hanging';

/** How a token is made: its scopes, who created it (their role bounds it), its state. */
interface TokenRecipe {
  scopes: Permission[];
  /** `admin` via the API (stands for every permission), else the scopes as they are. */
  viaAdminScope?: boolean;
  creator: 'owner' | 'developer' | 'non-member';
  state: 'active' | 'expired' | 'revoked';
}

interface Caller {
  label: string;
  model: CallerModel;
  /** Session user name, or token recipe: resolved to headers once the fixtures exist. */
  session?: string;
  token?: TokenRecipe;
}

const creatorRole = (creator: TokenRecipe['creator']): WorkspaceRole | null =>
  creator === 'non-member' ? null : creator;

function tokenCaller(label: string, recipe: TokenRecipe): Caller {
  return {
    label,
    token: recipe,
    model:
      recipe.state === 'active'
        ? {
            kind: 'token',
            permissions: effectivePermissions({
              role: creatorRole(recipe.creator),
              scopes: recipe.scopes,
            }),
          }
        : { kind: 'invalid-token' },
  };
}

const ALL = [...ALL_PERMISSIONS];
const BY_DEVELOPER: TokenRecipe = { scopes: ALL, creator: 'developer', state: 'active' };

/** The callers of a route: everyone, plus tokens with and without the route's permission. */
function callersFor(access: Access): Caller[] {
  const callers: Caller[] = [
    { label: 'anonymous', model: { kind: 'anonymous' } },
    ...MEMBER_ROLES.map(
      (role): Caller => ({
        label: `session ${role}`,
        session: role,
        model: { kind: 'session', role, operator: false },
      }),
    ),
    {
      label: 'session operator (no member)',
      session: 'operator',
      model: { kind: 'session', operator: true },
    },
    tokenCaller('token all scopes by developer', BY_DEVELOPER),
    tokenCaller('token all scopes by non-member', {
      scopes: ALL,
      creator: 'non-member',
      state: 'active',
    }),
    tokenCaller('token expired', { scopes: ALL, creator: 'owner', state: 'expired' }),
    tokenCaller('token revoked', { scopes: ALL, creator: 'owner', state: 'revoked' }),
  ];
  if (access.kind !== 'workspace' && access.kind !== 'run' && access.kind !== 'token') {
    // The owner's everything-token (`admin` scope); on workspace routes `token [p]` stands in.
    callers.push(
      tokenCaller('token admin scope', {
        scopes: ALL,
        viaAdminScope: true,
        creator: 'owner',
        state: 'active',
      }),
    );
  } else {
    const p = access.permission;
    callers.push(
      tokenCaller(`token [${p}]`, { scopes: [p], creator: 'owner', state: 'active' }),
      tokenCaller(`token all but ${p}`, {
        scopes: ALL.filter((x) => x !== p),
        creator: 'owner',
        state: 'active',
      }),
    );
  }
  return callers;
}

const recipeKey = (r: TokenRecipe) =>
  `${r.creator}|${r.state}|${r.viaAdminScope ? 'admin' : [...r.scopes].sort().join(',')}`;

// ── Cases ───────────────────────────────────────────────────────────────────────────────

interface Case {
  /** Route | caller | place: unique, and the test's name. */
  name: string;
  /** The route's method, or HEAD for a GET route. */
  method: RouteSpec['method'] | 'HEAD';
  spec: RouteSpec;
  caller: Caller;
  place: Place;
  expected: Outcome;
  /** The name of the case with the same route and caller on an id that exists nowhere. */
  twin?: string;
}

/** Where a case points: for run routes, runs that have ended (found in the database) and runs
 * still going (found in the server's memory), since authorization looks in both. */
interface Place {
  target: Target;
  name: string;
  running?: boolean;
}

function placesFor(access: Access): Place[] {
  if (access.kind === 'workspace')
    return [
      { target: 'own', name: 'own workspace' },
      { target: 'foreign', name: 'foreign workspace' },
      { target: 'nonexistent', name: 'nonexistent workspace' },
    ];
  if (access.kind === 'run')
    return [
      { target: 'own', name: 'own ended run' },
      { target: 'own', name: 'own running run', running: true },
      { target: 'foreign', name: 'ended run in a foreign workspace' },
      { target: 'foreign', name: 'running run in a foreign workspace', running: true },
      { target: 'nonexistent', name: 'nonexistent run' },
    ];
  return [{ target: 'none', name: 'no workspace' }];
}

/**
 * Fastify answers HEAD for every GET route with the GET route's hooks: a HEAD pass over the
 * GET routes, with fewer callers (one of each outcome) since a HEAD answer has no body.
 */
const isHeadCaller = (label: string) =>
  /^(anonymous|session viewer|session operator .*|token admin scope|token expired|token \[.*\]|token all but .*)$/.test(
    label,
  );

const CASES: Case[] = ROUTES.flatMap((spec) =>
  (spec.method === 'GET' ? [spec.method, 'HEAD' as const] : [spec.method]).flatMap((method) =>
    callersFor(spec.access)
      .filter((caller) => method !== 'HEAD' || isHeadCaller(caller.label))
      .flatMap((caller) =>
        placesFor(spec.access).map((place): Case => {
          const base = `${method} ${spec.url} | ${caller.label}`;
          const nowhere = placesFor(spec.access).find((p) => p.target === 'nonexistent');
          return {
            name: `${base} | ${place.name}`,
            method,
            spec,
            caller,
            place,
            expected: expectedOutcome(spec.access, caller.model, place.target),
            ...(nowhere ? { twin: `${base} | ${nowhere.name}` } : {}),
          };
        }),
      ),
  ),
);

// ── The server and its fixtures ─────────────────────────────────────────────────────────

interface Answer {
  status: number;
  /** Headers that could tell answers apart (not the request id). */
  headers: Record<string, string | null>;
  requestId: string;
  reached: boolean;
  body: { code?: string; detail?: string; [key: string]: unknown } | null;
  text: string;
}

let server: TestServer;
const headersByCaller = new Map<string, Record<string, string>>();
const results = new Map<string, Answer>();
const reached = new Set<string>();
const originalHandlers = new Map<RouteSpec, RouteSpec['handler']>();
const ids = {
  ownWorkspace: '',
  foreignWorkspace: '',
  ownRun: '',
  ownRunningRun: '',
  foreignRun: '',
  foreignRunningRun: '',
  nowhere: randomUUID(),
};
let runsInMemory: (string | undefined)[] = [];

/** Path parameters other than the workspace and the run: syntactically valid values. */
const PARAMS: Record<string, string> = {
  agent: AGENT,
  model: AGENT,
  name: 'MATRIX_SECRET',
  version: '1',
  callId: 'call_matrix_1',
  userId: randomUUID(),
  invitationId: randomUUID(),
  tokenId: randomUUID(),
  conversationId: randomUUID(),
  chatId: 'matrix-chat',
  // A channel webhook: an agent with no channel (public: the connector, not a grant, decides).
  agentId: randomUUID(),
  platform: 'telegram',
  signalId: randomUUID(),
  workspaceSlug: 'matrix-trust',
  partnerId: randomUUID(),
  ticketId: randomUUID(),
  base: 'matrix-knowledge',
  document: randomUUID(),
};

async function api(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      origin: server.url,
      accept: 'application/json',
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function expectOk<T>(
  what: string,
  response: Promise<Awaited<ReturnType<typeof api>>>,
  status: number,
): Promise<T> {
  const res = await response;
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.json() as T;
}

/** Uses a token while it is valid (so the server has seen it); its permissions. */
async function useToken(secret: string): Promise<string[]> {
  const me = await expectOk<{ token?: { permissions: string[] } }>(
    'use token',
    api('GET', '/v1/me', { headers: { authorization: `Bearer ${secret}` } }),
    200,
  );
  return me.token?.permissions ?? [];
}

async function signUp(name: string, email: string) {
  const res = await api('POST', '/v1/auth/signup', {
    body: { email, password: `${name}-long-password-123`, displayName: name },
  });
  if (res.status !== 201) throw new Error(`sign-up of ${name}: ${res.status} ${res.text}`);
  const session = res.json() as { user: { id: string }; workspaces: { id: string }[] };
  return {
    userId: session.user.id,
    workspaceId: session.workspaces[0]!.id,
    headers: { cookie: res.headers.get('set-cookie')!.split(';')[0]! },
  };
}

async function setUp() {
  const owner = await signUp('owner', 'owner@example.com');
  ids.ownWorkspace = owner.workspaceId;
  const own = `/v1/workspaces/${owner.workspaceId}`;
  // Tokens cannot be made expired through the API: this one expires while the rest is set up.
  const expiresSoon = Date.now() + 2_000;
  const expired = await server.store.withWorkspace(owner.workspaceId, (ws) =>
    ws.apiTokens.create({
      name: 'matrix expired',
      scopes: ALL,
      expiresAt: new Date(expiresSoon),
      createdBy: owner.userId,
    }),
  );
  await useToken(expired.token);

  const stranger = await signUp('stranger', 'stranger@example.com');
  ids.foreignWorkspace = stranger.workspaceId;
  const operator = await signUp('operator', OPERATOR_EMAIL);
  // A listed address makes no one an operator until the one-time code is redeemed.
  const confirmed = await api('POST', '/v1/auth/operator/confirm', {
    headers: operator.headers,
    body: { code: OPERATOR_CODE },
  });
  if (confirmed.status !== 200) throw new Error(`operator: ${confirmed.status} ${confirmed.text}`);
  const sessions: Record<string, Awaited<ReturnType<typeof signUp>>> = { owner, operator };

  // Members with the other three roles: invited, accepted, and (admin) promoted.
  // The developer joins as admin and is demoted once a token of theirs has been used: the
  // token must follow the creator's role as it is now, not as it was when last seen.
  for (const [role, invitedAs] of [
    ['admin', 'viewer'],
    ['developer', 'admin'],
    ['viewer', 'viewer'],
  ] as const) {
    const person = await signUp(role, `${role}@example.com`);
    sessions[role] = person;
    const invitation = await expectOk<{ token: string }>(
      `invite ${role}`,
      api('POST', `${own}/invitations`, {
        headers: owner.headers,
        body: { email: `${role}@example.com`, role: invitedAs },
      }),
      201,
    );
    await expectOk(
      `accept as ${role}`,
      api('POST', '/v1/invitations/accept', {
        headers: person.headers,
        body: { token: invitation.token },
      }),
      200,
    );
    if (role === 'developer') {
      const byDeveloper = await server.store.withWorkspace(owner.workspaceId, (ws) =>
        ws.apiTokens.create({
          name: 'matrix by developer',
          scopes: ALL,
          expiresAt: new Date(Date.now() + 86_400_000),
          createdBy: person.userId,
        }),
      );
      const before = await useToken(byDeveloper.token);
      if (!before.includes('members:manage')) throw new Error(`not admin yet: ${before}`);
      headersByCaller.set(`token:${recipeKey(BY_DEVELOPER)}`, {
        authorization: `Bearer ${byDeveloper.token}`,
      });
    }
    if (invitedAs !== role)
      await expectOk(
        `make ${role}`,
        api('PUT', `${own}/members/${person.userId}/role`, {
          headers: owner.headers,
          body: { role },
        }),
        200,
      );
  }
  const members = await expectOk<{ userId: string; role: string }[]>(
    'members',
    api('GET', `${own}/members`, { headers: owner.headers }),
    200,
  );
  const roles = Object.fromEntries(members.map((m) => [m.userId, m.role]));
  for (const role of MEMBER_ROLES)
    if (roles[sessions[role]!.userId] !== role)
      throw new Error(`${role} has role ${roles[sessions[role]!.userId]}`);
  if (roles[operator.userId] || roles[stranger.userId])
    throw new Error('the operator and the stranger must not be members');
  for (const [name, s] of Object.entries(sessions))
    headersByCaller.set(`session:${name}`, s.headers);

  // The same agents in both workspaces; in each an ended run (in the database only, as
  // runLingerMs is 0) and a run that hangs until the server stops (in the server's memory).
  for (const [who, ws] of [
    [owner, owner.workspaceId],
    [stranger, stranger.workspaceId],
  ] as const) {
    for (const definition of [scriptedAgent(AGENT), scriptedAgent(HANGING, [[{ type: 'hang' }]])])
      await expectOk(
        'create agent',
        api('POST', `/v1/workspaces/${ws}/agents`, {
          headers: who.headers,
          body: { definition, deploy: true },
        }),
        201,
      );
    const ended = await expectOk<{ run: { id: string; status: string } }>(
      'run',
      api('POST', `/v1/workspaces/${ws}/agents/${AGENT}/runs`, {
        headers: who.headers,
        body: { input: 'hello' },
      }),
      200,
    );
    // An SSE start answers at once with the run's id; leaving does not cancel the run.
    const running = await fetch(`${server.url}/v1/workspaces/${ws}/agents/${HANGING}/runs`, {
      method: 'POST',
      headers: { ...who.headers, origin: server.url, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'wait' }),
    });
    const runningId = running.headers.get('x-parley-run-id');
    await running.body?.cancel();
    if (running.status !== 200 || !runningId) throw new Error(`hanging run: ${running.status}`);
    if (ws === owner.workspaceId) {
      ids.ownRun = ended.run.id;
      ids.ownRunningRun = runningId;
    } else {
      ids.foreignRun = ended.run.id;
      ids.foreignRunningRun = runningId;
    }
  }

  // Tokens: every recipe the callers use, each made once.
  const recipes = new Map<string, TokenRecipe>();
  for (const spec of ROUTES)
    for (const caller of callersFor(spec.access))
      if (caller.token) recipes.set(recipeKey(caller.token), caller.token);
  let n = 0;
  for (const [key, recipe] of recipes) {
    n += 1;
    if (headersByCaller.has(`token:${key}`)) continue;
    let secret: string;
    if (recipe.state === 'expired') {
      secret = expired.token;
    } else if (recipe.creator === 'owner') {
      const created = await expectOk<{ token: string; info: { id: string } }>(
        `token ${key}`,
        api('POST', `${own}/tokens`, {
          headers: owner.headers,
          body: { name: `matrix ${n}`, scopes: recipe.viaAdminScope ? ['admin'] : recipe.scopes },
        }),
        201,
      );
      secret = created.token;
      if (recipe.state === 'revoked') {
        // Used while valid, then revoked: refused at once, whatever was remembered of it.
        await useToken(secret);
        const res = await api('DELETE', `${own}/tokens/${created.info.id}`, {
          headers: owner.headers,
        });
        if (res.status !== 204) throw new Error(`revoke: ${res.status} ${res.text}`);
      }
    } else {
      // A token whose creator is not a member (never was): made directly in the store.
      const created = await server.store.withWorkspace(owner.workspaceId, (ws) =>
        ws.apiTokens.create({
          name: `matrix ${n}`,
          scopes: recipe.scopes,
          expiresAt: new Date(Date.now() + 86_400_000),
          createdBy: stranger.userId,
        }),
      );
      secret = created.token;
    }
    headersByCaller.set(`token:${key}`, { authorization: `Bearer ${secret}` });
  }

  const wait = expiresSoon + 50 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

function headersOf(caller: Caller): Record<string, string> {
  const key = caller.session
    ? `session:${caller.session}`
    : caller.token
      ? `token:${recipeKey(caller.token)}`
      : undefined;
  if (!key) return {};
  const headers = headersByCaller.get(key);
  if (!headers) throw new Error(`no credentials for ${caller.label}`);
  return headers;
}

function pathOf(c: Case): string {
  const { target, running } = c.place;
  const pick = (own: string, foreign: string) =>
    target === 'foreign' ? foreign : target === 'nonexistent' ? ids.nowhere : own;
  return fillPath(c.spec.url, {
    ...PARAMS,
    workspaceId: pick(ids.ownWorkspace, ids.foreignWorkspace),
    runId: running
      ? pick(ids.ownRunningRun, ids.foreignRunningRun)
      : pick(ids.ownRun, ids.foreignRun),
  });
}

async function send(c: Case): Promise<Answer> {
  const withBody = c.method === 'POST' || c.method === 'PUT' || c.method === 'PATCH';
  const res = await fetch(`${server.url}${pathOf(c)}`, {
    method: c.method,
    headers: {
      origin: server.url,
      accept: 'application/json',
      ...(withBody ? { 'content-type': 'application/json' } : {}),
      ...headersOf(c.caller),
    },
    ...(withBody ? { body: '{}' } : {}),
  });
  const text = await res.text();
  const requestId = res.headers.get('x-request-id') ?? '';
  let body: Answer['body'] = null;
  try {
    body = JSON.parse(text);
  } catch {}
  const headers = Object.fromEntries(
    ['content-type', 'content-length', 'cache-control'].map((h) => [h, res.headers.get(h)]),
  );
  return { status: res.status, headers, requestId, reached: reached.has(requestId), body, text };
}

/** The answer without what differs per request (its id and path). */
const comparable = (body: Answer['body']) => {
  const { requestId: _id, instance: _instance, ...rest } = body ?? {};
  return rest;
};

describe('authorization matrix (multi-user, PGlite)', () => {
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        PARLEY_MULTI_USER: '1',
        PARLEY_OPERATOR_EMAILS: OPERATOR_EMAIL,
        PARLEY_OPERATOR_CODE: OPERATOR_CODE,
      },
      // Hundreds of stale-token and cross-workspace misses from one address are the point here.
      tuning: { authFailureLimit: 1_000_000, probeThreshold: 1_000_000, runLingerMs: 0 },
    });
    await setUp();
    // From here on, handlers are probes (see the top of this file).
    for (const spec of ROUTES) {
      originalHandlers.set(spec, spec.handler);
      spec.handler = async ({ request, reply }) => {
        reached.add(request.id);
        reply.code(204);
        return undefined;
      };
    }
    const { runs } = server.app.services;
    runsInMemory = [ids.ownRunningRun, ids.foreignRunningRun, ids.ownRun, ids.foreignRun].map(
      (id) => runs.workspaceOf(id),
    );
    const responses = await mapLimit(CASES, 16, send);
    CASES.forEach((c, i) => {
      results.set(c.name, responses[i]!);
    });
  }, 120_000);

  afterAll(async () => {
    for (const [spec, handler] of originalHandlers) spec.handler = handler;
    await server?.close();
  });

  describe('the route table', () => {
    it('every route has the access this table expects, and every entry here is a route', () => {
      const keys = ROUTES.map(routeKey);
      expect(new Set(keys).size, 'duplicate routes').toBe(keys.length);
      const actual = Object.fromEntries(ROUTES.map((r) => [routeKey(r), r.access]));
      expect(actual).toEqual(EXPECTED_ACCESS);
    });

    it('every API route Fastify serves is in ROUTES, and every ROUTES entry is served', () => {
      const registered = parseRouteTree(server.app.printRoutes({ commonPrefix: false }));
      const gets = new Set(registered.filter((r) => r.method === 'GET').map(routeKey));
      const served = registered
        .filter((r) => !isDashboardPath(r.url))
        // Fastify answers HEAD for every GET route by itself (same hooks, same authorization).
        .filter((r) => r.method !== 'HEAD' || !gets.has(routeKey({ ...r, method: 'GET' })))
        .map(routeKey);
      expect(served.length).toBeGreaterThan(0);
      expect([...new Set(served)].sort()).toEqual(ROUTES.map(routeKey).sort());
      for (const r of ROUTES) expect(server.app.hasRoute(r), routeKey(r)).toBe(true);
    });

    it('the matrix has every route, and each permission check both lets in and keeps out', () => {
      expect(new Set(CASES.map((c) => routeKey(c.spec)))).toEqual(new Set(ROUTES.map(routeKey)));
      for (const spec of ROUTES) {
        const outcomes = (method: string) =>
          new Set(
            CASES.filter((c) => c.spec === spec && c.method === method).map((c) =>
              c.expected.result === 'denied' ? `${c.expected.status}` : c.expected.result,
            ),
          );
        const want =
          spec.access.kind === 'public'
            ? ['allowed', '401']
            : spec.access.kind === 'principal'
              ? ['allowed', '401']
              : spec.access.kind === 'person' ||
                  spec.access.kind === 'operator' ||
                  spec.access.kind === 'token'
                ? ['allowed', '401', '403']
                : ['allowed', '401', '403', 'hidden'];
        expect(outcomes(spec.method), routeKey(spec)).toEqual(new Set(want));
        if (spec.method === 'GET')
          expect(outcomes('HEAD'), `HEAD ${spec.url}`).toEqual(new Set(want));
      }
      expect(results.size).toBe(CASES.length);
    });

    it('run cases cover both places authorization looks: running runs and ended ones', () => {
      // As seen just before the matrix ran: where the server had each run.
      expect(runsInMemory).toEqual([ids.ownWorkspace, ids.foreignWorkspace, undefined, undefined]);
    });
  });

  describe('cases', () => {
    for (const c of CASES) {
      it(c.name, () => {
        const r = results.get(c.name);
        expect(r, 'no response recorded').toBeDefined();
        const head = c.method === 'HEAD';
        const got = `${r!.status} ${r!.text.slice(0, 300)}`;
        // The OpenAI-compatible routes answer OpenAI's error body, its code mapped from ours.
        const openAi = isOpenAiPath(c.spec.url);
        const code = openAi
          ? (r!.body?.error as { code?: string } | undefined)?.code
          : r!.body?.code;
        const codeFor = (parley: string) => (openAi ? openAiCodeOf(parley) : parley);
        switch (c.expected.result) {
          case 'allowed': {
            // The probe answered (204), or validation refused the `{}` body: both come
            // after authorization.
            const passed =
              (r!.reached && r!.status === 204) ||
              (r!.status === 400 && code === codeFor('request.invalid'));
            expect(passed, `expected to pass authorization, got ${got}`).toBe(true);
            break;
          }
          case 'denied': {
            expect(r!.reached, `a denied request reached the handler: ${got}`).toBe(false);
            // A HEAD answer has no body: its status must still be the GET answer's.
            if (head) {
              expect(r!.status, got).toBe(c.expected.status);
              break;
            }
            expect({ status: r!.status, code }, got).toEqual({
              status: c.expected.status,
              code: codeFor(c.expected.code),
            });
            const { access } = c.spec;
            if (c.expected.status === 403 && (access.kind === 'workspace' || access.kind === 'run'))
              expect(r!.body?.detail, got).toContain(access.permission);
            break;
          }
          case 'hidden': {
            expect(r!.reached, `a hidden request reached the handler: ${got}`).toBe(false);
            const twin = results.get(c.twin!);
            expect(twin, 'no nonexistent twin').toBeDefined();
            expect(twin!.status).toBe(404);
            expect(r!.headers, 'headers differ from the nonexistent case').toEqual(twin!.headers);
            if (head) {
              expect(r!.status, got).toBe(404);
              break;
            }
            expect({ status: r!.status, code }, got).toEqual({
              status: 404,
              code: codeFor('resource.not_found'),
            });
            // Foreign is indistinguishable from nonexistent: same status, code, detail, all.
            expect(comparable(r!.body)).toEqual(comparable(twin!.body));
            break;
          }
        }
      });
    }
  });
});
