import { isSharedPlatform, strictFields } from '@parley/plugin-scam-guard';
import { api } from '@parley/protocol';
import { TrustPageContentSchema } from '@parley/store';
import type { z } from 'zod';

/*
 * The trust page's fields as a PUT takes them (OpenAPI at /v1/openapi.json): the store's rules
 * (TrustPageContentSchema) with protocol's description each, and unknown keys refused one by
 * one at their path with the closest field suggested ("unknown field `officialLinks`: did you
 * mean `canonicalLinks`?"). The shape answered is protocol's api.TrustContentSchema.
 * docs/trust.md uses the same names.
 */

/** The descriptions are protocol's; the store's content schema must have exactly these fields. */
const TRUST_FIELDS = api.TRUST_FIELDS satisfies Record<
  keyof z.infer<typeof TrustPageContentSchema>,
  string
>;

const shape = TrustPageContentSchema.shape;

/** An official domain that is a shared platform would allowlist everyone's pages on it. */
const officialDomains = shape.officialDomains.superRefine((domains, ctx) => {
  domains.forEach((domain, index) => {
    if (isSharedPlatform(domain))
      ctx.addIssue({
        code: 'custom',
        path: [index],
        message: `${domain} is a shared platform: list your own page on it (https://${domain}/<account>) under canonicalLinks instead`,
      });
  });
});

/** The content a PUT sends: every field optional (defaults as the store's), none unknown. */
export const TrustContentInput = strictFields({
  title: shape.title.describe(TRUST_FIELDS.title),
  officialDomains: officialDomains.describe(TRUST_FIELDS.officialDomains),
  handles: shape.handles.describe(TRUST_FIELDS.handles),
  canonicalMigrationLink: shape.canonicalMigrationLink.describe(
    TRUST_FIELDS.canonicalMigrationLink,
  ),
  canonicalLinks: shape.canonicalLinks.describe(TRUST_FIELDS.canonicalLinks),
  statements: shape.statements.describe(TRUST_FIELDS.statements),
  brandTokens: shape.brandTokens.describe(TRUST_FIELDS.brandTokens),
  blocklist: shape.blocklist.describe(TRUST_FIELDS.blocklist),
}).describe('The whole page content; a PUT replaces it and writes a new version.');
