import type { api } from '@parley/protocol';
import type {
  Agent,
  AgentVersion,
  ApiTokenInfo,
  AuditEvent,
  Conversation,
  Invitation,
  InvitationStatus,
  Member,
  Message,
  Run,
  SecretInfo,
  SecuritySignal,
  User,
  UserWorkspace,
  Workspace,
} from '@parley/store';

/*
 * Store rows → API shapes. Explicit field by field: a new column never reaches a client by
 * accident (a password hash, a token hash, a ciphertext).
 */

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export const userDto = (u: User): api.User => ({
  id: u.id,
  email: u.email,
  displayName: u.displayName ?? null,
  createdAt: iso(u.createdAt),
});

export const workspaceDto = (w: Workspace, role?: api.Role): api.Workspace => ({
  id: w.id,
  name: w.name,
  createdAt: iso(w.createdAt),
  ...(role ? { role } : {}),
});

export const userWorkspaceDto = (w: UserWorkspace): api.Workspace => ({
  id: w.workspaceId,
  name: w.name,
  createdAt: iso(w.createdAt),
  role: w.role,
});

export const memberDto = (m: Member) => ({
  userId: m.userId,
  email: m.email,
  displayName: m.displayName ?? null,
  role: m.role as api.Role,
  joinedAt: iso(m.createdAt),
});

export function invitationDto(i: Invitation, now = Date.now()) {
  const status: InvitationStatus = i.revokedAt
    ? 'revoked'
    : i.acceptedAt
      ? 'accepted'
      : i.expiresAt.getTime() <= now
        ? 'expired'
        : 'pending';
  return {
    id: i.id,
    email: i.email,
    role: i.role as api.Role,
    createdAt: iso(i.createdAt),
    expiresAt: iso(i.expiresAt),
    status,
  };
}

export const tokenDto = (t: ApiTokenInfo): api.ApiToken => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  last4: t.last4,
  scopes: t.scopes,
  createdBy: t.createdBy ?? null,
  parentId: t.parentId ?? null,
  createdAt: iso(t.createdAt),
  expiresAt: iso(t.expiresAt),
  lastUsedAt: isoOrNull(t.lastUsedAt),
  lastUsedIp: t.lastUsedIp ?? null,
  revokedAt: isoOrNull(t.revokedAt),
});

export const secretDto = (s: SecretInfo) => ({
  name: s.name,
  last4: s.last4 ?? null,
  createdAt: iso(s.createdAt),
  updatedAt: iso(s.updatedAt),
  lastRevealedAt: isoOrNull(s.lastRevealedAt),
});

export const agentDto = (a: Agent): api.Agent => ({
  id: a.id,
  name: a.name,
  description: a.description,
  currentVersion: a.currentVersion ?? null,
  draft: a.draft ?? null,
  draftUpdatedAt: isoOrNull(a.draftUpdatedAt),
  createdAt: iso(a.createdAt),
  updatedAt: iso(a.updatedAt),
  archivedAt: isoOrNull(a.archivedAt),
});

export const versionDto = (v: AgentVersion): api.AgentVersion => ({
  id: v.id,
  agentId: v.agentId,
  version: v.version,
  definition: v.definition,
  definitionHash: v.definitionHash,
  note: v.note ?? null,
  createdBy: v.createdBy ?? null,
  createdAt: iso(v.createdAt),
});

export const conversationDto = (c: Conversation) => ({
  id: c.id,
  agentId: c.agentId,
  title: c.title ?? null,
  userId: c.userId ?? null,
  createdAt: iso(c.createdAt),
  updatedAt: iso(c.updatedAt),
});

export const messageDto = (m: Message) => ({
  id: m.id,
  conversationId: m.conversationId,
  position: m.position,
  role: m.role as 'system' | 'user' | 'assistant' | 'tool',
  content: m.content,
  runId: m.runId ?? null,
  partial: (m.metadata as { status?: unknown } | null)?.status === 'partial',
  createdAt: iso(m.createdAt),
});

export const runDto = (r: Run): api.Run => ({
  id: r.id,
  agentId: r.agentId,
  agentVersionId: r.agentVersionId ?? null,
  conversationId: r.conversationId ?? null,
  parentRunId: r.parentRunId ?? null,
  status: r.status as api.Run['status'],
  provider: r.provider ?? null,
  model: r.model ?? null,
  finishReason: r.finishReason ?? null,
  usage: {
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cachedInputTokens: r.cachedInputTokens,
    reasoningTokens: r.reasoningTokens ?? null,
    costUsd: r.costUsd ?? null,
  },
  ttftMs: r.ttftMs ?? null,
  durationMs: r.durationMs ?? null,
  error: (r.error as api.Run['error']) ?? null,
  lastSeq: r.lastSeq,
  traceId: r.traceId ?? null,
  createdAt: iso(r.createdAt),
  startedAt: isoOrNull(r.startedAt),
  finishedAt: isoOrNull(r.finishedAt),
});

export const auditDto = (a: AuditEvent) => ({
  id: a.id,
  at: iso(a.at),
  action: a.action,
  outcome: a.outcome,
  actorType: a.actorType ?? null,
  actorId: a.actorId ?? null,
  targetType: a.targetType ?? null,
  targetId: a.targetId ?? null,
  ip: a.ip ?? null,
  runId: a.runId ?? null,
  metadata: a.metadata,
});

export const signalDto = (s: SecuritySignal) => ({
  id: s.id,
  at: iso(s.at),
  kind: s.kind,
  severity: s.severity as 'info' | 'warning' | 'critical',
  ip: s.ip ?? null,
  actorType: s.actorType ?? null,
  actorId: s.actorId ?? null,
  details: s.details,
  acknowledgedAt: isoOrNull(s.acknowledgedAt),
});
