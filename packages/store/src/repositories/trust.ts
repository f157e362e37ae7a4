import { api } from '@parley/protocol';
import { and, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  type TrustPageContent,
  trustPages,
  trustPageVersions,
  type trustPartners,
  type trustStatusUpdates,
} from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { limitSchema, parse, text } from '../validation.ts';
import { actorLabel } from './common.ts';
import { refuseRetiredTrustSlug, retireTrustSlug } from './retired-slugs.ts';
import { trustPartnersAndStatus } from './trust-partners.ts';

/** The API's (@parley/protocol). */
const { PARTNER_STATUSES } = api;

export type TrustPartner = typeof trustPartners.$inferSelect;
export type TrustStatusUpdate = typeof trustStatusUpdates.$inferSelect;
export type TrustPageVersion = typeof trustPageVersions.$inferSelect;
export type PartnerStatus = (typeof PARTNER_STATUSES)[number];
export type { TrustPageContent };

/** The page as the owner sees it: publication state plus the current version's content. */
export interface TrustPage {
  slug: string | null;
  publishedAt: Date | null;
  /** 0 before the first edit (the content is then empty). */
  version: number;
  content: TrustPageContent;
  /** When the current version was written (the page's "last updated"). */
  updatedAt: Date | null;
}

export const EMPTY_TRUST_CONTENT: TrustPageContent = {
  title: '',
  officialDomains: [],
  handles: [],
  canonicalMigrationLink: null,
  canonicalLinks: [],
  statements: [],
  brandTokens: [],
  blocklist: [],
};

/** A hostname (`example.org`, `xn--bcher-kva.example`), lower-case, no scheme or path. */
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/,
    'must be a domain name such as example.org (no scheme, no path)',
  );
/** An absolute https URL (the canonical links are what users are told to trust). */
const httpsUrl = z
  .string()
  .trim()
  .max(2_000)
  .refine((value) => {
    try {
      const u = new URL(value);
      return u.protocol === 'https:' && u.username === '' && u.password === '';
    } catch {
      return false;
    }
  }, 'must be an absolute https:// URL without credentials');

export const TrustPageContentSchema = z
  .object({
    title: text(200).default(''),
    officialDomains: z.array(domain).max(100).default([]),
    handles: z
      .array(z.object({ platform: text(50, 1), handle: text(200, 1) }).strict())
      .max(100)
      .default([]),
    canonicalMigrationLink: httpsUrl.nullable().default(null),
    canonicalLinks: z.array(httpsUrl).max(50).default([]),
    statements: z.array(text(1_000, 1)).max(50).default([]),
    brandTokens: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .min(2)
          .max(63)
          .regex(/^[\p{L}\p{N}-]+$/u, 'must be one word'),
      )
      .max(100)
      .default([]),
    blocklist: z.array(domain).max(10_000).default([]),
  })
  .strict();

export const SlugSchema = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be 1–63 lower-case letters, digits or dashes, not starting or ending with a dash',
  );

