import { z } from 'zod';

/*
 * The trust page (docs/trust.md) as the HTTP API shows it: the page and its versions, the
 * partner matrix, the weekly status updates, the public document and the trust metrics. The
 * content a PUT sends is validated by the server (the store's rules, shared-platform domains
 * refused, unknown fields named with a suggestion); what comes back is described here.
 */

export const PARTNER_STATUSES = [
  'not_started',
  'in_progress',
  'completed',
  'not_supported',
] as const;
export type PartnerStatus = (typeof PARTNER_STATUSES)[number];

/** What each content field means (the OpenAPI descriptions; docs/trust.md uses the same names). */
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
} as const;

/** The content as the API returns it, every field present and documented. */
export const TrustContentSchema = z
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
export type TrustContent = z.infer<typeof TrustContentSchema>;

export const TrustPageSchema = z.object({
  slug: z.string().nullable(),
  published: z.boolean(),
  publishedAt: z.string().nullable(),
  version: z.number().int(),
  updatedAt: z.string().nullable(),
  content: TrustContentSchema,
});
export type TrustPage = z.infer<typeof TrustPageSchema>;

export const TrustPartnerSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  migrationStatus: z.enum(PARTNER_STATUSES),
  lastVerifiedOn: z.string().nullable(),
  note: z.string().nullable(),
  updatedAt: z.string(),
});
export type TrustPartner = z.infer<typeof TrustPartnerSchema>;

export const TrustStatusSchema = z.object({
  id: z.string(),
  postedAt: z.string(),
  body: z.string(),
  postedBy: z.string(),
});
export type TrustStatus = z.infer<typeof TrustStatusSchema>;

/** GET …/trust: the page as its editors see it. */
export const TrustDraftSchema = z.object({
  page: TrustPageSchema,
  partners: z.array(TrustPartnerSchema),
  statusUpdates: z.array(TrustStatusSchema),
  statusOverdue: z.boolean(),
});

export const TrustVersionSchema = z.object({
  version: z.number().int(),
  content: TrustContentSchema,
  editedBy: z.string(),
  note: z.string().nullable(),
  createdAt: z.string(),
});

export const PublishTrustPageRequestSchema = z.object({
  published: z.boolean(),
  slug: z.string().max(63).optional(),
});
export const PostTrustStatusRequestSchema = z.object({ body: z.string().min(1).max(10_000) });
export const UpsertTrustPartnerRequestSchema = z.object({
  name: z.string().min(1).max(200),
  kind: z.string().min(1).max(50).optional(),
  migrationStatus: z.enum(PARTNER_STATUSES),
  lastVerifiedOn: z.iso.date().nullable().optional(),
  note: z.string().max(1_000).nullable().optional(),
});

/** The published page as JSON (`/trust/<slug>.json`): what the HTML page shows. */
export const PublicTrustDocumentSchema = z.object({
  slug: z.string(),
  title: z.string(),
  version: z.number().int(),
  /** The newest of: the page's current version, a partner row, a status update. */
  lastUpdated: z.string().nullable(),
  officialDomains: z.array(z.string()),
  handles: z.array(z.object({ platform: z.string(), handle: z.string() })),
  canonicalMigrationLink: z.string().nullable(),
  canonicalLinks: z.array(z.string()),
  statements: z.array(z.string()),
  partners: z.array(
    z.object({
      name: z.string(),
      kind: z.string(),
      migrationStatus: z.string(),
      lastVerifiedOn: z.string().nullable(),
      note: z.string().nullable(),
    }),
  ),
  statusUpdates: z.array(z.object({ postedAt: z.string(), body: z.string() })),
  /** True when the newest weekly status update is more than 7 days old, or there is none. */
  statusOverdue: z.boolean(),
  lastStatusAt: z.string().nullable(),
});
export type PublicTrustDocument = z.infer<typeof PublicTrustDocumentSchema>;

/** Backlog age bands, by age since creation. */
export const AGE_BAND_NAMES = ['0-1d', '1-3d', '3-7d', '>7d'] as const;
export type AgeBand = (typeof AGE_BAND_NAMES)[number];

const count = z.number().int();
const seconds = z.number().nullable();

export const SupportMetricsSchema = z.object({
  since: z.string(),
  until: z.string(),
  ticketsCreated: count,
  firstResponse: z.object({
    /** Tickets with a first response (fulfilled) in the window. */
    count,
    p50Seconds: seconds,
    p90Seconds: seconds,
    /** fulfilled without breach ÷ (fulfilled + breached); null when nothing is settled. */
    withinSlaRatio: z.number().nullable(),
    breached: count,
  }),
  /** Breach events per ISO week (its Monday, UTC) and channel. */
  breachesByWeek: z.array(z.object({ week: z.string(), channel: z.string(), count })),
  backlog: z.object({
    open: count,
    byAgeBand: z.object({ '0-1d': count, '1-3d': count, '3-7d': count, '>7d': count }),
    oldest: z
      .object({ ticketId: z.string(), ageSeconds: z.number(), subject: z.string() })
      .nullable(),
    p90AgeSeconds: seconds,
  }),
  reopen: z.object({ solved: count, reopened: count, ratio: z.number().nullable() }),
});
export type SupportMetrics = z.infer<typeof SupportMetricsSchema>;

export const ScamVerdictDaySchema = z.object({ day: z.string(), warned: count, blocked: count });
export type ScamVerdictDay = z.infer<typeof ScamVerdictDaySchema>;

export const RepeatedQuestionSchema = z.object({
  /** The normalised words the group shares (PostgreSQL English full-text lexemes). */
  terms: z.array(z.string()),
  count,
  tickets: count,
  /** The most recent message of the group, shortened. */
  example: z.string(),
});
export type RepeatedQuestion = z.infer<typeof RepeatedQuestionSchema>;

/** GET …/trust/metrics. */
export const TrustMetricsSchema = z.object({
  support: SupportMetricsSchema,
  scamVerdictsPerDay: z.array(ScamVerdictDaySchema),
  repeatedQuestions: z.array(RepeatedQuestionSchema),
  /** True when a window held more tickets than the metrics read (they are then lower bounds). */
  truncated: z.boolean(),
});
export type TrustMetrics = z.infer<typeof TrustMetricsSchema>;
