import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '../db.ts';
import { EmbeddingMismatchError } from '../errors.ts';
import { agents, memories } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { LIMITS, limitSchema, parse, parseId, text } from '../validation.ts';
import { notFound } from './common.ts';
import { type Memory, memoryColumns } from './memory-shapes.ts';

/*
 * A memory's embedding and its agent's: each agent fixes one embedding size (and model) on
 * first use, every embedding must match it, and moving to another model clears them all
 * (full-text search keeps working meanwhile) until they are re-embedded.
 */

export function vectorLiteral(values: number[]): string {
  return `[${values.join(',')}]`;
}

/**
 * Checks an embedding against the agent's fixed size and model, fixing them on first use.
 * The agent row is share-locked so a concurrent resetEmbeddings() waits for this write.
 */
export async function ensureAgentEmbedding(
  tx: Tx,
  agentId: string,
  dimensions: number,
  model: string | undefined,
) {
  const [agent] = await tx
    .select({ dimensions: agents.embeddingDimensions, model: agents.embeddingModel })
    .from(agents)
    .where(eq(agents.id, agentId))
    .for('share');
  if (!agent) throw notFound('agent', agentId);
  let current = agent;
  if (current.dimensions === null) {
    const [updated] = await tx
      .update(agents)
      .set({
        embeddingDimensions: dimensions,
        embeddingModel: model ?? null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(agents.id, agentId), isNull(agents.embeddingDimensions)))
      .returning({ dimensions: agents.embeddingDimensions, model: agents.embeddingModel });
    current = updated ?? current;
  }
  checkEmbedding(agentId, current, dimensions, model);
}

export function checkEmbedding(
  agentId: string,
  agent: { dimensions: number | null; model: string | null },
  dimensions: number,
  model: string | undefined,
) {
  if (agent.dimensions === null) return;
  const modelDiffers = model !== undefined && agent.model !== null && model !== agent.model;
  if (agent.dimensions !== dimensions || modelDiffers) {
    throw new EmbeddingMismatchError(
      agentId,
      { dimensions: agent.dimensions, model: agent.model },
      { dimensions, model: model ?? null },
    );
  }
}

/**
 * The migration path to another embedding model: clears every embedding of the agent and
 * fixes the new size (and model). Full-text search keeps working; re-embed the memories
 * listed by listMissingEmbeddings() with setEmbedding(). Returns how many were cleared.
 */
export async function resetEmbeddings(
  ctx: ScopeContext,
  agentId: string,
  next: { dimensions: number; model?: string },
): Promise<number> {
  const id = parseId(agentId, 'agent id');
  const value = parse(
    z.object({
      dimensions: z.number().int().min(1).max(LIMITS.embeddingDimensions),
      model: text(LIMITS.name, 1).optional(),
    }),
    next,
    'embedding settings',
  );
  const [agent] = await ctx.tx
    .update(agents)
    .set({
      embeddingDimensions: value.dimensions,
      embeddingModel: value.model ?? null,
      updatedAt: sql`now()`,
    })
    .where(eq(agents.id, id))
    .returning({ id: agents.id });
  if (!agent) throw notFound('agent', id);
  const cleared = await ctx.tx
    .update(memories)
    .set({ embedding: null, embeddingDimensions: null, updatedAt: sql`now()` })
    .where(
      and(
        eq(memories.workspaceId, ctx.workspaceId),
        eq(memories.agentId, id),
        sql`${memories.embedding} is not null`,
      ),
    )
    .returning({ id: memories.id });
  return cleared.length;
}

/** Memories of the agent without an embedding, oldest first. */
export async function listMissingEmbeddings(
  ctx: ScopeContext,
  agentId: string,
  options: { limit?: number } = {},
): Promise<Memory[]> {
  const id = parseId(agentId, 'agent id');
  const limit = parse(limitSchema.default(100), options.limit, 'limit');
  return ctx.tx
    .select(memoryColumns)
    .from(memories)
    .where(
      and(
        eq(memories.workspaceId, ctx.workspaceId),
        eq(memories.agentId, id),
        isNull(memories.embedding),
      ),
    )
    .orderBy(asc(memories.createdAt), asc(memories.id))
    .limit(limit);
}
