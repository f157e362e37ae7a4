import type { Agent } from '@parley/client';

/*
 * Where onboarding stands, worked out from what the server knows (so a returning person
 * resumes where they left, in any browser): no agent yet → describe; the agent still on the
 * placeholder demo model and never run → choose the model; chosen but never run → chat; run
 * at least once → deploy; deployed → done. The only browser-side hint is that the demo model
 * was chosen on purpose (it is also the placeholder step 1 creates the agent with).
 */

export const STEPS = [
  { id: 'describe', label: 'Describe' },
  { id: 'model', label: 'Model and key' },
  { id: 'chat', label: 'Try it' },
  { id: 'deploy', label: 'Deploy' },
] as const;
export type StepId = (typeof STEPS)[number]['id'];

const chosenKey = (agentId: string) => `parley.onboarding.model-chosen.${agentId}`;

export function markModelChosen(agentId: string): void {
  localStorage.setItem(chosenKey(agentId), '1');
}

export function modelChosen(agent: Agent): boolean {
  const provider = (agent.draft?.model as { provider?: string } | undefined)?.provider;
  return (
    (provider !== undefined && provider !== 'scripted') ||
    localStorage.getItem(chosenKey(agent.id)) === '1'
  );
}

/** The step to show for the onboarding agent, given whether it has run. */
export function stepOf(agent: Agent, hasRun: boolean): StepId {
  if (agent.currentVersion !== null) return 'deploy';
  if (hasRun) return 'deploy';
  return modelChosen(agent) ? 'chat' : 'model';
}

/**
 * Where `/` sends someone: onboarding while no agent is deployed (the oldest agent is the one
 * being onboarded), null once one is.
 */
export function firstAgentStep(agents: readonly Agent[]): string | null {
  if (agents.length === 0) return '/setup';
  if (agents.some((a) => a.currentVersion !== null)) return null;
  const oldest = [...agents].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0]!;
  return `/setup/${encodeURIComponent(oldest.name)}`;
}
