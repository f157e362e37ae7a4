import { definePlugin, defineTool, type PluginDefinition } from '@parley/core';
import { z } from 'zod';
import { createAssessor } from './assess.ts';
import type { GuardConfig } from './config.ts';
import { createScamLinkGuard } from './guard.ts';

export {
  type Assessment,
  type Assessor,
  assessMessage,
  canonicalLinkFor,
  createAssessor,
  type LinkAssessment,
  type MessageExtras,
} from './assess.ts';
export {
  type CanonicalLink,
  type GuardConfig,
  type GuardConfigInput,
  GuardConfigSchema,
  parseGuardConfig,
} from './config.ts';
export { isMixedScript, skeleton } from './confusables.ts';
export { editDistance } from './distance.ts';
export {
  type EntityLink,
  type ExtractedLink,
  extractLinks,
  LIMITS,
  type LinkSource,
} from './extract.ts';
export { closestField, strictFields, unknownFieldMessage } from './fields.ts';
export { createScamLinkGuard, type ScamLinkGuardOptions } from './guard.ts';
export { BUNDLED_LIST_URL, type DomainList, parseDomainList } from './known-bad.ts';
export type { LureCategory } from './lures.ts';
export { isSharedPlatform } from './platforms.ts';
export { REASONS, type ReasonCode, type Verdict } from './reasons.ts';
export { guardConfigWithTrust } from './trust.ts';

export const SCAM_GUARD_PLUGIN = '@parley/plugin-scam-guard';

/**
 * The scam-link guard as a plugin (tier core: no network, no secrets). Its inbound guard
 * (`guards.inbound`, createScamLinkGuard) stands in front of the model in every run of an
 * agent that lists it; its tool lets an agent check a text on demand. Both use this
 * configuration; the guard completes it with the host's workspace trust facts.
 */
export function createScamGuardPlugin(config: GuardConfig): PluginDefinition {
  const assess = createAssessor(config);
  const checkLinks = defineTool({
    name: 'check_links',
    description:
      'Checks every link in a text against the official domains, blocklists, lookalike domains and scam wording. Returns allow, warn or block with reasons for the text and each link; never opens a link.',
    input: z.object({ text: z.string().min(1).max(100_000) }),
    run: ({ text }) => {
      const { verdict, reasons, links, lures, work } = assess(text);
      return {
        verdict,
        reasons,
        links: links.map(({ span: _span, ...link }) => link),
        lures,
        work,
        officialLinks: config.canonicalLinks,
      };
    },
  });
  return definePlugin({
    name: SCAM_GUARD_PLUGIN,
    version: '0.1.0',
    contract: 1,
    core: '^0.1.0',
    description:
      'The scam-link guard: official links allowed, lookalikes and known-bad links flagged.',
    permissions: { network: [], secrets: [] },
    tools: [checkLinks],
    guards: { inbound: createScamLinkGuard(config) },
  });
}
