import type { ContentPart } from '@parley/providers';
import type { AgentDefinition } from '../agent/definition.ts';

/** A security signal a guard raises; the server stores it with the workspace's signals. */
export interface GuardSignal {
  /** `resource.verb` such as `scam.link_blocked`. */
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  details: Record<string, unknown>;
}

/**
 * What the host knows about the workspace's official presence (the server's trust page),
 * handed to every guard so it can point people to the real links. Empty lists when unknown.
 */
export interface WorkspaceTrust {
  officialDomains: string[];
  /** Official links, the migration link (label `migration`) first when there is one. */
  officialLinks: { label: string; url: string }[];
  brandTokens: string[];
  /** Domains the workspace refuses outright. */
  blocklist: string[];
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
 * Looks at the user's message before the model does: the scam-link guard is one. A plugin
 * declares it as `guards.inbound`; it runs once per run, after the message is stored and
 * before the first model step. `trust` and `report` are the host's guard services, when it
 * has them.
 */
export interface InboundGuard {
  name: string;
  inspect(message: {
    text: string;
    agent: AgentDefinition;
    signal: AbortSignal;
    trust?: WorkspaceTrust;
    /** Tells the host the decision (`allow`, `warn`, `block`) for its counts. */
    report?: (verdict: string) => void;
  }): Promise<InboundGuardResult> | InboundGuardResult;
  /**
   * The replacements for an earlier user message of the conversation, so the model does not
   * see in the history what it was kept from seeing the first time. No signals: that message
   * was reported when it came in.
   */
  rewrite?(message: { text: string; trust?: WorkspaceTrust }): InboundGuardResult['replacements'];
}

/** Which guard of which plugin, in which run: passed to the host's guard services. */
export interface GuardSource {
  plugin: string;
  guard: string;
  runId: string;
  agentId: string;
  conversationId: string;
}

/**
 * What the host gives guards (set with the plugin host's `guards` option): the workspace's
 * trust facts, where raised signals go, and who is told of each verdict.
 */
export interface GuardServices {
  trust?: WorkspaceTrust;
  /** Stores a signal a guard raised (the server: the workspace's security signals). */
  recordSignal?: (signal: GuardSignal, source: GuardSource) => Promise<void> | void;
  /** Told of every verdict a guard reports (the server: its metrics). */
  onVerdict?: (verdict: string, source: GuardSource) => void;
}

/** An inbound guard together with the plugin that declared it. */
export interface BoundInboundGuard {
  guard: InboundGuard;
  plugin: string;
}

/**
 * The run's inbound guards as one: `inspect` runs each in turn (their replacements and signals
 * add up, their instructions join) and records each signal through the host's services; `rewrite` gives every guard's replacements for an earlier message.
 * Undefined when the agent's plugins declare no inbound guard.
 */
export function combineInboundGuards(
  bound: readonly BoundInboundGuard[],
  services: GuardServices,
  run: Omit<GuardSource, 'plugin' | 'guard'>,
) {
  if (bound.length === 0) return undefined;
  const { trust } = services;
  const withTrust = trust ? { trust } : {};
  return {
    async inspect(message: { text: string; agent: AgentDefinition; signal: AbortSignal }) {
      const combined: InboundGuardResult = { replacements: [], signals: [] };
      const instructions: string[] = [];
      for (const { guard, plugin } of bound) {
        const source: GuardSource = { ...run, plugin, guard: guard.name };
        const report = (verdict: string) => services.onVerdict?.(verdict, source);
        const result = await guard.inspect({ ...message, ...withTrust, report });
        for (const raised of result.signals) await services.recordSignal?.(raised, source);
        combined.replacements.push(...result.replacements);
        combined.signals.push(...result.signals);
        if (result.instruction) instructions.push(result.instruction);
      }
      if (instructions.length > 0) combined.instruction = instructions.join('\n\n');
      return combined;
    },
    rewrite(message: { text: string }): InboundGuardResult['replacements'] {
      return bound.flatMap(({ guard }) => guard.rewrite?.({ ...message, ...withTrust }) ?? []);
    },
  };
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
