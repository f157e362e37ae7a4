import semver from 'semver';
import type { AgentDefinition } from '../agent/definition.ts';
import { AgentConfigError, PermissionDeniedError, PluginCompatibilityError } from '../errors.ts';
import type { BoundInboundGuard, GuardServices } from '../runtime/inbound-guard.ts';
import type { ToolDefinition } from '../tools/define-tool.ts';
import type { ToolContext, ToolMemory } from '../tools/tool-context.ts';
import { CORE_VERSION } from '../version.ts';
import { assertCompatible } from './compatibility.ts';
import type { ContextProvider, Evaluator, PluginDefinition } from './define-plugin.ts';
import { createRedactor } from './redact.ts';

/** A security-relevant thing a plugin did or tried; the server stores these in the audit log. */
export interface PluginAuditEvent {
  action: 'plugin.secret_read' | 'plugin.permission_denied' | 'plugin.network_request';
  plugin: string;
  resource: string;
  agentId?: string;
  toolCallId?: string;
}

export interface PluginLogEntry {
  level: 'info' | 'warn' | 'error';
  plugin: string;
  message: string;
  data?: unknown;
}

export interface PluginHostOptions {
  /** Reads a workspace secret by name (the vault); undefined when it is not set. */
  secrets?: (name: string) => Promise<string | undefined> | string | undefined;
  /**
   * Values every tool result, error and log line is scrubbed of besides those the tool read
   * itself: every secret the run resolved (read live, so values added during the run count).
   */
  redactValues?: Iterable<string>;
  fetch?: typeof fetch;
  audit?: (event: PluginAuditEvent) => void;
  log?: (entry: PluginLogEntry) => void;
  /**
   * The host's own context providers, in front of whatever the agent's plugins provide (the
   * server's trust page facts).
   */
  contextProviders?: ContextProvider[];
  /** What guards receive: the workspace's trust facts, where signals go, who counts verdicts. */
  guards?: GuardServices;
  coreVersion?: string;
}

/** A tool together with the plugin that owns it (whose permissions bound it). */
export interface BoundTool {
  tool: ToolDefinition;
  plugin: PluginDefinition;
}

export interface ResolvedAgentPlugins {
  tools: Map<string, BoundTool>;
  contextProviders: ContextProvider[];
  /** Every listed plugin's `guards.inbound`, in the agent's plugin order. */
  inboundGuards: BoundInboundGuard[];
  evaluators: Evaluator[];
}

export interface ToolContextBase {
  toolCallId: string;
  agentId: string;
  conversationId: string;
  userId?: string;
  signal: AbortSignal;
  memory: ToolMemory;
}

const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language'];

/**
 * The request for the next hop of a redirect, as `fetch` itself would make it: credentials
 * are not sent on to another origin (a declared API that redirects to another declared host
 * must not hand it the plugin's key; audit A-06), and 303, or 301/302 after a POST, become a
 * GET without the body.
 */
