import { createHash } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { agents, agentVersions } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { jsonLimit, LIMITS, limitSchema, parse, parseId, text, uuidSchema } from '../validation.ts';
import type { AgentVersion } from './agents.ts';
import { canonicalJson, notFound } from './common.ts';

/* An agent's deployed versions: numbered one at a time, each with its definition's hash. */

/** An agent definition as stored: any JSON object within the size limit. */
export const DefinitionSchema = z
  .record(z.string(), z.unknown())
  .superRefine(jsonLimit(LIMITS.jsonBytes));

const DeploySchema = z.object({
  /** The validated agent definition (core validates it; the store keeps it as given). */
  definition: DefinitionSchema,
  note: text(LIMITS.shortText).optional(),
  createdBy: uuidSchema.optional(),
});

export function agentVersionsRepository(ctx: ScopeContext) {
  const repo = {
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
        const [agent] = await ctx.tx
          .select({ currentVersion: agents.currentVersion })
          .from(agents)
          .where(eq(agents.id, id));
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
