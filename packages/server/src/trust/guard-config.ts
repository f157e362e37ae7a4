import type { GuardConfig } from '@parley/plugin-scam-guard';
import type { TrustPageContent } from '@parley/store';

/*
 * The scam-link guard's configuration, completed from the workspace's trust page: its official
 * domains are canonical, its migration and official links are the links the guard points
 * people to, its brand tokens are what lookalikes are measured against, its blocklist is
 * refused. What the agent's own plugin config lists is kept; the trust page only adds.
 */

/** The guard ignores brand tokens shorter than this (they match too much). */
const MIN_BRAND_TOKEN = 3;

const unique = <T>(values: T[], key: (v: T) => string = String) => {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = key(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

export function guardConfigWithTrust(
  config: GuardConfig,
  trust: TrustPageContent | undefined,
): GuardConfig {
  if (!trust) return config;
  const links = [
    ...(trust.canonicalMigrationLink
      ? [{ label: 'migration', url: trust.canonicalMigrationLink }]
      : []),
    ...trust.canonicalLinks.map((url) => ({ label: 'official', url })),
  ];
  return {
    canonicalDomains: unique([...config.canonicalDomains, ...trust.officialDomains]),
    brandTokens: unique([
      ...config.brandTokens,
      ...trust.brandTokens.filter((t) => t.length >= MIN_BRAND_TOKEN),
    ]),
    blocklist: unique([...config.blocklist, ...trust.blocklist]),
    canonicalLinks: unique([...config.canonicalLinks, ...links], (l) => l.url),
  };
}
