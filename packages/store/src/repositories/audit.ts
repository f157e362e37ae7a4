import { and, desc, eq, gte, isNull, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { auditEvents, securitySignals } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import {
  ipSchema,
  LIMITS,
  limitSchema,
  metadataSchema,
  parse,
  parseId,
  text,
  uuidSchema,
} from '../validation.ts';
import { afterRow, notFound } from './common.ts';

export type AuditEvent = typeof auditEvents.$inferSelect;
export type SecuritySignal = typeof securitySignals.$inferSelect;

export const SIGNAL_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type SignalSeverity = (typeof SIGNAL_SEVERITIES)[number];

const ActionSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'must look like `resource.verb`');

const AuditInputSchema = z.object({
  action: ActionSchema,
  targetType: text(100).optional(),
  targetId: text(LIMITS.name).optional(),
  outcome: z.enum(['ok', 'denied', 'error']).optional(),
  runId: uuidSchema.optional(),
  metadata: metadataSchema.optional(),
});

export const SignalInputSchema = z.object({
  /** `auth.failure_burst`, `token.new_address`, `workspace.cross_probe`, `secret.decrypt_spike`, … */
  kind: ActionSchema,
  severity: z.enum(SIGNAL_SEVERITIES),
  ip: ipSchema.optional(),
  actor: z
    .object({
      type: z.enum(['user', 'token', 'agent', 'plugin', 'system']),
      id: text(LIMITS.name).optional(),
    })
    .optional(),
  details: metadataSchema.optional(),
});
export type SignalInput = z.input<typeof SignalInputSchema>;

export function auditRepository(ctx: ScopeContext) {
  return {
    /**
     * Records an action the store cannot see itself (sign-in to the workspace, a denied
     * request, a cancelled run). The store already audits what it changes: secrets, tokens,
     * members, invitations, deploys and deletions. Actor and request facts come from the scope.
     */
    async record(entry: z.input<typeof AuditInputSchema>): Promise<void> {
      const value = parse(AuditInputSchema, entry, 'audit entry');
      await ctx.recordAudit({
        action: value.action,
        ...(value.targetType ? { targetType: value.targetType } : {}),
        ...(value.targetId ? { targetId: value.targetId } : {}),
        ...(value.outcome ? { outcome: value.outcome } : {}),
        ...(value.runId ? { runId: value.runId } : {}),
        ...(value.metadata ? { metadata: value.metadata as Record<string, unknown> } : {}),
      });
    },

    /** Newest first; page with `beforeId` (the last event's id) or `before` (a time). */
    async list(
      options: { limit?: number; before?: Date; beforeId?: string; action?: string } = {},
    ): Promise<AuditEvent[]> {
      const value = parse(
        z.object({
          limit: limitSchema.default(100),
          before: z.date().optional(),
          beforeId: uuidSchema.optional(),
          action: ActionSchema.optional(),
        }),
        options,
        'list options',
      );
      return ctx.tx
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.workspaceId, ctx.workspaceId),
            value.before ? lt(auditEvents.at, value.before) : undefined,
            value.beforeId
              ? afterRow(
                  auditEvents,
                  {
                    time: auditEvents.at,
                    id: auditEvents.id,
                    workspaceId: auditEvents.workspaceId,
                  },
                  ctx.workspaceId,
                  value.beforeId,
                )
              : undefined,
            value.action ? eq(auditEvents.action, value.action) : undefined,
          ),
        )
        .orderBy(desc(auditEvents.at), desc(auditEvents.id))
        .limit(value.limit);
    },
  };
}

export function securitySignalsRepository(ctx: ScopeContext) {
  return {
    async record(input: SignalInput): Promise<SecuritySignal> {
      const value = parse(SignalInputSchema, input, 'security signal');
      const [row] = await ctx.tx
        .insert(securitySignals)
        .values({
          workspaceId: ctx.workspaceId,
          kind: value.kind,
          severity: value.severity,
          ip: value.ip ?? null,
          actorType: value.actor?.type ?? null,
          actorId: value.actor?.id ?? null,
          details: (value.details ?? {}) as Record<string, unknown>,
        })
        .returning();
      return row!;
    },

    /** Newest first. */
    async list(
      options: { since?: Date; kind?: string; unacknowledgedOnly?: boolean; limit?: number } = {},
    ): Promise<SecuritySignal[]> {
      const value = parse(
        z.object({
          since: z.date().optional(),
          kind: ActionSchema.optional(),
          unacknowledgedOnly: z.boolean().default(false),
          limit: limitSchema.default(100),
        }),
        options,
        'list options',
      );
      return ctx.tx
        .select()
        .from(securitySignals)
        .where(
          and(
            eq(securitySignals.workspaceId, ctx.workspaceId),
            value.since ? gte(securitySignals.at, value.since) : undefined,
            value.kind ? eq(securitySignals.kind, value.kind) : undefined,
            value.unacknowledgedOnly ? isNull(securitySignals.acknowledgedAt) : undefined,
          ),
        )
        .orderBy(desc(securitySignals.at), desc(securitySignals.id))
        .limit(value.limit);
    },

    async acknowledge(signalId: string): Promise<void> {
      const id = parseId(signalId, 'signal id');
      const rows = await ctx.tx
        .update(securitySignals)
        .set({ acknowledgedAt: sql`now()` })
        .where(and(eq(securitySignals.id, id), isNull(securitySignals.acknowledgedAt)))
        .returning({ id: securitySignals.id });
      if (rows.length === 0) throw notFound('unacknowledged signal', id);
      await ctx.audit({
        action: 'signal.acknowledge',
        targetType: 'security_signal',
        targetId: id,
      });
    },
  };
}
