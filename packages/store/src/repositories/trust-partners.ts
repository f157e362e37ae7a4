import { api } from '@parley/protocol';
import { and, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { trustPartners, trustStatusUpdates } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { limitSchema, parse, parseId, text } from '../validation.ts';
import { actorLabel, notFound } from './common.ts';
import type { TrustPartner, TrustStatusUpdate } from './trust.ts';

/* The trust page's exchange/partner matrix and its dated status updates, each change audited. */

const { PARTNER_STATUSES } = api;

const PartnerInputSchema = z
  .object({
    name: text(200, 1),
    kind: text(50, 1).default('exchange'),
    migrationStatus: z.enum(PARTNER_STATUSES),
    /** YYYY-MM-DD. */
    lastVerifiedOn: z.iso.date().nullable().default(null),
    note: text(1_000).nullable().default(null),
  })
  .strict();

export function trustPartnersAndStatus(ctx: ScopeContext) {
  return {
    async listPartners(): Promise<TrustPartner[]> {
      return ctx.tx
        .select()
        .from(trustPartners)
        .where(eq(trustPartners.workspaceId, ctx.workspaceId))
        .orderBy(sql`lower(${trustPartners.name})`);
    },

    /** Adds a partner or replaces the row with the same name (case-insensitive). */
    async upsertPartner(input: z.input<typeof PartnerInputSchema>): Promise<TrustPartner> {
      const v = parse(PartnerInputSchema, input, 'partner');
      const sameName = and(
        eq(trustPartners.workspaceId, ctx.workspaceId),
        sql`lower(${trustPartners.name}) = lower(${v.name})`,
      );
      const [existing] = await ctx.tx.select().from(trustPartners).where(sameName).for('update');
      const [row] = existing
        ? await ctx.tx
            .update(trustPartners)
            .set({ ...v, updatedAt: sql`now()` })
            .where(eq(trustPartners.id, existing.id))
            .returning()
        : await ctx.tx
            .insert(trustPartners)
            .values({ workspaceId: ctx.workspaceId, ...v })
            .returning();
      await ctx.audit({
        action: 'trust.partner_update',
        targetType: 'trust_partner',
        targetId: row!.id,
        metadata: {
          name: v.name,
          migrationStatus: v.migrationStatus,
          lastVerifiedOn: v.lastVerifiedOn,
        },
      });
      return row!;
    },

    async deletePartner(partnerId: string): Promise<void> {
      const id = parseId(partnerId, 'partner id');
      const rows = await ctx.tx
        .delete(trustPartners)
        .where(and(eq(trustPartners.workspaceId, ctx.workspaceId), eq(trustPartners.id, id)))
        .returning({ name: trustPartners.name });
      if (rows.length === 0) throw notFound('partner', id);
      await ctx.audit({
        action: 'trust.partner_delete',
        targetType: 'trust_partner',
        targetId: id,
        metadata: { name: rows[0]!.name },
      });
    },

    /** A dated status update; `postedAt` defaults to now (the server passes its clock). */
    async postStatus(input: { body: string; postedAt?: Date }): Promise<TrustStatusUpdate> {
      const v = parse(
        z.object({ body: text(10_000, 1), postedAt: z.date().optional() }).strict(),
        input,
        'status update',
      );
      const [row] = await ctx.tx
        .insert(trustStatusUpdates)
        .values({
          workspaceId: ctx.workspaceId,
          body: v.body,
          postedBy: actorLabel(ctx),
          ...(v.postedAt ? { postedAt: v.postedAt } : {}),
        })
        .returning();
      await ctx.audit({
        action: 'trust.status_post',
        targetType: 'trust_status_update',
        targetId: row!.id,
        metadata: { postedAt: row!.postedAt.toISOString(), length: v.body.length },
      });
      return row!;
    },

    /** Newest first. */
    async listStatus(options: { limit?: number } = {}): Promise<TrustStatusUpdate[]> {
      const limit = parse(limitSchema.default(20), options.limit, 'limit');
      return ctx.tx
        .select()
        .from(trustStatusUpdates)
        .where(eq(trustStatusUpdates.workspaceId, ctx.workspaceId))
        .orderBy(desc(trustStatusUpdates.postedAt), desc(trustStatusUpdates.id))
        .limit(limit);
    },
  };
}
