import type {
  AuditEvent,
  CreateTicket,
  EndedSessions,
  Funnel,
  MasterKeyRotation,
  PluginSwitch,
  PublicTrustDocument,
  RevokedTokens,
  RevokeTokensRequest,
  SecurityReport,
  SecuritySignal,
  SlaPolicy,
  SupportBreach,
  SupportInbound,
  SupportInboundResult,
  SupportTicket,
  TicketMessage,
  TicketWithEvents,
  TrustDraft,
  TrustMetrics,
  TrustPageInfo,
  TrustPartnerInput,
  TrustPartnerRow,
  TrustPublication,
  TrustStatus,
  TrustVersion,
  UpdateTicket,
  UsageSeries,
  UsageSummary,
} from '../client-types.ts';
import { seg, type Verbs, ws } from './verbs.ts';

/** Audit, usage and the instance, security signals and reports, trust pages, support. */
export function operationsRoutes({ get, send }: Verbs) {
  return {
    audit: {
      list: (
        workspaceId: string,
        query: {
          action?: string;
          limit?: number;
          before?: string;
          /** The last event's id: the next page (events that share a time are not skipped). */
          beforeId?: string;
        } = {},
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
      revokeTokens: (workspaceId: string, body: RevokeTokensRequest) =>
        send<RevokedTokens>('POST', `${ws(workspaceId)}/security/revoke-tokens`, body),
      /** Ends every session of a member of the workspace (they sign in again). */
      endSessions: (workspaceId: string, userId: string) =>
        send<EndedSessions>('POST', `${ws(workspaceId)}/security/end-sessions`, { userId }),
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
      public: (slug: string) => get<PublicTrustDocument>(`/trust/${seg(slug)}.json`),
      get: (workspaceId: string) => get<TrustDraft>(`${ws(workspaceId)}/trust`),
      update: (workspaceId: string, body: { content: Record<string, unknown>; note?: string }) =>
        send<TrustPageInfo>('PUT', `${ws(workspaceId)}/trust`, body),
      versions: (workspaceId: string, query: { limit?: number } = {}) =>
        get<TrustVersion[]>(`${ws(workspaceId)}/trust/versions`, query),
      publish: (workspaceId: string, body: TrustPublication) =>
        send<TrustPageInfo>('PUT', `${ws(workspaceId)}/trust/publication`, body),
      postStatus: (workspaceId: string, body: string) =>
        send<TrustStatus>('POST', `${ws(workspaceId)}/trust/status`, { body }),
      upsertPartner: (workspaceId: string, partner: TrustPartnerInput) =>
        send<TrustPartnerRow>('PUT', `${ws(workspaceId)}/trust/partners`, partner),
      deletePartner: (workspaceId: string, partnerId: string) =>
        send<void>('DELETE', `${ws(workspaceId)}/trust/partners/${seg(partnerId)}`),
      metrics: (workspaceId: string, query: { since?: string } = {}) =>
        get<TrustMetrics>(`${ws(workspaceId)}/trust/metrics`, query),
    },

    /** The support inbox and its first-response SLA. */
    support: {
      list: (
        workspaceId: string,
        query: { status?: string; channel?: string; limit?: number } = {},
      ) => get<SupportTicket[]>(`${ws(workspaceId)}/support/tickets`, query),
      create: (workspaceId: string, body: CreateTicket) =>
        send<SupportTicket>('POST', `${ws(workspaceId)}/support/tickets`, body),
      get: (workspaceId: string, ticketId: string) =>
        get<TicketWithEvents>(`${ws(workspaceId)}/support/tickets/${seg(ticketId)}`),
      update: (workspaceId: string, ticketId: string, body: UpdateTicket) =>
        send<SupportTicket>('PATCH', `${ws(workspaceId)}/support/tickets/${seg(ticketId)}`, body),
      message: (workspaceId: string, ticketId: string, body: TicketMessage) =>
        send<SupportTicket>(
          'POST',
          `${ws(workspaceId)}/support/tickets/${seg(ticketId)}/messages`,
          body,
        ),
      /** support.open_ticket: a connector's message; opens or updates a ticket when it should. */
      inbound: (workspaceId: string, body: SupportInbound) =>
        send<SupportInboundResult>('POST', `${ws(workspaceId)}/support/inbound`, body),
      policy: (workspaceId: string) => get<SlaPolicy>(`${ws(workspaceId)}/support/policy`),
      setPolicy: (workspaceId: string, body: Partial<SlaPolicy>) =>
        send<SlaPolicy>('PUT', `${ws(workspaceId)}/support/policy`, body),
      breaches: (workspaceId: string, query: { since?: string; limit?: number } = {}) =>
        get<SupportBreach[]>(`${ws(workspaceId)}/support/breaches`, query),
    },
  };
}
