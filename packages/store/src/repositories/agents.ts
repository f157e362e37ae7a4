import { api } from '@parley/protocol';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { agents, type agentVersions } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import {
  LIMITS,
  limitSchema,
  nameSchema,
  parse,
  parseId,
  text,
  uuidSchema,
} from '../validation.ts';
import { agentVersionsRepository, DefinitionSchema } from './agent-versions.ts';
import { defined, notFound } from './common.ts';

export type Agent = typeof agents.$inferSelect;
export type AgentVersion = typeof agentVersions.$inferSelect;

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

    ...agentVersionsRepository(ctx),
  };
  return repo;
}
