import type { ContentPart } from '@parley/providers';
import type { AgentDefinition } from '../agent/definition.ts';

/** A security signal a guard raises; the server stores it with the workspace's signals. */
export interface GuardSignal {
  /** `resource.verb` such as `scam.link_blocked`. */
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  details: Record<string, unknown>;
}

/** What a guard decided about the user's message. */
export interface InboundGuardResult {
  /**
   * Text to replace in what the model sees (every occurrence, in every text part). The stored
   * message keeps what the user wrote.
   */
  replacements: { find: string; replace: string }[];
  /** Added to the system prompt for this run (what to tell the user instead). */
  instruction?: string;
  signals: GuardSignal[];
}

/**
 * Looks at the user's message before the model does: the scam-link guard is one. It runs once
 * per run, after the message is stored and before the first model step.
 */
export interface InboundGuard {
  name: string;
  inspect(message: {
    text: string;
    agent: AgentDefinition;
    signal: AbortSignal;
  }): Promise<InboundGuardResult> | InboundGuardResult;
  /**
   * The replacements for an earlier user message of the conversation, so the model does not
   * see in the history what it was kept from seeing the first time. No signals: that message
   * was reported when it came in.
   */
  rewrite?(message: { text: string }): InboundGuardResult['replacements'];
}

/** The input as the model sees it: each replacement applied to every text part. */
export function applyReplacements(
  input: string | ContentPart[],
  replacements: InboundGuardResult['replacements'],
): string | ContentPart[] {
  if (replacements.length === 0) return input;
  // Longest first, so a markdown link is replaced whole before a URL inside it.
  const ordered = [...replacements].sort((a, b) => b.find.length - a.find.length);
  const rewrite = (text: string) =>
    ordered.reduce((out, { find, replace }) => (find ? out.replaceAll(find, replace) : out), text);
  if (typeof input === 'string') return rewrite(input);
  return input.map((part) => (part.type === 'text' ? { ...part, text: rewrite(part.text) } : part));
}
