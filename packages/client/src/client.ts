import type { api } from '@parley/protocol';
import type { z } from 'zod';
import { errorFromResponse } from './errors.ts';
import { RunStream, type RunStreamOptions } from './run-stream.ts';
import { type ClientOptions, createTransport, type Query } from './transport.ts';

type Out<S extends z.ZodType> = z.output<S>;
type In<S extends z.ZodType> = z.input<S>;

export type User = Out<typeof api.UserSchema>;
export type Workspace = Out<typeof api.WorkspaceSchema>;
export type Me = Out<typeof api.MeSchema>;
export type Session = Out<typeof api.SessionResponseSchema>;
export type Member = Out<typeof api.MemberSchema>;
export type Invitation = Out<typeof api.InvitationSchema>;
export type ApiToken = Out<typeof api.ApiTokenSchema>;
export type SecretInfo = Out<typeof api.SecretInfoSchema>;
export type Agent = Out<typeof api.AgentSchema>;
export type AgentVersion = Out<typeof api.AgentVersionSchema>;
export type AgentWithVersion = Out<typeof api.AgentWithVersionSchema>;
export type Conversation = Out<typeof api.ConversationSchema>;
export type Message = Out<typeof api.MessageSchema>;
export type Run = Out<typeof api.RunSchema>;
export type RunResult = Out<typeof api.RunResultSchema>;
export type StartRun = In<typeof api.StartRunRequestSchema>;
export type AuditEvent = Out<typeof api.AuditEventSchema>;
export type SecuritySignal = Out<typeof api.SecuritySignalSchema>;
export type UsageSummary = Out<typeof api.UsageSummarySchema>;
export type Funnel = Out<typeof api.FunnelSchema>;
export type UsageSeries = Out<typeof api.UsageSeriesSchema>;
export type KeyCheck = Out<typeof api.KeyCheckResponseSchema>;

/** What happened in a workspace since a time (GET …/security/report). */
export interface SecurityReport {
  since: string;
  until: string;
  signals: {
    total: number;
    unacknowledged: number;
    byKind: Record<string, number>;
    bySeverity: { info: number; warning: number; critical: number };
  };
  audit: {
    total: number;
    denied: number;
    byAction: Record<string, number>;
    tokensCreated: number;
    tokensRevoked: number;
    secretWrites: number;
    secretDecrypts: number;
    roleChanges: number;
    membersAdded: number;
    membersRemoved: number;
    pluginDenials: number;
  };
  tokensFromNewAddresses: {
    tokenId: string;
    name: string | null;
    prefix: string | null;
    addresses: string[];
    times: number;
    lastAt: string;
  }[];
  topAddresses: { ip: string; auditEvents: number; signals: number }[];
  truncated: boolean;
}
export interface MasterKeyRotation {
  version: number;
  rewrappedDataKeys: number;
  workspaces: number;
  configuredVersions: number[];
  source: string | null;
  next: string;
}
export interface PluginSwitch {
  name: string;
  disabled: boolean;
  disabledPlugins: string[];
}

