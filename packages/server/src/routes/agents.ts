import { AgentDefinitionError, validateAgentValue } from '@parley/agent-file';
import type { AgentDefinition } from '@parley/core';
import { api } from '@parley/protocol';
import type { WorkspaceScope } from '@parley/store';
import { z } from 'zod';
import { userIdOf } from '../auth/principal.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute, type RouteContext } from '../http/route.ts';
import { checkModelKey } from '../runs/key-check.ts';
import { modelSecrets } from '../runs/models.ts';
import { findAgent } from '../runs/run-manager.ts';
import { checkSecretDestinations, secretDestinations } from '../runs/secret-destinations.ts';
import type { Services } from '../services.ts';
import { agentDto, versionDto } from './dto.ts';
import { AgentRef, WorkspaceParams, withWorkspace } from './params.ts';

const AgentParams = withWorkspace({ agent: AgentRef });

/**
 * Validates a definition and fills its defaults (what is stored is what runs), and refuses
 * destinations the server would not send its secrets to (checked again at every run).
 */
function normalize(definition: Record<string, unknown>, services: Services): AgentDefinition {
  const result = validateAgentValue(definition);
  if (!result.ok) throw new AgentDefinitionError(result.issues);
  checkSecretDestinations(result.definition, secretDestinations(services.config));
  return result.definition;
}

async function agentOr404(ws: WorkspaceScope, ref: string) {
  const agent = await findAgent(ws, ref);
  if (!agent) throw notFound('Agent');
  return agent;
}

function recordFunnel(
  ctx: RouteContext<unknown, unknown, unknown>,
  name: 'agent_created' | 'provider_selected' | 'deployed',
  props: Record<string, string | number>,
) {
  const userId = userIdOf(ctx.principal);
  ctx.services.store.system.productEvents
    .record({ name, ...(userId ? { userId } : {}), props })
    .catch((error) => ctx.services.log.warn({ err: error }, 'could not record a product event'));
}

