import type { api } from '@parley/protocol';
import type { In, Out } from './routes/verbs.ts';

/*
 * The shapes the client's methods answer with. Most are derived from @parley/protocol's API
 * schemas; the ones written out by hand (trust, support, the security report) have no
 * protocol schema yet.
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
