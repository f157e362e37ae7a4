import { eq } from 'drizzle-orm';
import type { Tx } from '../db.ts';
import { StoreError } from '../errors.ts';
import { retiredTrustSlugs, trustPages } from '../schema/index.ts';

/*
 * A published trust page's slug is the address its users were told is canonical. Once its
 * workspace is deleted (or the page moves to another slug) the old address is retired for
 * good: handing it to someone else would hand them that trust.
 */

/** Retires a slug (again is fine). */
export async function retireTrustSlug(tx: Tx, slug: string): Promise<void> {
  await tx.insert(retiredTrustSlugs).values({ slug }).onConflictDoNothing();
}

/** Retires the slug of the workspace's page, if it has one (before the workspace goes). */
export async function retireWorkspaceTrustSlug(tx: Tx, workspaceId: string): Promise<void> {
  const [page] = await tx
    .select({ slug: trustPages.slug })
    .from(trustPages)
    .where(eq(trustPages.workspaceId, workspaceId));
  if (page?.slug) await retireTrustSlug(tx, page.slug);
}

/** Refuses a retired slug with `trust.slug_retired`. */
export async function refuseRetiredTrustSlug(tx: Tx, slug: string): Promise<void> {
  const [row] = await tx
    .select({ slug: retiredTrustSlugs.slug })
    .from(retiredTrustSlugs)
    .where(eq(retiredTrustSlugs.slug, slug));
  if (row) {
    throw new StoreError(
      'store.slug_retired',
      `The trust-page slug "${slug}" belonged to a page that is gone and is never issued again: choose another.`,
      { details: { slug } },
    );
  }
}
