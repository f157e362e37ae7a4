import {
  type AgentDefinition,
  listedHost,
  type ModelRef,
  PROVIDER_KEY_HOSTS,
  type SecretDestinationPolicy,
  secretDestinationRefusal,
} from '@parley/core';
import { DEFAULT_BASE_URLS } from '@parley/providers';
import type { ServerConfig } from '../config.ts';
import { HttpProblem } from '../http/problem.ts';
import { keySecretOf } from './models.ts';

/** The server's rule for where secrets may go, from its configuration. */
export function secretDestinations(
  config: Pick<ServerConfig, 'multiUser' | 'modelHosts' | 'mcpHosts'>,
): SecretDestinationPolicy {
  return { multiUser: config.multiUser, modelHosts: config.modelHosts, mcpHosts: config.mcpHosts };
}

const refused = (agent: AgentDefinition, detail: string) =>
  new HttpProblem('agent.secret_destination', `Agent ${agent.name}: ${detail}.`);

/**
 * Why a model's requests may not go where it says, or undefined. With a key, the secret rule
 * (packages/core net/secret-destination.ts); without one, on a multi-user server, the host
 * must still be a provider's or the operator's (the server's network is not the member's).
 */
export function modelDestinationRefusal(
  ref: Pick<ModelRef, 'provider' | 'baseURL' | 'apiKeySecret'>,
  policy: SecretDestinationPolicy,
): string | undefined {
  if (ref.provider === 'scripted') return undefined;
  if (policy.multiUser && ref.provider === 'openai-compatible' && !ref.baseURL)
    return 'an openai-compatible model needs an explicit baseURL on a multi-user server (its default, http://127.0.0.1:11434/v1, is this server itself)';
  const url = ref.baseURL ?? DEFAULT_BASE_URLS[ref.provider];
  if (!url) return undefined;
  if (keySecretOf(ref) !== undefined)
    return secretDestinationRefusal(url, { kind: 'model', provider: ref.provider }, policy);
  const target = new URL(url);
  if (!policy.multiUser || listedHost(target, policy.modelHosts)) return undefined;
  if (Object.values(PROVIDER_KEY_HOSTS).includes(target.hostname)) return undefined;
  return `its model requests would go to ${target.host}, which this multi-user server does not allow: an operator adds it to PARLEY_MODEL_HOSTS`;
}

/**
 * Refuses (422 `agent.secret_destination`) an agent that would send a secret somewhere the
 * rule does not allow: a model's key, an MCP server's bearer token. Checked at deploy and at
 * every run, so a changed operator list applies to agents deployed before.
 */
export function checkSecretDestinations(
  agent: AgentDefinition,
  policy: SecretDestinationPolicy,
): void {
  let passed = allowed.get(policy);
  if (passed?.has(agent)) return;
  for (const ref of [agent.model, ...agent.fallbackModels]) {
    const why = modelDestinationRefusal(ref, policy);
    if (why) throw refused(agent, why);
  }
  const embedding = agent.memory.embeddingModel;
  const why = embedding && modelDestinationRefusal(embedding, policy);
  if (why) throw refused(agent, `its embedding model: ${why}`);
  for (const server of agent.mcp) {
    if ('stdio' in server.transport || !server.transport.bearerTokenSecret) continue;
    const why = secretDestinationRefusal(server.transport.url, { kind: 'mcp' }, policy);
    if (why) throw refused(agent, `MCP server ${server.name}: ${why}`);
  }
  if (!passed) {
    passed = new WeakSet();
    allowed.set(policy, passed);
  }
  passed.add(agent);
}

/**
 * Definitions that passed, per policy: a run's definition is its agent's cached object until
 * the agent changes, and the policy the server's until its configuration does (a changed
 * list makes a new policy, checked afresh): parsing each URL again at every run is work for
 * nothing.
 */
const allowed = new WeakMap<SecretDestinationPolicy, WeakSet<AgentDefinition>>();
