import { type AgentDefinition, type AgentLimits, AgentLimitsSchema } from '@parley/core';
import type { Usage } from '@parley/protocol';
import type { LiveRun } from './live-run.ts';

/**
 * The tree of runs one top-level run starts (agents calling agents, docs/multi-agent.md): the
 * limits its root's agent set, and the tokens every run in it used so far.
 */
export class RunTree {
  readonly limits: AgentLimits;
  tokens = 0;

  constructor(limits: AgentLimits) {
    this.limits = limits;
  }

  /** A run of the tree finished a model call. */
  add(usage: Usage) {
    this.tokens += usage.inputTokens + usage.outputTokens;
  }

  get overBudget(): boolean {
    return this.tokens > this.limits.maxTotalTokens;
  }
}

/** Where one run stands in its tree: how deep, and the child runs it started. */
export interface RunFamily {
  tree: RunTree;
  /** 0 for a top-level run. */
  depth: number;
  /** Child runs, in the order they started (cancel and approvals reach them). */
  children: LiveRun[];
  /** Child runs started or starting: counted before the start, as calls run in parallel. */
  childCount: number;
}

/** A top-level run's family, when its agent may call agents (others need none). */
export function rootFamily(definition: AgentDefinition): RunFamily | undefined {
  if (definition.agents.length === 0) return undefined;
  const limits = definition.agentLimits ?? AgentLimitsSchema.parse({});
  return { tree: new RunTree(limits), depth: 0, children: [], childCount: 0 };
}
