import { z } from 'zod';

/*
 * Evals (docs/evals.md): `parley eval` runs a dataset's cases against an agent version, scores
 * them, and stores the result here; results of one dataset compare case by case.
 */

const uuid = z.uuid();

/** One scorer's verdict on one case. */
export const EvalScoreSchema = z.object({
  /** `contains`, `regex`, `judge`, … */
  scorer: z.string().min(1).max(100),
  score: z.number().min(0).max(1),
  /** Why (what was missing, the judge's reason). */
  detail: z.string().max(2_000).optional(),
});
export type EvalScore = z.infer<typeof EvalScoreSchema>;

export const EvalCaseResultSchema = z.object({
  /** The case's `id` in the dataset, or its line number. */
  id: z.string().min(1).max(200),
  input: z.string().max(10_000),
  tags: z.array(z.string().max(100)).max(50).default([]),
  /** The mean of its scores. */
  score: z.number().min(0).max(1),
  scores: z.array(EvalScoreSchema).max(50),
  /** What the agent answered (clipped). */
  output: z.string().max(10_000),
  runId: uuid.nullable(),
  durationMs: z.number().nonnegative().nullable(),
  /** Set when the case could not run (the run failed to start, or ended with an error). */
  error: z.string().max(2_000).optional(),
});
export type EvalCaseResult = z.infer<typeof EvalCaseResultSchema>;

export const CreateEvalResultRequestSchema = z.object({
  /** The dataset's name: results of the same name compare. */
  dataset: z.string().min(1).max(200),
  /** The version that ran, or `draft`. */
  version: z.union([z.number().int().positive(), z.literal('draft')]),
  meanScore: z.number().min(0).max(1),
  cases: z.array(EvalCaseResultSchema).min(1).max(10_000),
});
export type CreateEvalResultRequest = z.infer<typeof CreateEvalResultRequestSchema>;

export const EvalResultSchema = z.object({
  id: uuid,
  agentId: uuid,
  agentVersionId: uuid.nullable(),
  /** `v3`, or `draft`. */
  versionLabel: z.string(),
  dataset: z.string(),
  caseCount: z.number().int(),
  meanScore: z.number(),
  cases: z.array(EvalCaseResultSchema),
  createdAt: z.iso.datetime({ offset: true }),
});
export type EvalResult = z.infer<typeof EvalResultSchema>;
