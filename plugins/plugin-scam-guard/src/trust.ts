import type { WorkspaceTrust } from '@parley/core';
import type { GuardConfig } from './config.ts';

/*
 * The guard's configuration, completed from the workspace's trust facts the host hands guards
 * (the server's trust page): its official domains are canonical, its official links are the
 * links the guard points people to, its brand tokens are what lookalikes are measured
 * against, its blocklist is refused. What the agent's own plugin config lists is kept; the
 * trust facts only add.
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
  trust: WorkspaceTrust | undefined,
): GuardConfig {
  if (!trust) return config;
  return {
    canonicalDomains: unique([...config.canonicalDomains, ...trust.officialDomains]),
    brandTokens: unique([
      ...config.brandTokens,
      ...trust.brandTokens.filter((t) => t.length >= MIN_BRAND_TOKEN),
    ]),
    blocklist: unique([...config.blocklist, ...trust.blocklist]),
    canonicalLinks: unique([...config.canonicalLinks, ...trust.officialLinks], (l) => l.url),
  };
}
