import { PROVIDER_KEY_HOSTS } from '@parley/providers';
import { isLoopbackHost } from './address.ts';

/*
 * Where a workspace secret may be sent: the one rule every use of a secret over the network
 * follows — a model's key (each model call, the key check, `parley doctor`) and an MCP
 * server's bearer token. Whoever may deploy an agent chooses its URLs; without this rule they
 * could point one at a server of theirs and collect the key from the request's headers.
 *
 *  - The scheme is https. Plain http only to this machine in single-user mode, or to a host
 *    the operator listed with an explicit `http://` (a model server on the internal network).
 *  - Multi-user mode: a provider key goes to its provider's own host or a host the operator
 *    lists in PARLEY_MODEL_HOSTS; an MCP bearer token only to a host in PARLEY_MCP_HOSTS; an
 *    `openai-compatible` model must name its `baseURL` (its default is this machine).
 *  - Single-user mode: any host (the one user owns every key), with the scheme rule.
 */

export interface SecretDestinationPolicy {
  multiUser: boolean;
  /** PARLEY_MODEL_HOSTS: `host`, `host:port`, or `http://host[:port]` to allow plain http. */
  modelHosts: readonly string[];
  /** PARLEY_MCP_HOSTS, written the same way. */
  mcpHosts: readonly string[];
}

/** What the secret is: a model provider's key, or an MCP server's bearer token. */
export type SecretUse = { kind: 'model'; provider: string } | { kind: 'mcp' };

/** The host each real provider's key belongs to: the provider catalogue's (@parley/providers). */
export { PROVIDER_KEY_HOSTS };

/** How the operator listed a URL's host, if they did: `plainHttp` when written `http://…`. */
export function listedHost(url: URL, hosts: readonly string[]): { plainHttp: boolean } | undefined {
  const hostname = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const entry of hosts) {
    const plainHttp = entry.toLowerCase().startsWith('http://');
    const host = plainHttp ? entry.slice('http://'.length).toLowerCase() : entry.toLowerCase();
    if (host === hostname || host === `${hostname}:${port}`) return { plainHttp };
  }
  return undefined;
}

const OPERATOR_LIST = { model: 'PARLEY_MODEL_HOSTS', mcp: 'PARLEY_MCP_HOSTS' } as const;

/**
 * Why `use`'s secret may not be sent to `url`, or undefined when it may. The reason names the
 * host and what an operator or the agent's author can do.
 */
export function secretDestinationRefusal(
  url: string | URL,
  use: SecretUse,
  policy: SecretDestinationPolicy,
): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return `${String(url)} is not a URL`;
  }
  const what = use.kind === 'model' ? `the ${use.provider} key` : 'the bearer token';
  const list = OPERATOR_LIST[use.kind];
  const listed = listedHost(target, use.kind === 'model' ? policy.modelHosts : policy.mcpHosts);
  const ownHost = use.kind === 'model' && PROVIDER_KEY_HOSTS[use.provider] === target.hostname;
  if (target.protocol !== 'https:') {
    if (target.protocol !== 'http:') return `${target.protocol} URLs cannot carry ${what}`;
    const local = !policy.multiUser && isLoopbackHost(target.hostname);
    if (!local && !listed?.plainHttp)
      return `${target.host} is reached over plain http, which would send ${what} unencrypted: use https (plain http only reaches this machine in single-user mode, or a host an operator lists as http://${target.host} in ${list})`;
  }
  if (!policy.multiUser || ownHost || listed) return undefined;
  return `${what} may not be sent to ${target.host}: on this multi-user server it goes only to ${
    use.kind === 'model' && PROVIDER_KEY_HOSTS[use.provider]
      ? `${PROVIDER_KEY_HOSTS[use.provider]} or `
      : ''
  }hosts an operator lists in ${list}`;
}
