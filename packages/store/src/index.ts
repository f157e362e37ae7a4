// @parley/store: the only way Parley reaches its database. Explicit exports only: adding a
// name here makes it public API. Test-only internals live in ./internal.ts.

import { api } from '@parley/protocol';

export {
  API_TOKEN_PREFIX,
  isWellFormedApiToken,
  parseSessionCookie,
} from './auth/tokens.ts';
export { redactUrl } from './connection.ts';
export { embeddedDatabaseDir } from './data-dir.ts';
export {
  EmbeddingMismatchError,
  type InputIssue,
  isStoreError,
  STORE_ERROR_CODES,
  StoreError,
  type StoreErrorCode,
  VaultError,
} from './errors.ts';
export {
  ALL_PERMISSIONS,
  effectivePermissions,
  INVITABLE_ROLES,
  type InvitableRole,
  PERMISSIONS,
  type Permission,
  PermissionSchema,
  ROLE_PERMISSIONS,
  roleAllows,
  WORKSPACE_ROLES,
  type WorkspaceRole,
  WorkspaceRoleSchema,
} from './identity/roles.ts';
export type { MigrateResult } from './migrate.ts';
export type { Agent, AgentVersion } from './repositories/agents.ts';
export { type ApiTokenInfo, MAX_TOKEN_LIFETIME_MS } from './repositories/api-tokens.ts';
export {
  type AuditEvent,
  type SecuritySignal,
  SIGNAL_SEVERITIES,
  type SignalInput,
  type SignalSeverity,
} from './repositories/audit.ts';
export {
  type Conversation,
  type Message,
  type MessagePart,
  MessagePartSchema,
  MessageRoleSchema,
  type NewMessage,
} from './repositories/conversations.ts';
export type { EvalResult } from './repositories/evals.ts';
export type {
  KnowledgeBase,
  KnowledgeChunkHit,
  KnowledgeDocument,
} from './repositories/knowledge.ts';
export {
  INDEXED_EMBEDDING_DIMENSIONS,
  type Memory,
  type MemoryHit,
  type MemoryScopeKind,
  type MemorySearch,
  type MemorySearchResult,
} from './repositories/memories.ts';
export {
  type AppendBatch,
  type AppendOptions,
  type AppendOutcome,
  type AppendResult,
  RUN_STATUSES,
  type Run,
  type RunSeriesPoint,
  type RunStatus,
  type RunSummary,
  type SeriesBucket,
} from './repositories/runs.ts';
export { type SecretInfo, SecretNameSchema } from './repositories/secrets.ts';
export {
  DEFAULT_FIRST_RESPONSE_HOURS,
  type NewTicketEvent,
  type NewTicketRow,
  type Ticket,
  type TicketChange,
  type TicketEvent,
  type TicketEventKind,
  type TicketPriority,
  type TicketStatus,
} from './repositories/support.ts';
export type { BreachRow } from './repositories/support-reports.ts';
export {
  EMPTY_TRUST_CONTENT,
  type PartnerStatus,
  SlugSchema,
  type TrustPage,
  type TrustPageContent,
  TrustPageContentSchema,
  type TrustPageVersion,
  type TrustPartner,
  type TrustStatusUpdate,
} from './repositories/trust.ts';
export type {
  Invitation,
  InvitationStatus,
  Member,
  Membership,
  Workspace,
} from './repositories/workspace.ts';
export { TICKET_EVENT_KINDS } from './schema/trust.ts';
/** The API's (@parley/protocol), re-exported for the store's callers. */
export const { PARTNER_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES } = api;
export {
  type Actor,
  type ScopeOptions,
  STORE_AUDIT_ACTIONS,
  type StoreAuditAction,
} from './scope.ts';
export {
  type IsolationReport,
  type OpenStoreOptions,
  openStore,
  type Store,
  type StoreCommonOptions,
} from './store.ts';
export type { ApiTokenAuthFailure, ApiTokenAuthResult, InvitationPreview } from './system/auth.ts';
export type { CounterHit, PluginSwitch } from './system/cluster.ts';
export {
  type DatabaseDiagnosis,
  type DatabaseRoleFacts,
  diagnoseStore,
  type MigrationState,
  type ProbeOptions,
  type ProbeResult,
  probeDatabase,
  type VectorStatus,
} from './system/diagnostics.ts';
export type { SystemSurface } from './system/index.ts';
export { FUNNEL_STEPS, type FunnelStep } from './system/product-events.ts';
export type { ClaimedRun } from './system/run-leases.ts';
export type { Session } from './system/sessions.ts';
export type { InstanceSignal } from './system/signals.ts';
export type { User } from './system/users.ts';
export type { RotationResult, VaultStatus } from './system/vault-admin.ts';
export type { UserWorkspace } from './system/workspaces.ts';
export { LIMITS } from './validation.ts';
export type { WorkspaceScope } from './workspace-scope.ts';
