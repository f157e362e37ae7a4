import type { WorkspaceTrust } from '@parley/core';
import type { TrustPageContent } from '@parley/store';

/*
 * The trust page as the facts the plugin host hands guards: its official domains, its
 * migration link (labelled `migration`, first) and other official links, its brand tokens and
 * its blocklist. The scam-link guard completes its configuration with them.
 */
export function workspaceTrust(page: TrustPageContent): WorkspaceTrust {
  return {
    officialDomains: page.officialDomains,
    officialLinks: [
      ...(page.canonicalMigrationLink
        ? [{ label: 'migration', url: page.canonicalMigrationLink }]
        : []),
      ...page.canonicalLinks.map((url) => ({ label: 'official', url })),
    ],
    brandTokens: page.brandTokens,
    blocklist: page.blocklist,
  };
}