function redirectedRequest(init: RequestInit, from: URL, to: URL, status: number): RequestInit {
  const method = (init.method ?? 'GET').toUpperCase();
  const toGet =
    status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
  const headers = new Headers(init.headers);
  if (from.origin !== to.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
  if (toGet) for (const name of BODY_HEADERS) headers.delete(name);
  const { body, ...rest } = init;
  if (toGet) return { ...rest, method: 'GET', headers };
  return { ...rest, headers, ...(body !== undefined ? { body } : {}) };
}

function hostAllowed(url: URL, patterns: readonly string[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return patterns.some((pattern) => {
    const [patternHost = '', patternPort] = pattern.toLowerCase().split(/:(?=\d+$)/);
    if (patternPort !== undefined && patternPort !== port) return false;
    if (patternHost.startsWith('*.'))
      return host.endsWith(patternHost.slice(1)) && host.length > patternHost.length - 1;
    return host === patternHost;
  });
}

const MAX_REDIRECTS = 5;

/**
 * Loads plugins (refusing incompatible ones), resolves what an agent may use, and builds the
 * permission-bounded context each tool call runs with.
 */
export function createPluginHost(options: PluginHostOptions = {}) {
  const installed = new Map<string, PluginDefinition>();
  const coreVersion = options.coreVersion ?? CORE_VERSION;
  const audit = options.audit ?? (() => {});
  const baseFetch = options.fetch ?? globalThis.fetch;
  const guards: GuardServices = options.guards ?? {};

  function deny(
    plugin: PluginDefinition,
    resource: string,
    message: string,
    base: ToolContextBase,
  ): never {
    audit({
      action: 'plugin.permission_denied',
      plugin: plugin.name,
      resource,
      agentId: base.agentId,
      toolCallId: base.toolCallId,
    });
    throw new PermissionDeniedError(plugin.name, resource, message);
  }

  return {
    /** The services the run loop hands the agent's guards (see GuardServices). */
    guards,

    /** Installs a plugin; throws PluginCompatibilityError saying what to change. */
    register(plugin: PluginDefinition): void {
      assertCompatible(plugin, coreVersion);
      if (installed.has(plugin.name))
        throw new PluginCompatibilityError(`plugin ${plugin.name} is already installed`);
      installed.set(plugin.name, plugin);
    },

    plugins(): PluginDefinition[] {
      return [...installed.values()];
    },

    /** What the agent's plugin list and tool allow-list give it; throws on anything missing. */
    resolve(agent: AgentDefinition): ResolvedAgentPlugins {
      const tools = new Map<string, BoundTool>();
      const contextProviders: ContextProvider[] = [...(options.contextProviders ?? [])];
      const inboundGuards: BoundInboundGuard[] = [];
      const evaluators: Evaluator[] = [];
      for (const ref of agent.plugins) {
        const plugin = installed.get(ref.name);
        if (!plugin) {
          const known = [...installed.keys()].join(', ') || 'none';
          throw new AgentConfigError(
            `agent ${agent.name} uses plugin ${ref.name}, which is not installed (installed: ${known})`,
          );
        }
        if (!satisfies(plugin.version, ref.version)) {
          throw new AgentConfigError(
            `agent ${agent.name} wants ${ref.name}@${ref.version}, but ${plugin.version} is installed`,
          );
        }
        for (const tool of plugin.tools ?? []) {
          const clash = tools.get(tool.name);
          if (clash) {
            throw new AgentConfigError(
              `tool ${tool.name} is defined by both ${clash.plugin.name} and ${plugin.name}`,
            );
          }
          tools.set(tool.name, { tool, plugin });
        }
        contextProviders.push(...(plugin.contextProviders ?? []));
        if (plugin.guards?.inbound)
          inboundGuards.push({ guard: plugin.guards.inbound, plugin: plugin.name });
        evaluators.push(...(plugin.evaluators ?? []));
      }
      if (agent.tools) {
        for (const name of agent.tools) {
          if (!tools.has(name)) {
            throw new AgentConfigError(
              `agent ${agent.name} allows tool ${name}, but none of its plugins defines it (available: ${[...tools.keys()].join(', ') || 'none'})`,
            );
          }
        }
        for (const name of [...tools.keys()]) if (!agent.tools.includes(name)) tools.delete(name);
      }
      return { tools, contextProviders, inboundGuards, evaluators };
    },

    /**
     * The context one tool call runs with, and a redactor for whatever it returns: secrets the
     * tool read never reach the model, the stream or the logs.
     */
    createToolContext(plugin: PluginDefinition, base: ToolContextBase) {
      const declaredSecrets = new Set(plugin.permissions?.secrets ?? []);
      const hosts = plugin.permissions?.network ?? [];
      const readValues = new Set<string>();
      const runValues = options.redactValues ?? [];
      const { redact, redactString } = createRedactor({
        *[Symbol.iterator]() {
          yield* readValues;
          yield* runValues;
        },
      });
      const write =
        (level: PluginLogEntry['level']) => (message: string, data?: Record<string, unknown>) =>
          options.log?.({
            level,
            plugin: plugin.name,
            message: redactString(message),
            ...(data ? { data: redact(data) } : {}),
          });

      const guardedFetch = async (
        input: string | URL,
        init: RequestInit = {},
      ): Promise<Response> => {
        let url = new URL(input);
        let request = init;
        for (let hop = 0; ; hop++) {
          if (url.protocol !== 'https:' && url.protocol !== 'http:') {
            deny(plugin, url.protocol, `plugin ${plugin.name} may only fetch http(s) URLs`, base);
          }
          if (!hostAllowed(url, hosts)) {
            deny(
              plugin,
              url.host,
              `plugin ${plugin.name} did not declare network access to ${url.host} (declared: ${hosts.join(', ') || 'none'})`,
              base,
            );
          }
          audit({
            action: 'plugin.network_request',
            plugin: plugin.name,
            resource: url.host,
            agentId: base.agentId,
            toolCallId: base.toolCallId,
          });
          // Redirects are followed by hand so every hop is checked against the declared hosts.
          const response = await baseFetch(url, {
            ...request,
            redirect: 'manual',
            signal: request.signal ?? base.signal,
          });
          const location = response.headers.get('location');
          if (response.status < 300 || response.status >= 400 || !location) return response;
          if (hop >= MAX_REDIRECTS)
            throw new PermissionDeniedError(
              plugin.name,
              url.host,
              `too many redirects from ${url.host}`,
            );
          await response.body?.cancel();
          const next = new URL(location, url);
          request = redirectedRequest(request, url, next, response.status);
          url = next;
        }
      };

      const context: ToolContext = {
        ...base,
        secrets: {
          async get(name: string) {
            if (!declaredSecrets.has(name)) {
              deny(
                plugin,
                name,
                `plugin ${plugin.name} did not declare the secret ${name} (declared: ${[...declaredSecrets].join(', ') || 'none'})`,
                base,
              );
            }
            const value = await options.secrets?.(name);
            if (value === undefined) {
              throw new AgentConfigError(
                `secret ${name} is not set in this workspace: set it with \`parley secrets set ${name}\``,
              );
            }
            readValues.add(value);
            audit({
              action: 'plugin.secret_read',
              plugin: plugin.name,
              resource: name,
              agentId: base.agentId,
              toolCallId: base.toolCallId,
            });
            return value;
          },
        },
        fetch: guardedFetch,
        log: { info: write('info'), warn: write('warn'), error: write('error') },
      };
      return { context, redact };
    },
  };
}
export type PluginHost = ReturnType<typeof createPluginHost>;

/**
 * `semver.satisfies`, remembered: every run resolves its agent's plugins again, with the same
 * few version/range pairs, and parsing a range cost more than the rest of the resolve.
 */
const satisfied = new Map<string, boolean>();
function satisfies(version: string, range: string): boolean {
  const key = `${version} ${range}`;
  let answer = satisfied.get(key);
  if (answer === undefined) {
    answer = semver.satisfies(version, range);
    // A bound against a process that is handed ever new ranges (agents are user input).
    if (satisfied.size >= 1_000) satisfied.clear();
    satisfied.set(key, answer);
  }
  return answer;
}
