import type { GuardSignal, InboundGuard, InboundGuardResult, WorkspaceTrust } from '@parley/core';
import { type Assessment, type Assessor, canonicalLinkFor, createAssessor } from './assess.ts';
import type { GuardConfig } from './config.ts';
import { REASONS } from './reasons.ts';
import { guardConfigWithTrust } from './trust.ts';

export interface ScamLinkGuardOptions {
  /** Sees every assessment (the server counts verdicts). */
  onAssessment?: (assessment: Assessment) => void;
}

/** Flagged links per signal: enough to act on, bounded for the signal store. */
const SIGNAL_LINKS = 20;

/**
 * The assessor for the host's trust facts (the agent's config completed by
 * the workspace's trust page), built once per trust facts object: a run passes the same one
 * to inspect and to every rewrite.
 */
function assessors(config: GuardConfig) {
  const plain = createAssessor(config);
  const byTrust = new WeakMap<WorkspaceTrust, Assessor>();
  return (trust: WorkspaceTrust | undefined): Assessor => {
    if (!trust) return plain;
    let assess = byTrust.get(trust);
    if (!assess) {
      assess = createAssessor(guardConfigWithTrust(config, trust));
      byTrust.set(trust, assess);
    }
    return assess;
  };
}

/**
 * The run loop's inbound guard: when the user's message carries a warned or blocked link, a
 * security signal is raised (`scam.link_warned`, `scam.link_blocked`), the model sees a
 * placeholder that names the official link instead of the flagged one, and the system prompt
 * tells it to answer with the official link. The host's trust facts, when it passes them,
 * complete the configuration; every verdict is reported to the host. Nothing is fetched.
 */
export function createScamLinkGuard(
  config: GuardConfig,
  options: ScamLinkGuardOptions = {},
): InboundGuard {
  const assessorFor = assessors(config);
  const replacementsFor = (text: string, assessment: Assessment, { config }: Assessor) => {
    const official = canonicalLinkFor(text, config.canonicalLinks);
    return assessment.links
      .filter((link) => link.verdict !== 'allow' && link.span)
      .map((link) => ({
        find: link.span,
        replace: `[link removed by the scam-link guard: ${REASONS[link.reasons.find((r) => REASONS[r].verdict === link.verdict)!].text}${official ? `; the official link is ${official.url}` : ''}]`,
      }));
  };
  return {
    name: 'scam-link-guard',
    rewrite: ({ text, trust }) => {
      const assess = assessorFor(trust);
      return replacementsFor(text, assess(text), assess);
    },
    inspect({ text, trust, report }): InboundGuardResult {
      const assess = assessorFor(trust);
      const assessment = assess(text);
      options.onAssessment?.(assessment);
      report?.(assessment.verdict);
      if (assessment.verdict === 'allow') return { replacements: [], signals: [] };
      const flagged = assessment.links.filter((link) => link.verdict !== 'allow');
      const replacements = replacementsFor(text, assessment, assess);
      const signal: GuardSignal = {
        kind: assessment.verdict === 'block' ? 'scam.link_blocked' : 'scam.link_warned',
        severity: assessment.verdict === 'block' ? 'warning' : 'info',
        details: {
          verdict: assessment.verdict,
          reasons: assessment.reasons,
          links: flagged.slice(0, SIGNAL_LINKS).map((link) => ({
            source: link.source,
            ...(link.domain ? { domain: link.domain } : {}),
            ...(link.host ? { host: link.host.slice(0, 253) } : {}),
            verdict: link.verdict,
            reasons: link.reasons,
          })),
          linksFound: assessment.work.linksFound,
        },
      };
      return {
        replacements,
        instruction: instructionFor(assessment, assess.config),
        signals: [signal],
      };
    },
  };
}

function instructionFor(assessment: Assessment, config: GuardConfig): string {
  const lines = [
    `Security notice from the scam-link guard: the user's message was rated "${assessment.verdict}" (${assessment.reasons.join(', ')}).`,
    'Links it flagged were replaced by "[link removed by the scam-link guard …]". Never repeat, rebuild or recommend a flagged link, never ask anyone to connect or validate a wallet or to share a seed phrase, and tell the user plainly that the link is not official.',
  ];
  if (config.canonicalLinks.length > 0)
    lines.push(
      `Give the official link instead:\n${config.canonicalLinks.map((link) => `- ${link.label}: ${link.url}`).join('\n')}`,
    );
  if (config.canonicalDomains.length > 0)
    lines.push(`Official domains: ${config.canonicalDomains.join(', ')}.`);
  return lines.join('\n');
}