export function trustRepository(ctx: ScopeContext) {
  async function pageRow() {
    const [row] = await ctx.tx
      .select()
      .from(trustPages)
      .where(eq(trustPages.workspaceId, ctx.workspaceId));
    return row;
  }

  /** The page row, created (unpublished, no slug, version 0) on first use. */
  async function ensurePageRow() {
    const existing = await pageRow();
    if (existing) return existing;
    const [row] = await ctx.tx
      .insert(trustPages)
      .values({ workspaceId: ctx.workspaceId })
      .onConflictDoNothing()
      .returning();
    return row ?? (await pageRow())!;
  }

  async function current(): Promise<TrustPage> {
    const row = await pageRow();
    if (!row || row.currentVersion === 0) {
      return {
        slug: row?.slug ?? null,
        publishedAt: row?.publishedAt ?? null,
        version: 0,
        content: { ...EMPTY_TRUST_CONTENT },
        updatedAt: null,
      };
    }
    const [version] = await ctx.tx
      .select()
      .from(trustPageVersions)
      .where(
        and(
          eq(trustPageVersions.workspaceId, ctx.workspaceId),
          eq(trustPageVersions.version, row.currentVersion),
        ),
      );
    return {
      slug: row.slug,
      publishedAt: row.publishedAt,
      version: row.currentVersion,
      content: { ...EMPTY_TRUST_CONTENT, ...version!.content },
      updatedAt: version!.createdAt,
    };
  }

  return {
    /** The current page (version 0 with empty content before the first edit). */
    getPage: current,

    /** Writes the content as a new version (every edit is one) and audits it. */
    async updatePage(input: { content: unknown; note?: string }): Promise<TrustPage> {
      const content = parse(TrustPageContentSchema, input.content, 'trust page');
      const note = parse(text(1_000).optional(), input.note, 'note');
      const row = await ensurePageRow();
      // Serialise concurrent edits of one workspace's page: each gets its own number.
      await ctx.tx.execute(
        sql`select 1 from ${trustPages} where ${trustPages.id} = ${row.id} for update`,
      );
      const [{ next } = { next: 1 }] = await ctx.tx
        .select({ next: sql<number>`coalesce(max(${trustPageVersions.version}), 0)::int + 1` })
        .from(trustPageVersions)
        .where(eq(trustPageVersions.workspaceId, ctx.workspaceId));
      await ctx.tx.insert(trustPageVersions).values({
        workspaceId: ctx.workspaceId,
        version: next,
        content,
        editedBy: actorLabel(ctx),
        note: note ?? null,
      });
      await ctx.tx
        .update(trustPages)
        .set({ currentVersion: next, updatedAt: sql`now()` })
        .where(eq(trustPages.id, row.id));
      await ctx.audit({
        action: 'trust.page_update',
        targetType: 'trust_page',
        targetId: String(next),
        metadata: {
          version: next,
          canonicalMigrationLink: content.canonicalMigrationLink,
          officialDomains: content.officialDomains.length,
          blocklist: content.blocklist.length,
        },
      });
      return current();
    },

    /** Every version, newest first. */
    async listVersions(options: { limit?: number } = {}): Promise<TrustPageVersion[]> {
      const limit = parse(limitSchema.default(100), options.limit, 'limit');
      return ctx.tx
        .select()
        .from(trustPageVersions)
        .where(eq(trustPageVersions.workspaceId, ctx.workspaceId))
        .orderBy(desc(trustPageVersions.version))
        .limit(limit);
    },

    /**
     * Publishes the page at /trust/<slug> (a slug is needed the first time) or takes it down.
     * A slug another workspace uses is a conflict.
     */
    async setPublication(input: { published: boolean; slug?: string }): Promise<TrustPage> {
      const value = parse(
        z.object({ published: z.boolean(), slug: SlugSchema.optional() }).strict(),
        input,
        'publication',
      );
      const row = await ensurePageRow();
      const slug = value.slug ?? row.slug;
      if (value.published && !slug) {
        parse(SlugSchema, undefined, 'slug (needed to publish the page the first time)');
      }
      if (slug && slug !== row.slug) {
        await refuseRetiredTrustSlug(ctx.tx, slug);
        // A published page moving away leaves an address people were told to trust.
        if (row.slug && row.publishedAt) await retireTrustSlug(ctx.tx, row.slug);
      }
      await ctx.tx
        .update(trustPages)
        .set({
          slug: slug ?? null,
          publishedAt: value.published ? (row.publishedAt ?? sql`now()`) : null,
          updatedAt: sql`now()`,
        })
        .where(eq(trustPages.id, row.id));
      await ctx.audit({
        action: value.published ? 'trust.publish' : 'trust.unpublish',
        targetType: 'trust_page',
        ...(slug ? { targetId: slug } : {}),
        metadata: { slug: slug ?? null, previousSlug: row.slug },
      });
      return current();
    },

    ...trustPartnersAndStatus(ctx),
  };
}
