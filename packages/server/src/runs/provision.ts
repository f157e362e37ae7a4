import type { AgentDefinition, PluginHost, SecretDestinationPolicy } from '@parley/core';
import type { ScopeOptions, TrustPageContent } from '@parley/store';
import { embeddingOfModel, type RunEmbedding, runEmbedding, secretsOfModel } from './embedder.ts';
import type { createModelKeys } from './model-keys.ts';
import { type ModelTimeouts, modelFactory } from './models.ts';
import type { createRunTools } from './run-tools.ts';
import { checkSecretDestinations } from './secret-destinations.ts';

/** What a run borrows to execute: its models (keys read), its plugin host, a release. */
export interface Provisioned {
  models: ReturnType<typeof modelFactory>;
  /** The agent's embedding model for memory and knowledge, or why it has none. */
  embedding: RunEmbedding;
  plugins: PluginHost;
  /** Every secret value the run resolved (grows as plugins read more): never in its events. */
  secretValues: ReadonlySet<string>;
  /** Closes what the run borrowed (its MCP connections, sandboxed plugins). */
  release: () => Promise<void>;
}

export interface ProvisionerOptions {
  tools: ReturnType<typeof createRunTools>;
  modelKeys: ReturnType<typeof createModelKeys>;
  destinations: SecretDestinationPolicy;
  modelTimeouts?: ModelTimeouts | undefined;
}

/**
 * Loads everything a run of an agent uses before anything of the run is written, the same
 * way for a run starting here and one continued after its instance stopped: the secret
 * destinations allowed, the tools (plugins, sandboxed community plugins, MCP servers) and
 * the model keys. A missing or refused one throws (a 422 for a new run; the end of a
 * continued one), with what was borrowed released.
 */
export function createProvisioner(options: ProvisionerOptions) {
  const { tools, modelKeys } = options;
  return async function provision(input: {
    definition: AgentDefinition;
    workspaceId: string;
    runId: string;
    scope: ScopeOptions;
    trust: TrustPageContent;
    /** The run's trace context: its model and plugin requests carry it. */
    traceparent?: string;
  }): Promise<Provisioned> {
    const { definition, workspaceId, scope } = input;
    checkSecretDestinations(definition, options.destinations);
    const toolset = await tools.prepare(input);
    try {
      toolset.plugins.resolve(definition);
      const keys = await modelKeys.forAgent(workspaceId, definition, scope);
      // Throws when a key is missing.
      const models = modelFactory(
        definition,
        keys,
        workspaceId,
        options.modelTimeouts,
        input.traceparent ? { traceparent: input.traceparent } : undefined,
      );
      for (const value of keys.values()) toolset.secrets.add(value);
      return {
        models,
        embedding: {
          ...runEmbedding(definition, keys),
          withModel: async (ref) =>
            embeddingOfModel(
              ref,
              await modelKeys.forSecrets(workspaceId, secretsOfModel(ref), scope),
            ),
        },
        plugins: toolset.plugins,
        secretValues: toolset.secrets,
        release: toolset.release,
      };
    } catch (error) {
      await toolset.release();
      throw error;
    }
  };
}
