import {
  type AgentLink,
  agentToolName,
  type BoundTool,
  defineTool,
  type NestedEventsSource,
  PLUGIN_CONTRACT,
  type PluginDefinition,
  type RunAbortReason,
} from '@parley/core';
import {
  initialStreamState,
  type ParleyEvent,
  reduceEvent,
  type StreamErrorCode,
  streamError,
  textOf,
} from '@parley/protocol';
import { z } from 'zod';
import { mayRunAgent } from '../auth/agent-scopes.ts';
import type { Principal } from '../auth/principal.ts';
import type { LiveRun } from './live-run.ts';
import type { RunFamily } from './run-tree.ts';

/** What an agent tool needs of the run calling it. */
export interface AgentToolsBinding {
  run: LiveRun;
  family: RunFamily;
  principal: Principal;
  links: readonly AgentLink[];
  /** Where the child runs' events go: the calling run's stream, as `run.child`. */
  nested: NestedEventsSource;
  /** Starts a child run of an agent of the workspace (through the run manager). */
  startChild(start: ChildStart): Promise<LiveRun>;
}

export interface ChildStart {
  agent: string;
  /** What the child is asked (empty for a handoff: it gets the user's message). */
  input: string;
  toolCallId: string;
  handoff: boolean;
}

/** The plugin agent tools belong to (its permissions are none: it reads no secret, no host). */
const AGENTS_PLUGIN: PluginDefinition = {
  name: 'agents',
  version: '0.0.0',
  contract: PLUGIN_CONTRACT,
  core: '*',
  permissions: {},
};

/** A child run may take as long as a person waits for an answer. */
const CHILD_TIMEOUT_MS = 10 * 60_000;

/** Thrown after the run was told to end with a typed error: the tool's result does not matter. */
class TreeLimit extends Error {}

/**
 * The tools through which an agent calls the agents its definition lists: `ask_<name>` starts
 * a child run whose answer comes back as the tool's result; `handoff_to_<name>` starts one
 * that answers the user in this turn, and the conversation stays with it (the calling run
 * ends after that step). Each child's events travel inside the calling run's stream.
 */
export function agentTools(binding: AgentToolsBinding): BoundTool[] {
  return binding.links.map((link) => ({
    plugin: AGENTS_PLUGIN,
    tool: defineTool({
      name: agentToolName(link),
      description:
        link.description ??
        (link.as === 'handoff'
          ? `Hand the conversation to the agent "${link.name}": it answers the user from now on.`
          : `Ask the agent "${link.name}" and get its answer.`),
      input:
        link.as === 'handoff'
          ? z.object({ reason: z.string().max(2_000).optional() })
          : z.object({ input: z.string().min(1).max(100_000) }),
      timeoutMs: CHILD_TIMEOUT_MS,
      endsRun: link.as === 'handoff',
      run: (args, context) => callAgent(binding, link, args, context),
    }),
  }));
}

async function callAgent(
  binding: AgentToolsBinding,
  link: AgentLink,
  args: { input?: string; reason?: string },
  context: { toolCallId: string; signal: AbortSignal },
): Promise<unknown> {
  const { family, nested } = binding;
  const { tree } = family;
  const fail = (code: StreamErrorCode, message: string) => {
    nested.fail(streamError(code, message));
    // The run ends: its other calls' children end with it.
    for (const child of family.children) stopChild(child);
    return new TreeLimit(message);
  };
  if (!mayRunAgent(binding.principal, link.name))
    throw fail('agent_forbidden', `This run's caller may not run the agent ${link.name}.`);
  if (family.depth + 1 > tree.limits.maxDepth)
    throw fail(
      'agent_depth_exceeded',
      `Calling ${link.name} would nest runs ${family.depth + 1} deep; the limit is ${tree.limits.maxDepth}.`,
    );
  if (family.childCount >= tree.limits.maxChildRuns)
    throw fail(
      'agent_child_limit',
      `This run already started ${family.childCount} child runs, the most one run may.`,
    );
  if (tree.overBudget) throw budgetError();
  family.childCount++;

  const handoff = link.as === 'handoff';
  const child = await binding.startChild({
    agent: link.name,
    // A handoff's child answers the user's own message (the run manager passes it on).
    input: handoff ? '' : args.input!,
    toolCallId: context.toolCallId,
    handoff,
  });
  family.children.push(child);
  // A cancelled call (the run cancelled, or the tool timed out) cancels the child; so does
  // the run ending meanwhile (another call hit a limit).
  const stop = () => stopChild(child);
  if (context.signal.aborted || nested.failure()) stop();
  context.signal.addEventListener('abort', stop, { once: true });

  let state = initialStreamState();
  let overBudget = false;
  await follow(child, (event) => {
    nested.push({
      type: 'run.child',
      childRunId: child.id,
      agent: link.name,
      toolCallId: context.toolCallId,
      event,
    });
    state = reduceEvent(state, event);
    if (!overBudget && tree.overBudget) {
      overBudget = true;
      stop();
    }
  });
  context.signal.removeEventListener('abort', stop);
  if (overBudget) throw budgetError();
  if (state.status !== 'finished')
    throw new Error(
      `${link.name} ${state.status === 'aborted' ? 'was cancelled' : `failed: ${state.error?.message ?? 'no answer'}`}`,
    );
  return { agent: link.name, runId: child.id, answer: textOf(state) };

  function budgetError() {
    return fail(
      'agent_token_budget',
      `The run and its child runs used ${tree.tokens} tokens; their budget is ${tree.limits.maxTotalTokens}.`,
    );
  }
}

function stopChild(child: LiveRun) {
  if (!child.closed)
    child.controller.abort({ reason: 'cancelled', by: 'parent' } satisfies RunAbortReason);
}

/** Calls `onEvent` with each of the child's events as it becomes visible, until its end. */
async function follow(child: LiveRun, onEvent: (event: ParleyEvent) => void) {
  let seen = child.offset;
  for (;;) {
    const next = child.changed();
    for (let batch = child.visibleAfter(seen); batch.length > 0; batch = child.visibleAfter(seen))
      for (const event of batch) {
        onEvent(event);
        seen = event.seq;
      }
    if (child.closed) return;
    await next;
  }
}