/** Trust page and support shapes (docs/api.md, Trust and Support). */
export interface TrustPageInfo {
  slug: string | null;
  published: boolean;
  publishedAt: string | null;
  version: number;
  updatedAt: string | null;
  content: {
    title: string;
    officialDomains: string[];
    handles: { platform: string; handle: string }[];
    canonicalMigrationLink: string | null;
    canonicalLinks: string[];
    statements: string[];
    brandTokens: string[];
    blocklist: string[];
  };
}
export interface TrustPartnerInput {
  name: string;
  kind?: string;
  migrationStatus: 'not_started' | 'in_progress' | 'completed' | 'not_supported';
  lastVerifiedOn?: string | null;
  note?: string | null;
}
export interface TrustPartnerRow extends Required<TrustPartnerInput> {
  id: string;
  updatedAt: string;
}
export interface TrustStatus {
  id: string;
  postedAt: string;
  body: string;
  postedBy: string;
}
export interface TrustDraft {
  page: TrustPageInfo;
  partners: TrustPartnerRow[];
  statusUpdates: TrustStatus[];
  statusOverdue: boolean;
}
export interface TrustVersion {
  version: number;
  content: TrustPageInfo['content'];
  editedBy: string;
  note: string | null;
  createdAt: string;
}
export type TicketPriority = 'low' | 'normal' | 'high' | 'urgent';
export interface SupportTicket {
  id: string;
  subject: string;
  status: 'new' | 'open' | 'pending' | 'solved' | 'closed';
  priority: TicketPriority;
  channel: string;
  requester: string;
  assignee: string | null;
  externalKey: string | null;
  slaHours: number;
  firstResponseDueAt: string | null;
  slaRemainingSeconds: number | null;
  firstRespondedAt: string | null;
  slaBreachedAt: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface TicketEventRow {
  at: string;
  kind: string;
  actor: string;
  direction: 'inbound' | 'outbound' | null;
  body: string | null;
  data: Record<string, unknown>;
}
export interface SupportBreach {
  ticketId: string;
  at: string;
  subject: string;
  channel: string;
  priority: string;
  requester: string;
  assignee: string | null;
  slaHours: number;
}

const seg = encodeURIComponent;
const ws = (workspaceId: string) => `/v1/workspaces/${seg(workspaceId)}`;

/**
 * The typed Parley client: one method per API route (a test checks none is missing), errors
 * as ParleyApiError with the problem's stable `code`, and runs as resumable streams.
 *
 * ```ts
 * const parley = createParleyClient({ baseUrl: 'http://127.0.0.1:4000', token: 'prl_…' });
 * const run = await parley.runs.stream(workspaceId, 'support-bot', { input: 'Hi!' });
 * for await (const event of run) if (event.type === 'text.delta') process.stdout.write(event.delta);
 * ```
 */
export function createParleyClient(options: ClientOptions) {
  const t = createTransport(options);
  const get = <T>(path: string, query?: Query) => t.json<T>('GET', path, query ? { query } : {});
  const send = <T>(method: string, path: string, body?: unknown) =>
    t.json<T>(method, path, body === undefined ? {} : { body });

  const openEvents = (runId: string) => (afterSeq: number, signal?: AbortSignal) =>
    t.raw('GET', `/v1/runs/${seg(runId)}/events`, {
      headers: { accept: 'text/event-stream', 'last-event-id': String(afterSeq) },
      ...(signal ? { signal } : {}),
    });
  const runActions = (runId: string) => ({
    cancel: () =>
      send<Out<typeof api.CancelResponseSchema>>('POST', `/v1/runs/${seg(runId)}/cancel`),
    decide: (callId: string, decision: 'approved' | 'denied') =>
      send<Out<typeof api.ApprovalResponseSchema>>(
        'POST',
        `/v1/runs/${seg(runId)}/approvals/${seg(callId)}`,
        {
          decision,
        },
      ),
  });

  return {
    /** The server URL this client talks to. */
    baseUrl: t.base,

    system: {
      health: () => get<{ ok: true }>('/healthz'),
      ready: () => get<{ ok: true; database: string; dbMs: number }>('/readyz'),
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
      logOut: (body: { everywhere?: boolean } = {}) => send<void>('POST', '/v1/auth/logout', body),
      /** Become an instance operator with the one-time code (server log or PARLEY_OPERATOR_CODE). */
      confirmOperator: (body: In<typeof api.ConfirmOperatorRequestSchema>) =>
        send<{ operator: true; alreadyConfirmed: boolean }>(
          'POST',
          '/v1/auth/operator/confirm',
          body,
        ),
    },

    me: () => get<Me>('/v1/me'),

    /** The plugins the server can give agents (name, version, tier, declared permissions). */
    plugins: () =>
      get<
        {
          name: string;
          version: string;
          /** Null for an installed plugin that did not say. */
          contract: number | null;
          description: string | null;
          /** From the plugin registry (registry/plugins.json), not the plugin's own claim. */
          tier: 'core' | 'verified' | 'community' | 'archived';
          permissions: { network: string[]; secrets: string[] };
          configurable: boolean;
          /** Switched off by the server's operator: agents using it cannot run. */
          disabled: boolean;
          /** The compatibility kit's last result and the core versions it passed on. */
          compatibility: {
            kit: 'pass' | 'fail' | null;
            testedCore: string[];
            testedOnThisCore: boolean;
          };
        }[]
      >('/v1/plugins'),

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

    agents: {
      list: (workspaceId: string, query: { includeArchived?: boolean } = {}) =>
        get<Agent[]>(`${ws(workspaceId)}/agents`, query),
      create: (workspaceId: string, body: In<typeof api.CreateAgentRequestSchema>) =>
        send<AgentWithVersion>('POST', `${ws(workspaceId)}/agents`, body),
      /** By id or by name. */
      get: (workspaceId: string, agent: string) =>
        get<AgentWithVersion>(`${ws(workspaceId)}/agents/${seg(agent)}`),
      update: (workspaceId: string, agent: string, body: In<typeof api.UpdateAgentRequestSchema>) =>
        send<Agent>('PATCH', `${ws(workspaceId)}/agents/${seg(agent)}`, body),
      delete: (workspaceId: string, agent: string) =>
        send<void>('DELETE', `${ws(workspaceId)}/agents/${seg(agent)}`),
      saveDraft: (workspaceId: string, agent: string, definition: Record<string, unknown>) =>
        send<Agent>('PUT', `${ws(workspaceId)}/agents/${seg(agent)}/draft`, { definition }),
      versions: (workspaceId: string, agent: string) =>
        get<AgentVersion[]>(`${ws(workspaceId)}/agents/${seg(agent)}/versions`),
      version: (workspaceId: string, agent: string, version: number) =>
        get<AgentVersion>(`${ws(workspaceId)}/agents/${seg(agent)}/versions/${version}`),
      /**
       * Checks the agent's model keys (its draft's, else its deployed version's) with one cheap
       * request each, made by the server: ok, rejected, rate_limited, unreachable… never the key.
       */
      /**
       * One JSON-RPC message to the agent's MCP endpoint (Streamable HTTP); MCP clients use the
       * URL `${baseUrl}/v1/workspaces/:workspaceId/agents/:agent/mcp` with the token directly.
       */
      mcp: (
        workspaceId: string,
        agent: string,
        message: { jsonrpc: '2.0'; [key: string]: unknown },
      ) =>
        send<Record<string, unknown> | undefined>(
          'POST',
          `${ws(workspaceId)}/agents/${seg(agent)}/mcp`,
          message,
        ),
      checkKeys: (workspaceId: string, agent: string) =>
        send<KeyCheck>('POST', `${ws(workspaceId)}/agents/${seg(agent)}/key-check`),
      /** Deploys the definition (or the draft); `created: false` when nothing changed. */
      deploy: (workspaceId: string, agent: string, body: In<typeof api.DeployRequestSchema> = {}) =>
        send<Out<typeof api.DeployResponseSchema>>(
          'POST',
          `${ws(workspaceId)}/agents/${seg(agent)}/versions`,
          body,
        ),
    },

    conversations: {
      list: (
        workspaceId: string,
        query: { agentId?: string; limit?: number; before?: string } = {},
      ) => get<Conversation[]>(`${ws(workspaceId)}/conversations`, query),
      create: (workspaceId: string, body: In<typeof api.CreateConversationRequestSchema>) =>
        send<Conversation>('POST', `${ws(workspaceId)}/conversations`, body),
      get: (workspaceId: string, conversationId: string) =>
        get<Conversation>(`${ws(workspaceId)}/conversations/${seg(conversationId)}`),
      messages: (
        workspaceId: string,
        conversationId: string,
        query: { afterPosition?: number; last?: number; limit?: number } = {},
      ) =>
        get<Message[]>(`${ws(workspaceId)}/conversations/${seg(conversationId)}/messages`, query),
    },

    runs: {
      /** Starts a run and streams it; the stream resumes by itself after a dropped connection. */
      async stream(
        workspaceId: string,
        agent: string,
        body: StartRun,
        streamOptions: RunStreamOptions = {},
      ) {
        const response = await t.raw('POST', `${ws(workspaceId)}/agents/${seg(agent)}/runs`, {
          body,
          headers: { accept: 'text/event-stream' },
          ...(streamOptions.signal ? { signal: streamOptions.signal } : {}),
        });
        const runId = response.headers.get('x-parley-run-id');
        if (!runId) throw await errorFromResponse(response);
        return new RunStream(runId, response, openEvents(runId), runActions(runId), streamOptions);
      },
      /** Starts a run and waits for its final answer (JSON, no stream). */
      start: (workspaceId: string, agent: string, body: StartRun) =>
        t.json<RunResult>('POST', `${ws(workspaceId)}/agents/${seg(agent)}/runs`, { body }),
      /** Follows an existing run from `afterSeq` (0: from the start) to its end. */
      follow(runId: string, afterSeq = 0, streamOptions: RunStreamOptions = {}) {
        const stream = new RunStream(
          runId,
          undefined,
          openEvents(runId),
          runActions(runId),
          streamOptions,
        );
        stream.state.lastSeq = afterSeq;
        return stream;
      },
      list: (
        workspaceId: string,
        query: {
          agentId?: string;
          conversationId?: string;
          status?: Run['status'];
          limit?: number;
          before?: string;
        } = {},
      ) => get<Run[]>(`${ws(workspaceId)}/runs`, query),
      get: (runId: string) => get<Run>(`/v1/runs/${seg(runId)}`),
      cancel: (runId: string) => runActions(runId).cancel(),
      decide: (runId: string, toolCallId: string, decision: 'approved' | 'denied') =>
        runActions(runId).decide(toolCallId, decision),
    },

    audit: {
      list: (
        workspaceId: string,
        query: { action?: string; limit?: number; before?: string } = {},
      ) => get<AuditEvent[]>(`${ws(workspaceId)}/audit`, query),
      signals: (
        workspaceId: string,
        query: { kind?: string; since?: string; unacknowledged?: boolean; limit?: number } = {},
      ) => get<SecuritySignal[]>(`${ws(workspaceId)}/security-signals`, query),
      acknowledge: (workspaceId: string, signalId: string) =>
        send<void>('POST', `${ws(workspaceId)}/security-signals/${seg(signalId)}/acknowledge`),
      usage: (workspaceId: string, query: { since?: string } = {}) =>
        get<UsageSummary>(`${ws(workspaceId)}/usage`, query),
      /** Runs and TTFT p50/p95 per hour or day, provider and model. */
      usageSeries: (workspaceId: string, query: { since?: string; bucket?: 'hour' | 'day' } = {}) =>
        get<UsageSeries>(`${ws(workspaceId)}/usage/series`, query),
    },

    instance: {
      funnel: (query: { since?: string } = {}) => get<Funnel>('/v1/instance/funnel', query),
      signals: (query: { since?: string; limit?: number } = {}) =>
        get<Omit<SecuritySignal, 'acknowledgedAt'>[]>('/v1/instance/security-signals', query),
    },

    /** Respond to an incident: the workspace's report, and the levers (tokens, sessions, keys, plugins). */
    security: {
      report: (workspaceId: string, query: { since?: string } = {}) =>
        get<SecurityReport>(`${ws(workspaceId)}/security/report`, query),
      /** Revokes every active token of the workspace (`{ all: true }`), or those `userId` created. */
      revokeTokens: (workspaceId: string, body: { all: true } | { userId: string }) =>
        send<{
          revoked: number;
          tokenIds: string[];
          userId: string | null;
          ownersTokensKept: number;
        }>('POST', `${ws(workspaceId)}/security/revoke-tokens`, body),
      /** Ends every session of a member of the workspace (they sign in again). */
      endSessions: (workspaceId: string, userId: string) =>
        send<{ userId: string; ended: number }>(
          'POST',
          `${ws(workspaceId)}/security/end-sessions`,
          {
            userId,
          },
        ),
      /** Operator: re-wraps every data key under the newest master key. */
      rotateMasterKey: () => send<MasterKeyRotation>('POST', '/v1/instance/rotate-master-key'),
      disablePlugin: (name: string) =>
        send<PluginSwitch>('POST', `/v1/instance/plugins/${seg(name)}/disable`),
      enablePlugin: (name: string) =>
        send<PluginSwitch>('POST', `/v1/instance/plugins/${seg(name)}/enable`),
    },

    /** The workspace's trust page (docs/trust.md): public read, versioned and audited edits. */
    trust: {
      /** The published page as JSON, without a token (`/trust/<slug>.json`). */
      public: (slug: string) => get<Record<string, unknown>>(`/trust/${seg(slug)}.json`),
      get: (workspaceId: string) => get<TrustDraft>(`${ws(workspaceId)}/trust`),
      update: (workspaceId: string, body: { content: Record<string, unknown>; note?: string }) =>
        send<TrustPageInfo>('PUT', `${ws(workspaceId)}/trust`, body),
      versions: (workspaceId: string, query: { limit?: number } = {}) =>
        get<TrustVersion[]>(`${ws(workspaceId)}/trust/versions`, query),
      publish: (workspaceId: string, body: { published: boolean; slug?: string }) =>
        send<TrustPageInfo>('PUT', `${ws(workspaceId)}/trust/publication`, body),
      postStatus: (workspaceId: string, body: string) =>
        send<TrustStatus>('POST', `${ws(workspaceId)}/trust/status`, { body }),
      upsertPartner: (workspaceId: string, partner: TrustPartnerInput) =>
        send<TrustPartnerRow>('PUT', `${ws(workspaceId)}/trust/partners`, partner),
      deletePartner: (workspaceId: string, partnerId: string) =>
        send<void>('DELETE', `${ws(workspaceId)}/trust/partners/${seg(partnerId)}`),
      metrics: (workspaceId: string, query: { since?: string } = {}) =>
        get<Record<string, unknown>>(`${ws(workspaceId)}/trust/metrics`, query),
    },

    /** The support inbox and its first-response SLA. */
    support: {
      list: (
        workspaceId: string,
        query: { status?: string; channel?: string; limit?: number } = {},
      ) => get<SupportTicket[]>(`${ws(workspaceId)}/support/tickets`, query),
      create: (
        workspaceId: string,
        body: {
          subject: string;
          requester: string;
          channel?: string;
          priority?: TicketPriority;
          assignee?: string;
          body?: string;
        },
      ) => send<SupportTicket>('POST', `${ws(workspaceId)}/support/tickets`, body),
      get: (workspaceId: string, ticketId: string) =>
        get<{ ticket: SupportTicket; events: TicketEventRow[] }>(
          `${ws(workspaceId)}/support/tickets/${seg(ticketId)}`,
        ),
      update: (
        workspaceId: string,
        ticketId: string,
        body: { status?: string; priority?: TicketPriority; assignee?: string | null },
      ) =>
        send<SupportTicket>('PATCH', `${ws(workspaceId)}/support/tickets/${seg(ticketId)}`, body),
      message: (
        workspaceId: string,
        ticketId: string,
        body: { body: string; direction?: 'inbound' | 'outbound' },
      ) =>
        send<SupportTicket>(
          'POST',
          `${ws(workspaceId)}/support/tickets/${seg(ticketId)}/messages`,
          body,
        ),
      /** support.open_ticket: a connector's message; opens or updates a ticket when it should. */
      inbound: (
        workspaceId: string,
        body: { channel: string; threadId: string; requester: string; text: string },
      ) =>
        send<{ support: boolean; reason: string; created: boolean; ticket: SupportTicket | null }>(
          'POST',
          `${ws(workspaceId)}/support/inbound`,
          body,
        ),
      policy: (workspaceId: string) =>
        get<Record<TicketPriority, number>>(`${ws(workspaceId)}/support/policy`),
      setPolicy: (workspaceId: string, body: Partial<Record<TicketPriority, number>>) =>
        send<Record<TicketPriority, number>>('PUT', `${ws(workspaceId)}/support/policy`, body),
      breaches: (workspaceId: string, query: { since?: string; limit?: number } = {}) =>
        get<SupportBreach[]>(`${ws(workspaceId)}/support/breaches`, query),
    },
  };
}

export type ParleyClient = ReturnType<typeof createParleyClient>;

/** Which client method calls which API operation (the server's operationIds). */
export const OPERATIONS: Readonly<Record<string, string>> = {
  health: 'system.health',
  ready: 'system.ready',
  openapi: 'system.openapi',
  metrics: 'system.metrics',
  securityTxt: 'system.securityTxt',
  signUp: 'auth.signUp',
  logIn: 'auth.logIn',
  localSession: 'auth.localSession',
  logOut: 'auth.logOut',
  confirmOperator: 'auth.confirmOperator',
  me: 'me',
  listPlugins: 'plugins',
  listWorkspaces: 'workspaces.list',
  createWorkspace: 'workspaces.create',
  getWorkspace: 'workspaces.get',
  renameWorkspace: 'workspaces.rename',
  deleteWorkspace: 'workspaces.delete',
  listMembers: 'members.list',
  setMemberRole: 'members.setRole',
  removeMember: 'members.remove',
  listInvitations: 'invitations.list',
  createInvitation: 'invitations.create',
  revokeInvitation: 'invitations.revoke',
  acceptInvitation: 'invitations.accept',
  listTokens: 'tokens.list',
  createToken: 'tokens.create',
  revokeToken: 'tokens.revoke',
  listSecrets: 'secrets.list',
  putSecret: 'secrets.put',
  deleteSecret: 'secrets.delete',
  listAgents: 'agents.list',
  createAgent: 'agents.create',
  getAgent: 'agents.get',
  updateAgent: 'agents.update',
  deleteAgent: 'agents.delete',
  saveAgentDraft: 'agents.saveDraft',
  listAgentVersions: 'agents.versions',
  getAgentVersion: 'agents.version',
  deployAgent: 'agents.deploy',
  checkAgentKeys: 'agents.checkKeys',
  listConversations: 'conversations.list',
  createConversation: 'conversations.create',
  getConversation: 'conversations.get',
  listMessages: 'conversations.messages',
  startRun: 'runs.stream',
  agentMcp: 'agents.mcp',
  listRuns: 'runs.list',
  getRun: 'runs.get',
  streamRunEvents: 'runs.follow',
  cancelRun: 'runs.cancel',
  decideApproval: 'runs.decide',
  listAudit: 'audit.list',
  listSecuritySignals: 'audit.signals',
  acknowledgeSecuritySignal: 'audit.acknowledge',
  usageSummary: 'audit.usage',
  usageSeries: 'audit.usageSeries',
  productFunnel: 'instance.funnel',
  listInstanceSignals: 'instance.signals',
  securityReport: 'security.report',
  revokeAllTokens: 'security.revokeTokens',
  endMemberSessions: 'security.endSessions',
  rotateMasterKey: 'security.rotateMasterKey',
  disablePlugin: 'security.disablePlugin',
  enablePlugin: 'security.enablePlugin',
  publicTrustPage: 'trust.public',
  getTrustPage: 'trust.get',
  updateTrustPage: 'trust.update',
  listTrustVersions: 'trust.versions',
  publishTrustPage: 'trust.publish',
  postTrustStatus: 'trust.postStatus',
  upsertTrustPartner: 'trust.upsertPartner',
  deleteTrustPartner: 'trust.deletePartner',
  trustMetrics: 'trust.metrics',
  listTickets: 'support.list',
  createTicket: 'support.create',
  getTicket: 'support.get',
  updateTicket: 'support.update',
  addTicketMessage: 'support.message',
  supportOpenTicket: 'support.inbound',
  getSlaPolicy: 'support.policy',
  setSlaPolicy: 'support.setPolicy',
  listBreaches: 'support.breaches',
};
