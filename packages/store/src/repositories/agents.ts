import { createHash } from 'node:crypto';
import { api } from '@parley/protocol';
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { agents, agentVersions } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import {
  jsonLimit,
  LIMITS,
  limitSchema,
  nameSchema,
  parse,
  parseId,
  text,
  uuidSchema,
} from '../validation.ts';
import { canonicalJson, defined, notFound } from './common.ts';

export type Agent = typeof agents.$inferSelect;
export type AgentVersion = typeof agentVersions.$inferSelect;

const DefinitionSchema = z.record(z.string(), z.unknown()).superRefine(jsonLimit(LIMITS.jsonBytes));
// The one agent-name rule (api.AgentNameSchema), also for callers that skip the API's checks.
const NewAgentSchema = z.object({
  name: api.AgentNameSchema,
  description: text(LIMITS.description).default(''),
  /** A first draft definition (validated by core, kept as given). */
  draft: DefinitionSchema.optional(),
  createdBy: uuidSchema.optional(),
});
const AgentPatchSchema = z.object({
  name: api.AgentNameSchema.optional(),
  description: text(LIMITS.description).optional(),
});
const DeploySchema = z.object({
  /** The validated agent definition (core validates it; the store keeps it as given). */
  definition: DefinitionSchema,
  note: text(LIMITS.shortText).optional(),
  createdBy: uuidSchema.optional(),
});

