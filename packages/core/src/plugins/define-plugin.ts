import type { AgentDefinition } from '../agent/definition.ts';
import type { InboundGuard } from '../runtime/inbound-guard.ts';
import type { ToolDefinition } from '../tools/define-tool.ts';
import type { ToolMemory } from '../tools/tool-context.ts';
import type { ChannelHost, ChannelSession } from './connector.ts';

/** Adds text to the model's context before each step (e.g. the current date, a user profile). */
export interface ContextProvider {
  name: string;
  provide(context: {
    agent: AgentDefinition;
    input: string;
    signal: AbortSignal;
  }): Promise<string | undefined> | string | undefined;
}

/** Runs after a run finished, e.g. to extract memories from what was said. */
export interface Evaluator {
  name: string;
  evaluate(context: {
    agent: AgentDefinition;
    input: string;
    output: string;
    memory: ToolMemory;
    signal: AbortSignal;
  }): Promise<void> | void;
}

/**
 * A bridge to an outside channel (Discord, Telegram, Slack) that starts runs. `start` and
 * `stop` bound the plugin's own resources; a connector that speaks a chat platform also names
 * it and opens one channel per agent that lists it (docs/channels.md, plugins/connector.ts).
 */
export interface Connector {
  name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  /** The platform agent.yaml's `channels[].platform` names. */
  platform?: string;
  /** Opens one agent's channel on the platform. */
  open?(host: ChannelHost): ChannelSession;
}

/**
 * What a plugin puts in front of the model in every run of an agent that lists it (the run
 * loop gets them from the plugin host, like tools and context providers).
 */
export interface PluginGuards {
  /** Inspects, and may rewrite, the user's message before the model sees it; raises signals. */
  inbound?: InboundGuard;
}

export interface PluginPermissions {
  /** Hosts the plugin's tools may reach: `api.example.com`, `api.example.com:8443`, `*.example.com`. */
  network?: string[];
  /** Workspace secret names the plugin's tools may read. */
  secrets?: string[];
}

/** Plugin contract v1. */
export interface PluginDefinition {
  name: string;
  /** The plugin's own semver version. */
  version: string;
  /** The plugin contract it was written for; this core speaks 1. */
  contract: number;
  /** A bounded semver range of @parley/core the plugin supports (like a peerDependency). */
  core: string;
  description?: string;
  permissions?: PluginPermissions;
  tools?: ToolDefinition[];
  contextProviders?: ContextProvider[];
  guards?: PluginGuards;
  evaluators?: Evaluator[];
  connectors?: Connector[];
}

/** Declares a plugin. Shape errors show up here; compatibility is checked when a host loads it. */
export function definePlugin(plugin: PluginDefinition): PluginDefinition {
  return plugin;
}
