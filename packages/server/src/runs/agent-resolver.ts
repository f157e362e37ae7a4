import { AgentDefinitionError, validateAgentValue } from '@parley/agent-file';
import type { AgentDefinition } from '@parley/core';
import type { Agent, AgentVersion, TrustPageContent, WorkspaceScope } from '@parley/store';
import { HttpProblem, notFound } from '../http/problem.ts';
import { isUuid } from '../http/uuid.ts';
import { createAgentCache } from './agent-cache.ts';
import type { WorkspaceBatcher } from './workspace-batcher.ts';

export interface ResolvedAgent {
  agent: Agent;
  /** The version run; null for the draft. */
  version: AgentVersion | null;
  definition: AgentDefinition;
  trust: TrustPageContent;
  /** The workspace's first run (the funnel's first_run). */
  first: boolean;
}

export async function findAgent(ws: WorkspaceScope, ref: string) {
  return isUuid(ref) ? ws.agents.get(ref) : ws.agents.getByName(ref);
}

/** Which definition a run executes: a version's, or the draft's. Throws a problem if none. */
export function definitionOf(agent: Agent, version: AgentVersion | null, asked?: number | 'draft') {
  const source = version ? version.definition : agent.draft;
  if (!source) {
    throw new HttpProblem(
      'agent.not_deployed',
      asked === 'draft'
        ? `Agent ${agent.name} has no draft.`
        : `Agent ${agent.name} has no deployed version or draft: deploy one first.`,
    );
  }
  const validation = validateAgentValue(source);
  if (!validation.ok) throw new AgentDefinitionError(validation.issues);
  return validation.definition;
}

/**
 * Finds the agent a run asks for, the version to run and its validated definition, and the
 * trust page: from the cache (a chat's next turn), else read in one round of the batcher.
 */
export function createAgentResolver(batcher: WorkspaceBatcher) {
  const cache = createAgentCache<ResolvedAgent>();
  /** Workspaces known to have had a run (the funnel's first_run is recorded once per workspace). */
  const workspacesWithRuns = new Set<string>();

  async function read(
    workspaceId: string,
    ref: string,
    asked?: number | 'draft',
  ): Promise<ResolvedAgent> {
    const found = await batcher.run(workspaceId, async (ws) => {
      const agent = await findAgent(ws, ref);
      if (!agent) throw notFound('Agent');
      // A version number, "draft", or by default the deployed version (the draft before any deploy).
      const version = asked === 'draft' ? null : await ws.agents.getVersion(agent.id, asked);
      const first =
        !workspacesWithRuns.has(workspaceId) && (await ws.runs.list({ limit: 1 })).length === 0;
      // The trust page: its canonical links reach the model (context) and the scam guard.
      const trust = (await ws.trust.getPage()).content;
      return { agent, version, first, trust };
    });
    const { agent, version, trust, first } = found;
    if (agent.archivedAt)
      throw new HttpProblem(
        'resource.conflict',
        `Agent ${agent.name} is archived: unarchive it to run it.`,
      );
    if (asked !== undefined && asked !== 'draft' && !version)
      throw notFound(`Version ${asked} of ${agent.name}`);
    return { agent, version, trust, definition: definitionOf(agent, version, asked), first };
  }

  return {
    async resolve(
      workspaceId: string,
      ref: string,
      version?: number | 'draft',
    ): Promise<ResolvedAgent> {
      const key = `${ref}\u0000${version ?? ''}`;
      const { value, loaded } = await cache.get(workspaceId, key, () =>
        read(workspaceId, ref, version),
      );
      // Whether this is the workspace's first run is known only to a read of the database.
      return { ...value, first: loaded && value.first };
    },
    /** The workspace has had a run: its next ones are not its first. */
    ran: (workspaceId: string) => workspacesWithRuns.add(workspaceId),
    forget: (workspaceId: string) => cache.forget(workspaceId),
  };
}
