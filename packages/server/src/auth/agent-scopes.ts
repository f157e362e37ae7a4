import type { Principal } from './principal.ts';

/**
 * Agent scopes: a token whose scopes name agents (`agent:<name>`) may run only those agents,
 * directly or as another agent's child run (docs/multi-agent.md). A token with none may run
 * every agent of its workspace, as before; people run what their role allows.
 */
export const AGENT_SCOPE_PREFIX = 'agent:';

/** Whether a scope names an agent (`agent:support-bot`). */
export const isAgentScope = (scope: string): boolean => /^agent:\S.{0,92}$/.test(scope);

/** Whether the principal may start runs of the agent named `agentName`. */
export function mayRunAgent(principal: Principal, agentName: string): boolean {
  if (principal.kind !== 'token') return true;
  const named = principal.scopes.filter(isAgentScope);
  return named.length === 0 || named.includes(`${AGENT_SCOPE_PREFIX}${agentName}`);
}