export function agentsRepository(ctx: ScopeContext) {
  const repo = {
    async create(input: z.input<typeof NewAgentSchema>): Promise<Agent> {
      const value = parse(NewAgentSchema, input, 'agent');
      const [row] = await ctx.tx
        .insert(agents)
        .values({
          workspaceId: ctx.workspaceId,
          ...value,
          ...(value.draft ? { draftUpdatedAt: sql`now()` } : {}),
        })
        .returning();
      return row!;
    },

    /** Replaces the draft definition (null clears it). */
    async saveDraft(agentId: string, draft: Record<string, unknown> | null): Promise<Agent> {
      const id = parseId(agentId, 'agent id');
      const value = parse(DefinitionSchema.nullable(), draft, 'draft');
      const [row] = await ctx.tx
        .update(agents)
        .set({
          draft: value,
          draftUpdatedAt: value ? sql`now()` : null,
          updatedAt: sql`now()`,
        })
        .where(eq(agents.id, id))
        .returning();
      if (!row) throw notFound('agent', id);
      return row;
    },

    async get(agentId: string): Promise<Agent | null> {
      const id = parseId(agentId, 'agent id');
      const [row] = await ctx.tx.select().from(agents).where(eq(agents.id, id));
      return row ?? null;
    },

    async getByName(name: string): Promise<Agent | null> {
      const value = parse(nameSchema, name, 'agent name');
      const [row] = await ctx.tx
        .select()
        .from(agents)
        .where(and(eq(agents.workspaceId, ctx.workspaceId), eq(agents.name, value)));
      return row ?? null;
    },

    /** Agents by name; archived ones only when asked. */
    async list(options: { includeArchived?: boolean; limit?: number } = {}): Promise<Agent[]> {
      const limit = parse(limitSchema.default(200), options.limit, 'limit');
      return ctx.tx
        .select()
        .from(agents)
        .where(
          and(
            eq(agents.workspaceId, ctx.workspaceId),
            options.includeArchived ? undefined : isNull(agents.archivedAt),
          ),
        )
        .orderBy(asc(agents.name))
        .limit(limit);
    },

    async update(agentId: string, patch: z.input<typeof AgentPatchSchema>): Promise<Agent> {
      const id = parseId(agentId, 'agent id');
      const value = parse(AgentPatchSchema, patch, 'agent patch');
      const [row] = await ctx.tx
        .update(agents)
        .set({ ...defined(value), updatedAt: sql`now()` })
        .where(eq(agents.id, id))
        .returning();
      if (!row) throw notFound('agent', id);
      return row;
    },

    async archive(agentId: string, archived = true): Promise<Agent> {
      const id = parseId(agentId, 'agent id');
      const [row] = await ctx.tx
        .update(agents)
        .set({ archivedAt: archived ? sql`now()` : null, updatedAt: sql`now()` })
        .where(eq(agents.id, id))
        .returning();
      if (!row) throw notFound('agent', id);
      return row;
    },

    /** Deletes the agent with its versions, conversations, runs and memories. */
    async delete(agentId: string): Promise<void> {
      const id = parseId(agentId, 'agent id');
      const rows = await ctx.tx
        .delete(agents)
        .where(eq(agents.id, id))
        .returning({ id: agents.id });
      if (rows.length === 0) throw notFound('agent', id);
      await ctx.audit({ action: 'agent.delete', targetType: 'agent', targetId: id });
    },

    /** Records a deploy: the next version number, the definition, and makes it current. */
    async deploy(agentId: string, input: z.input<typeof DeploySchema>): Promise<AgentVersion> {
      const id = parseId(agentId, 'agent id');
      const value = parse(DeploySchema, input, 'deploy');
      const definition = value.definition as Record<string, unknown>;
      // The agent row lock hands out version numbers one at a time.
      const [agent] = await ctx.tx.select().from(agents).where(eq(agents.id, id)).for('update');
      if (!agent) throw notFound('agent', id);
      const [last] = await ctx.tx
        .select({ version: agentVersions.version })
        .from(agentVersions)
        .where(and(eq(agentVersions.workspaceId, ctx.workspaceId), eq(agentVersions.agentId, id)))
        .orderBy(desc(agentVersions.version))
        .limit(1);
      const version = (last?.version ?? 0) + 1;
      const [row] = await ctx.tx
        .insert(agentVersions)
        .values({
          workspaceId: ctx.workspaceId,
          agentId: id,
          version,
          definition,
          definitionHash: createHash('sha256').update(canonicalJson(definition)).digest('hex'),
          note: value.note ?? null,
          createdBy: value.createdBy ?? null,
        })
        .returning();
      await ctx.tx
        .update(agents)
        .set({ currentVersion: version, updatedAt: sql`now()` })
        .where(eq(agents.id, id));
      await ctx.audit({
        action: 'agent.deploy',
        targetType: 'agent',
        targetId: id,
        metadata: { version },
      });
      return row!;
    },

    /**
     * Deploys unless the definition equals the current version's (same canonical hash): a
     * repeated deploy of the same agent.yaml creates nothing and says so.
     */
    async deployIfChanged(
      agentId: string,
      input: z.input<typeof DeploySchema>,
    ): Promise<{ version: AgentVersion; created: boolean }> {
      const id = parseId(agentId, 'agent id');
      const value = parse(DeploySchema, input, 'deploy');
      const hash = createHash('sha256').update(canonicalJson(value.definition)).digest('hex');
      // Lock the agent first, so two concurrent deploys of one definition make one version.
      const [agent] = await ctx.tx.select().from(agents).where(eq(agents.id, id)).for('update');
      if (!agent) throw notFound('agent', id);
      const current = agent.currentVersion ? await repo.getVersion(id, agent.currentVersion) : null;
      if (current && current.definitionHash === hash) return { version: current, created: false };
      return { version: await repo.deploy(id, value), created: true };
    },

    /** Newest first. */
    async listVersions(agentId: string, options: { limit?: number } = {}): Promise<AgentVersion[]> {
      const id = parseId(agentId, 'agent id');
      const limit = parse(limitSchema.default(100), options.limit, 'limit');
      return ctx.tx
        .select()
        .from(agentVersions)
        .where(and(eq(agentVersions.workspaceId, ctx.workspaceId), eq(agentVersions.agentId, id)))
        .orderBy(desc(agentVersions.version))
        .limit(limit);
    },

    /** One version, or the current one when `version` is omitted. */
    async getVersion(agentId: string, version?: number): Promise<AgentVersion | null> {
      const id = parseId(agentId, 'agent id');
      let wanted =
        version === undefined ? undefined : parse(z.number().int().positive(), version, 'version');
      if (wanted === undefined) {
        const agent = await repo.get(id);
        if (!agent?.currentVersion) return null;
        wanted = agent.currentVersion;
      }
      const [row] = await ctx.tx
        .select()
        .from(agentVersions)
        .where(
          and(
            eq(agentVersions.workspaceId, ctx.workspaceId),
            eq(agentVersions.agentId, id),
            eq(agentVersions.version, wanted),
          ),
        );
      return row ?? null;
    },
  };
  return repo;
}
