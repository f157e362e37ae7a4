import type { ContextProvider } from '@parley/core';
import type { TrustPageContent } from '@parley/store';

/*
 * Server-provided context: every run of a workspace's agents gets the workspace's trust page
 * (its canonical migration link, official domains and handles, the "we never …" statements)
 * in the system prompt, whatever plugins the agent uses (read with the run's other start-up
 * reads, in the same transaction; the plugin host puts these providers in front of the
 * plugins' own), so an answer about migration carries
 * the one canonical link instead of whatever a user pasted.
 */

/** The text the model receives; undefined when the page says nothing yet. */
export function trustContextText(content: TrustPageContent): string | undefined {
  const lines: string[] = [];
  if (content.canonicalMigrationLink) {
    lines.push(
      `The one canonical migration link is ${content.canonicalMigrationLink}. Whenever you answer anything about migration, include this exact link, and never suggest any other migration link.`,
    );
  }
  if (content.officialDomains.length)
    lines.push(`Official domains: ${content.officialDomains.join(', ')}.`);
  if (content.handles.length)
    lines.push(
      `Official accounts: ${content.handles.map((h) => `${h.platform} ${h.handle}`).join(', ')}.`,
    );
  if (content.canonicalLinks.length)
    lines.push(`Other official links: ${content.canonicalLinks.join(', ')}.`);
  if (content.statements.length)
    lines.push(`Safety statements to repeat when relevant: ${content.statements.join(' ')}`);
  if (lines.length === 0) return undefined;
  return [
    'Trust and safety facts for this workspace (authoritative, from its trust page):',
    ...lines.map((l) => `- ${l}`),
    '- Links not on these official domains are not ours: say so if a user asks about one.',
  ].join('\n');
}

/** The server's context providers for a run, from the trust page read when it started. */
export function trustContextProviders(content: TrustPageContent): ContextProvider[] {
  const text = trustContextText(content);
  return text ? [{ name: 'parley.trust', provide: () => text }] : [];
}
