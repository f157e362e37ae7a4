import { parse } from 'tldts';
import { z } from 'zod';
import { strictFields } from './fields.ts';
import { isSharedPlatform } from './platforms.ts';

/** One official link the guard points people to instead of a flagged one. */
export interface CanonicalLink {
  /** What it is for (`migration`, `docs`): chosen when the message mentions it. */
  label: string;
  url: string;
}

/**
 * What the guard knows about one workspace. The trust page is the intended source; until then
 * an agent's `plugins[].config` gives it. Every field is optional in the input and defaults to
 * empty: a guard with no brand tokens still catches shorteners, link-text tricks and blocklists.
 */
export interface GuardConfig {
  /** Registrable domains that are official (`parley.dev`): their subdomains are allowed too. */
  canonicalDomains: string[];
  /** Names a lookalike would imitate (`parley`, `metamask`), compared by skeleton and distance. */
  brandTokens: string[];
  /** The workspace's own known-bad domains (registrable domains or exact hosts). */
  blocklist: string[];
  /** The official links; their domains are canonical as well. */
  canonicalLinks: CanonicalLink[];
}

const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .min(3)
  .max(253)
  .regex(/^[^\s/@:]+\.[^\s/@:]+$/, 'must be a domain name such as example.com');

/** An official domain: never a platform many people publish on (its pages are not all yours). */
const officialDomain = domainName.refine(
  (domain) => !isSharedPlatform(parse(domain, { allowPrivateDomains: true }).domain ?? domain),
  {
    error: (issue) =>
      `${String(issue.input)} is a shared platform: list your own page on it (https://${String(issue.input)}/<account>) under canonicalLinks instead`,
  },
);

const linkSchema = z.union([
  z.url({ protocol: /^https?$/ }).transform((url) => ({ label: 'official', url })),
  strictFields({
    label: z.string().trim().min(1).max(60),
    url: z.url({ protocol: /^https?$/ }),
  }),
]);

export const GuardConfigSchema = strictFields({
  canonicalDomains: z.array(officialDomain).max(200).default([]),
  brandTokens: z
    .array(
      z
        .string()
        .trim()
        .min(3, 'brand tokens shorter than 3 letters match too much')
        .max(63)
        .regex(/^[\p{L}\p{N}-]+$/u, 'a brand token is one word (letters, digits, hyphens)'),
    )
    .max(50)
    .default([]),
  blocklist: z.array(domainName).max(10_000).default([]),
  canonicalLinks: z.array(linkSchema).max(20).default([]),
});

export type GuardConfigInput = z.input<typeof GuardConfigSchema>;

/** Validates a configuration (throws a ZodError naming the field); fills in defaults. */
export function parseGuardConfig(input: unknown): GuardConfig {
  return GuardConfigSchema.parse(input ?? {});
}
