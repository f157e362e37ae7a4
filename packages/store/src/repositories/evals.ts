import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { evalResults } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { LIMITS, limitSchema, parse, text, uuidSchema } from '../validation.ts';

/** One eval of a dataset against an agent version (docs/evals.md). */
export type EvalResult = typeof evalResults.$inferSelect;

const NewEvalResultSchema = z.object({
  agentId: uuidSchema,
  /** Absent: the draft ran. */
  agentVersionId: uuidSchema.optional(),
  versionLabel: text(LIMITS.name, 1),
  dataset: text(LIMITS.name, 1),
  meanScore: z.number().min(0).max(1),
  cases: z.array(z.record(z.string(), z.unknown())).max(10_000),
  createdBy: uuidSchema.optional(),
});

/** Eval results: written once, read newest first to compare and to show side by side. */
export function evalsRepository(ctx: ScopeContext) {
  return {
    async create(input: z.input<typeof NewEvalResultSchema>): Promise<EvalResult> {
      const value = parse(NewEvalResultSchema, input, 'eval result');
      const [row] = await ctx.tx
        .insert(evalResults)
        .values({ workspaceId: ctx.workspaceId, ...value, caseCount: value.cases.length })
        .returning();
      return row!;
    },

    /** An agent's results, newest first; of one dataset when named. */
    async list(options: {
      agentId: string;
      dataset?: string;
      limit?: number;
    }): Promise<EvalResult[]> {
      const value = parse(
        z.object({
          agentId: uuidSchema,
          dataset: text(LIMITS.name, 1).optional(),
          limit: limitSchema.default(20),
        }),
        options,
        'list options',
      );
      return ctx.tx
        .select()
        .from(evalResults)
        .where(
          and(
            eq(evalResults.workspaceId, ctx.workspaceId),
            eq(evalResults.agentId, value.agentId),
            value.dataset ? eq(evalResults.dataset, value.dataset) : undefined,
          ),
        )
        .orderBy(desc(evalResults.createdAt), desc(evalResults.id))
        .limit(value.limit);
    },
  };
}
