import type { api } from '@parley/protocol';
import type { In, Out } from './routes/verbs.ts';

/*
 * The shapes the client's methods take and answer with, every one derived from
 * @parley/protocol's API schemas (the ones the server validates with and documents in
 * /v1/openapi.json), so a field cannot drift between the two.
 */

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

/** Respond: the security report and the levers (docs/security.md). */
export type SecurityReport = Out<typeof api.SecurityReportSchema>;
export type RevokeTokensRequest = In<typeof api.RevokeTokensRequestSchema>;
export type RevokedTokens = Out<typeof api.RevokeTokensResponseSchema>;
export type EndedSessions = Out<typeof api.EndSessionsResponseSchema>;
export type MasterKeyRotation = Out<typeof api.MasterKeyRotationSchema>;
export type PluginSwitch = Out<typeof api.PluginSwitchSchema>;
export type PluginInfo = Out<typeof api.PluginInfoSchema>;

/** Trust page and support shapes (docs/api.md, Trust and Support). */
export type TrustPageInfo = Out<typeof api.TrustPageSchema>;
export type TrustPartnerInput = In<typeof api.UpsertTrustPartnerRequestSchema>;
export type TrustPartnerRow = Out<typeof api.TrustPartnerSchema>;
export type TrustStatus = Out<typeof api.TrustStatusSchema>;
export type TrustDraft = Out<typeof api.TrustDraftSchema>;
export type TrustVersion = Out<typeof api.TrustVersionSchema>;
export type TrustPublication = In<typeof api.PublishTrustPageRequestSchema>;
export type PublicTrustDocument = Out<typeof api.PublicTrustDocumentSchema>;
export type TrustMetrics = Out<typeof api.TrustMetricsSchema>;
export type TicketPriority = api.TicketPriority;
export type SupportTicket = Out<typeof api.TicketSchema>;
export type TicketEventRow = Out<typeof api.TicketEventSchema>;
export type TicketWithEvents = Out<typeof api.TicketWithEventsSchema>;
export type SupportBreach = Out<typeof api.BreachSchema>;
export type SlaPolicy = Out<typeof api.SlaPolicySchema>;
export type CreateTicket = In<typeof api.CreateTicketRequestSchema>;
export type UpdateTicket = In<typeof api.UpdateTicketRequestSchema>;
export type TicketMessage = In<typeof api.TicketMessageRequestSchema>;
export type SupportInbound = In<typeof api.SupportInboundRequestSchema>;
export type SupportInboundResult = Out<typeof api.SupportInboundResponseSchema>;
