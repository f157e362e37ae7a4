import type { Store } from '@parley/store';
import type { createAgentResolver, ResolvedAgent } from './agent-resolver.ts';
import type { ChildStart } from './agent-tools.ts';
import type { LiveRun } from './live-run.ts';
import type { GivenConversation } from './run-executor.ts';
import { titleText } from './run-input.ts';
import type { StartRun } from './run-start.ts';
import type { RunFamily } from './run-tree.ts';
import { createRunWrites, storeRunPort } from './store-ports.ts';
import type { WorkspaceBatcher } from './workspace-batcher.ts';

/** What a conversation handed to another agent records (its metadata's `handoff`). */
export interface HandoffRecord {
  agentId: string;
  agent: string;
  runId: string;
}
export const handoffOf = (
  metadata: Record<string, unknown> | undefined,
): HandoffRecord | undefined => (metadata?.handoff as HandoffRecord | undefined) ?? undefined;

/**
 * Agents calling agents (docs/multi-agent.md): which agent a run of a handed-over
 * conversation executes, and the child runs an agent's tools start, through the run
 * manager's own `start`.
 */
export function createAgentCalls(deps: {
  store: Store;
  batcher: WorkspaceBatcher;
  agents: ReturnType<typeof createAgentResolver>;
  start: (input: StartRun) => Promise<LiveRun>;
}) {
  const { store, batcher, agents, start } = deps;

  /**
   * The agent a run executes: the one named, unless the conversation it continues was handed
   * to another agent (read only for agents that may hand off, so other runs pay nothing).
   */
  async function resolve(
    input: StartRun,
  ): Promise<ResolvedAgent & { conversationAgentId?: string }> {
    const named = await agents.resolve(input.workspaceId, input.agent, input.body.version);
    const { conversationId } = input.body;
    if (!conversationId || !named.definition.agents.some((link) => link.as === 'handoff'))
      return named;
    const conversation = await store.withWorkspace(
      input.workspaceId,
      (ws) => ws.conversations.get(conversationId),
      input.scope,
    );
    const handoff = handoffOf(conversation?.metadata);
    if (!handoff || conversation?.agentId !== named.agent.id) return named;
    const handedTo = await agents.resolve(input.workspaceId, handoff.agentId, undefined);
    return { ...handedTo, conversationAgentId: named.agent.id };
  }

  /**
   * Starts a child run for an agent tool of `parent`: the same caller, its own conversation
   * (a handoff's child sees the parent's conversation and answers the user's message, and the
   * conversation is recorded as handed to it for the turns that follow).
   */
  async function startChild(
    parentStart: StartRun,
    parent: LiveRun,
    family: RunFamily,
    child: ChildStart,
  ): Promise<LiveRun> {
    const { workspaceId, scope } = parentStart;
    let given: GivenConversation | undefined;
    let input = child.input;
    if (child.handoff) {
      input = titleText(parentStart.body.input);
      const history = await storeRunPort(batcher, workspaceId, {
        newConversation: false,
        agentId: parent.conversationAgentId,
        created: Promise.resolve(),
        writes: createRunWrites(),
      }).loadHistory(parent.conversationId);
      // The user's message is the child's input: not twice in what its model sees.
      const last = history.at(-1);
      given = { history: last?.role === 'user' ? history.slice(0, -1) : history };
    }
    const run = await start({
      workspaceId,
      principal: parentStart.principal,
      scope,
      agent: child.agent,
      // The same end user (user-scoped memory is the child agent's own, about that user).
      body: {
        input: input || '(no message)',
        ...(parentStart.body.userId ? { userId: parentStart.body.userId } : {}),
      },
      parent: { run: parent, family },
      // In the parent's trace, under its run.
      ...(parent.trace ? { trace: parent.trace } : {}),
      ...(given ? { given } : {}),
    });
    if (child.handoff)
      await store.withWorkspace(
        workspaceId,
        async (ws) => {
          const conversation = await ws.conversations.get(parent.conversationId);
          const handoff: HandoffRecord = {
            agentId: run.agentId,
            agent: child.agent,
            runId: run.id,
          };
          await ws.conversations.update(parent.conversationId, {
            metadata: { ...(conversation?.metadata ?? {}), handoff },
          });
        },
        scope,
      );
    return run;
  }

  return { resolve, startChild };
}
