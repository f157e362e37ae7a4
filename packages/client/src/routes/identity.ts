import type { api } from '@parley/protocol';
import type {
  ApiToken,
  Invitation,
  Me,
  Member,
  PluginInfo,
  SecretInfo,
  Session,
  Workspace,
} from '../client-types.ts';
import { type In, type Out, seg, type Verbs, ws } from './verbs.ts';

/** The system, sign-in, identity, workspace, member, invitation, token, secret and plugin routes. */
export function identityRoutes({ t, get, send }: Verbs) {
  return {
    system: {
      health: () => get<Out<typeof api.HealthSchema>>('/healthz'),
      ready: () => get<Out<typeof api.ReadinessSchema>>('/readyz'),
      openapi: () => get<Record<string, unknown>>('/v1/openapi.json'),
      metrics: async () => (await t.raw('GET', '/metrics')).text(),
      /** /.well-known/security.txt (RFC 9116): where to report a vulnerability. */
      securityTxt: async () => (await t.raw('GET', '/.well-known/security.txt')).text(),
    },

    auth: {
      signUp: (body: In<typeof api.SignUpRequestSchema>) =>
        send<Session>('POST', '/v1/auth/signup', body),
      logIn: (body: In<typeof api.LoginRequestSchema>) =>
        send<Session>('POST', '/v1/auth/login', body),
      localSession: () => send<Session>('POST', '/v1/auth/local'),
      logOut: (body: NonNullable<In<typeof api.LogOutRequestSchema>> = {}) =>
        send<void>('POST', '/v1/auth/logout', body),
      /** Become an instance operator with the one-time code (server log or PARLEY_OPERATOR_CODE). */
      confirmOperator: (body: In<typeof api.ConfirmOperatorRequestSchema>) =>
        send<Out<typeof api.ConfirmOperatorResponseSchema>>(
          'POST',
          '/v1/auth/operator/confirm',
          body,
        ),
    },

    me: () => get<Me>('/v1/me'),

    /** The plugins the server can give agents (name, version, tier, declared permissions). */
    plugins: () => get<PluginInfo[]>('/v1/plugins'),

    workspaces: {
      list: () => get<Workspace[]>('/v1/workspaces'),
      create: (name: string) => send<Workspace>('POST', '/v1/workspaces', { name }),
      get: (workspaceId: string) => get<Workspace>(ws(workspaceId)),
      rename: (workspaceId: string, name: string) =>
        send<Workspace>('PATCH', ws(workspaceId), { name }),
      delete: (workspaceId: string) => send<void>('DELETE', ws(workspaceId)),
    },

    members: {
      list: (workspaceId: string) => get<Member[]>(`${ws(workspaceId)}/members`),
      setRole: (workspaceId: string, userId: string, role: api.Role) =>
        send<Member>('PUT', `${ws(workspaceId)}/members/${seg(userId)}/role`, { role }),
      remove: (workspaceId: string, userId: string) =>
        send<void>('DELETE', `${ws(workspaceId)}/members/${seg(userId)}`),
    },

    invitations: {
      list: (workspaceId: string) => get<Invitation[]>(`${ws(workspaceId)}/invitations`),
      create: (workspaceId: string, body: In<typeof api.CreateInvitationRequestSchema>) =>
        send<Out<typeof api.CreatedInvitationSchema>>(
          'POST',
          `${ws(workspaceId)}/invitations`,
          body,
        ),
      revoke: (workspaceId: string, invitationId: string) =>
        send<void>('DELETE', `${ws(workspaceId)}/invitations/${seg(invitationId)}`),
      accept: (token: string) => send<Workspace>('POST', '/v1/invitations/accept', { token }),
    },

    tokens: {
      list: (workspaceId: string) => get<ApiToken[]>(`${ws(workspaceId)}/tokens`),
      /** The token value is in the answer once and never again. */
      create: (workspaceId: string, body: In<typeof api.CreateTokenRequestSchema>) =>
        send<Out<typeof api.CreatedTokenSchema>>('POST', `${ws(workspaceId)}/tokens`, body),
      revoke: (workspaceId: string, tokenId: string) =>
        send<void>('DELETE', `${ws(workspaceId)}/tokens/${seg(tokenId)}`),
    },

    secrets: {
      list: (workspaceId: string) => get<SecretInfo[]>(`${ws(workspaceId)}/secrets`),
      /** Write-only: the value goes in and is never shown again. */
      put: (workspaceId: string, name: string, value: string) =>
        send<SecretInfo>('PUT', `${ws(workspaceId)}/secrets/${seg(name)}`, { value }),
      delete: (workspaceId: string, name: string) =>
        send<void>('DELETE', `${ws(workspaceId)}/secrets/${seg(name)}`),
    },
  };
}