export const agentRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/agents',
    operationId: 'listAgents',
    summary: 'Agents by name (archived ones with includeArchived).',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:read' },
    params: WorkspaceParams,
    query: z.object({ includeArchived: z.stringbool().optional() }),
    responses: { 200: z.array(api.AgentSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace((ws) =>
          ws.agents.list({ includeArchived: ctx.query.includeArchived ?? false }),
        )
      ).map(agentDto),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/agents',
    operationId: 'createAgent',
    summary: 'Create an agent from a definition (kept as its draft; deploy: true also makes v1).',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:write' },
    params: WorkspaceParams,
    body: api.CreateAgentRequestSchema,
    responses: { 201: api.AgentWithVersionSchema },
    handler: async (ctx) => {
      const definition = normalize(ctx.body.definition, ctx.services);
      if (ctx.body.deploy && !ctx.grant().permissions.has('agents:deploy'))
        throw new HttpProblem('auth.forbidden', 'Deploying needs agents:deploy.');
      const createdBy = userIdOf(ctx.principal);
      const result = await ctx.inWorkspace(async (ws) => {
        const agent = await ws.agents.create({
          name: definition.name,
          description: ctx.body.description ?? definition.description ?? '',
          draft: definition as unknown as Record<string, unknown>,
          ...(createdBy ? { createdBy } : {}),
        });
        if (!ctx.body.deploy) return { agent, version: null };
        const version = await ws.agents.deploy(agent.id, {
          definition: definition as unknown as Record<string, unknown>,
          ...(ctx.body.note ? { note: ctx.body.note } : {}),
          ...(createdBy ? { createdBy } : {}),
        });
        return { agent: (await ws.agents.get(agent.id))!, version };
      });
      recordFunnel(ctx, 'agent_created', { provider: definition.model.provider });
      // An undeployed agent on the offline demo has not chosen a provider yet: the dashboard's
      // onboarding creates it so in step 1, and records the choice when step 2 saves the draft.
      if (definition.model.provider !== 'scripted' || ctx.body.deploy)
        recordFunnel(ctx, 'provider_selected', { provider: definition.model.provider });
      if (result.version) recordFunnel(ctx, 'deployed', { version: 1 });
      return {
        agent: agentDto(result.agent),
        version: result.version ? versionDto(result.version) : null,
      };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/agents/:agent',
    operationId: 'getAgent',
    summary: 'An agent (by id or name) with its deployed version.',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:read' },
    params: AgentParams,
    responses: { 200: api.AgentWithVersionSchema },
    handler: async (ctx) =>
      ctx.inWorkspace(async (ws) => {
        const agent = await agentOr404(ws, ctx.params.agent);
        const version = await ws.agents.getVersion(agent.id);
        return { agent: agentDto(agent), version: version ? versionDto(version) : null };
      }),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/v1/workspaces/:workspaceId/agents/:agent',
    operationId: 'updateAgent',
    summary: 'Rename, describe, archive or unarchive an agent.',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:write' },
    params: AgentParams,
    body: api.UpdateAgentRequestSchema,
    responses: { 200: api.AgentSchema },
    handler: async (ctx) =>
      agentDto(
        await ctx.inWorkspace(async (ws) => {
          let agent = await agentOr404(ws, ctx.params.agent);
          const { name, description, archived } = ctx.body;
          if (name !== undefined || description !== undefined) {
            agent = await ws.agents.update(agent.id, {
              ...(name !== undefined ? { name } : {}),
              ...(description !== undefined ? { description } : {}),
            });
          }
          if (archived !== undefined) agent = await ws.agents.archive(agent.id, archived);
          return agent;
        }),
      ),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/v1/workspaces/:workspaceId/agents/:agent',
    operationId: 'deleteAgent',
    summary: 'Delete an agent with its versions, conversations, runs and memories.',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:write' },
    params: AgentParams,
    responses: { 204: null },
    handler: async (ctx) => {
      await ctx.inWorkspace(async (ws) =>
        ws.agents.delete((await agentOr404(ws, ctx.params.agent)).id),
      );
    },
  }),
  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/agents/:agent/draft',
    operationId: 'saveAgentDraft',
    summary: 'Replace the agent\'s draft definition (validated; runnable with version "draft").',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:write' },
    params: AgentParams,
    body: api.SaveDraftRequestSchema,
    responses: { 200: api.AgentSchema },
    handler: async (ctx) => {
      const definition = normalize(ctx.body.definition, ctx.services);
      const agent = await ctx.inWorkspace(async (ws) =>
        ws.agents.saveDraft(
          (await agentOr404(ws, ctx.params.agent)).id,
          definition as unknown as Record<string, unknown>,
        ),
      );
      recordFunnel(ctx, 'provider_selected', { provider: definition.model.provider });
      return agentDto(agent);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/agents/:agent/key-check',
    operationId: 'checkAgentKeys',
    summary:
      "Check the agent's model keys with one cheap request each (GET {baseURL}/models): ok, rejected, rate limited or unreachable; never the key.",
    tag: 'agents',
    // It sends the keys where a run would: whoever may start runs may check them.
    access: { kind: 'workspace', permission: 'runs:create' },
    params: AgentParams,
    responses: { 200: api.KeyCheckResponseSchema },
    handler: async (ctx) => {
      const { definition, keys } = await ctx.inWorkspace(async (ws) => {
        const agent = await agentOr404(ws, ctx.params.agent);
        const source = agent.draft ?? (await ws.agents.getVersion(agent.id))?.definition;
        if (!source)
          throw new HttpProblem('agent.not_deployed', 'The agent has no definition to check.');
        // Validated again: the model hosts this server allows may have changed since.
        const definition = normalize(source, ctx.services);
        const keys = new Map<string, string>();
        for (const name of modelSecrets(definition))
          if (await ws.secrets.get(name))
            keys.set(name, await ws.secrets.reveal(name, { purpose: 'key-check' }));
        return { definition, keys };
      });
      for (let i = 0; i < keys.size; i++)
        ctx.services.detector.secretDecrypted(ctx.grant().workspaceId, ctx.request.ip);
      const checks = await Promise.all(
        [definition.model, ...definition.fallbackModels].map((ref) =>
          checkModelKey(ref, keys, { destinations: secretDestinations(ctx.services.config) }),
        ),
      );
      return { agent: definition.name, checks };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/agents/:agent/versions',
    operationId: 'listAgentVersions',
    summary: 'Deployed versions, newest first.',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:read' },
    params: AgentParams,
    responses: { 200: z.array(api.AgentVersionSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace(async (ws) =>
          ws.agents.listVersions((await agentOr404(ws, ctx.params.agent)).id),
        )
      ).map(versionDto),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/agents/:agent/versions/:version',
    operationId: 'getAgentVersion',
    summary: 'One deployed version.',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:read' },
    params: withWorkspace({
      agent: AgentRef,
      version: z.coerce.number().int().positive().max(1_000_000),
    }),
    responses: { 200: api.AgentVersionSchema },
    handler: async (ctx) => {
      const version = await ctx.inWorkspace(async (ws) =>
        ws.agents.getVersion((await agentOr404(ws, ctx.params.agent)).id, ctx.params.version),
      );
      if (!version) throw notFound(`Version ${ctx.params.version}`);
      return versionDto(version);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/agents/:agent/versions',
    operationId: 'deployAgent',
    summary:
      'Deploy: the given definition (or the draft) becomes the next version (201). Idempotent: an unchanged definition creates nothing (200, `created: false`).',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:deploy' },
    params: AgentParams,
    body: api.DeployRequestSchema,
    responses: { 200: api.DeployResponseSchema, 201: api.DeployResponseSchema },
    handler: async (ctx) => {
      const createdBy = userIdOf(ctx.principal);
      const result = await ctx.inWorkspace(async (ws) => {
        const agent = await agentOr404(ws, ctx.params.agent);
        const source = ctx.body.definition ?? agent.draft;
        if (!source)
          throw new HttpProblem(
            'request.invalid',
            'Send a definition: this agent has no draft to deploy.',
            {
              errors: [
                { path: 'body.definition', message: 'required when the agent has no draft' },
              ],
            },
          );
        const definition = normalize(source, ctx.services);
        return ws.agents.deployIfChanged(agent.id, {
          definition: definition as unknown as Record<string, unknown>,
          ...(ctx.body.note ? { note: ctx.body.note } : {}),
          ...(createdBy ? { createdBy } : {}),
        });
      });
      if (result.created) {
        ctx.reply.code(201);
        recordFunnel(ctx, 'deployed', { version: result.version.version });
      }
      return { version: versionDto(result.version), created: result.created };
    },
  }),
];
