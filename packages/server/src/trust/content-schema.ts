import { isSharedPlatform, strictFields } from '@parley/plugin-scam-guard';
import { TrustPageContentSchema } from '@parley/store';
import { z } from 'zod';

/*
 * The trust page's fields as the API documents them (OpenAPI at /v1/openapi.json): the store's
 * rules (TrustPageContentSchema) with a description each, and unknown keys refused one by one
 * at their path with the closest field suggested ("unknown field `officialLinks`: did you mean
 * `canonicalLinks`?"). docs/trust.md uses the same names.
 */

export const TRUST_FIELDS = {
  title: 'The page heading, such as the project name (up to 200 characters).',
  officialDomains:
    'Registrable domains the workspace owns (`example.org`, no scheme or path); their subdomains are official too. The scam-link guard allows them. Shared platforms (github.com, t.me, x.com, medium.com, docs.google.com…) are refused here: list your own page on them under `canonicalLinks`.',
  handles:
    'Official accounts, `{ "platform": "x", "handle": "@example" }`, shown on the page (up to 100).',
  canonicalMigrationLink:
    'The one migration link shared across every channel (https, or null for none). Agents answer migration questions with it; the guard offers it instead of a flagged link.',
  canonicalLinks:
    'Other official https links (docs, status page, your GitHub organisation, Discord invite, X account…). On a shared platform a link vouches for its own path only: `https://github.com/acme` covers `github.com/acme/…`, not `github.com/acme-airdrop`.',
  statements:
    'What the project never does ("We never DM first", "We never ask for your seed phrase"), one sentence each (up to 50).',
  brandTokens:
    'Names a lookalike would imitate (the project name, its ticker), one word each; the scam-link guard compares domains and handles against them.',
  blocklist:
    'Domains known to be scams (registrable domains or exact hosts); the scam-link guard blocks links to them.',
} as const satisfies Record<keyof z.infer<typeof TrustPageContentSchema>, string>;

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

/** The content as the API returns it, every field present and documented. */
export const TrustContentOutput = z
  .object({
    title: z.string().describe(TRUST_FIELDS.title),
    officialDomains: z.array(z.string()).describe(TRUST_FIELDS.officialDomains),
    handles: z
      .array(z.object({ platform: z.string(), handle: z.string() }))
      .describe(TRUST_FIELDS.handles),
    canonicalMigrationLink: z.string().nullable().describe(TRUST_FIELDS.canonicalMigrationLink),
    canonicalLinks: z.array(z.string()).describe(TRUST_FIELDS.canonicalLinks),
    statements: z.array(z.string()).describe(TRUST_FIELDS.statements),
    brandTokens: z.array(z.string()).describe(TRUST_FIELDS.brandTokens),
    blocklist: z.array(z.string()).describe(TRUST_FIELDS.blocklist),
  })
  .describe('The trust page content of one version.');
