import { api } from '@parley/protocol';
import { z } from 'zod';

/**
 * Another agent of the workspace this agent may call (docs/multi-agent.md): `tool`, as a tool
 * whose answer comes back to this agent; `handoff`, by handing it the conversation, which it
 * answers now and in the turns that follow.
 */
export const AgentLinkSchema = z
  .object({
    name: api.AgentNameSchema,
    as: z.enum(['tool', 'handoff']).default('tool'),
    /** What the model is told the agent does (default: the called agent's own description). */
    description: z.string().min(1).max(500).optional(),
  })
  .strict();
export type AgentLink = z.infer<typeof AgentLinkSchema>;

export const AgentLinkListSchema = z
  .array(AgentLinkSchema)
  .max(20)
  .refine((links) => new Set(links.map((link) => link.name)).size === links.length, {
    message: 'each agent may be listed once',
  });

/**
 * Bounds on the tree of runs one top-level run starts (this agent's settings hold for the
 * runs it starts; a child's tree is its root's). Reaching one ends the run with a typed error.
 */
export const AgentLimitsSchema = z
  .object({
    /** How deep agents may call agents (the top-level run is depth 0). */
    maxDepth: z.number().int().min(1).max(10).default(3),
    /** Child runs one run may start. */
    maxChildRuns: z.number().int().min(1).max(100).default(10),
    /** Tokens (input + output) the whole tree may use. */
    maxTotalTokens: z.number().int().positive().max(100_000_000).default(200_000),
  })
  .strict();
export type AgentLimits = z.infer<typeof AgentLimitsSchema>;

/** A tool name for a linked agent: providers accept letters, digits, `_` and `-`. */
export function agentToolName(link: Pick<AgentLink, 'name' | 'as'>): string {
  const base = link.name.replace(/[^a-zA-Z0-9_-]/g, '_');
  return (link.as === 'handoff' ? `handoff_to_${base}` : `ask_${base}`).slice(0, 64);
}
