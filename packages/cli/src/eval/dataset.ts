import { z } from 'zod';

/*
 * An eval dataset (docs/evals.md): a JSONL file, one case per line. A case has an `input`,
 * optionally an `expected` answer (a bare string is scored with `contains`), `criteria` (the
 * scorers below) and `tags`.
 */

const text = z.string().min(1).max(100_000);

export const CriterionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('exact'), value: z.string() }),
  z.strictObject({
    type: z.literal('contains'),
    value: z.string().min(1),
    caseSensitive: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('regex'),
    pattern: z.string().min(1),
    flags: z.string().optional(),
  }),
  /** The answer, parsed as JSON, matches a JSON Schema. */
  z.strictObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) }),
  /** The run called this tool (with arguments containing `args`, when given). */
  z.strictObject({
    type: z.literal('tool_called'),
    name: z.string().min(1),
    args: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({ type: z.literal('max_steps'), max: z.number().int().min(1) }),
  z.strictObject({ type: z.literal('latency'), maxMs: z.number().positive() }),
  /** A cost budget: dollars (when the provider reports them) and/or tokens. */
  z.strictObject({
    type: z.literal('cost'),
    maxUsd: z.number().nonnegative().optional(),
    maxTokens: z.number().int().positive().optional(),
  }),
  /** A model grades the answer against the rubric (0 to 1); `--judge` names the model. */
  z.strictObject({
    type: z.literal('judge'),
    rubric: text,
    /** `provider/model`; default: the `--judge` option. */
    model: z.string().min(3).optional(),
  }),
]);
export type Criterion = z.infer<typeof CriterionSchema>;

export const EvalCaseSchema = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  input: text,
  /** A string: the answer contains it (case-insensitive). */
  expected: z.string().min(1).optional(),
  criteria: z.array(CriterionSchema).max(50).default([]),
  tags: z.array(z.string().min(1).max(100)).max(50).default([]),
});
export interface EvalCase extends z.infer<typeof EvalCaseSchema> {
  id: string;
}

/** A line of a dataset that is not a valid case. */
export class DatasetError extends Error {}

/** Reads a JSONL dataset: each non-blank line a case; ids default to line numbers. */
export function parseDataset(jsonl: string): EvalCase[] {
  const cases: EvalCase[] = [];
  jsonl.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const where = `line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DatasetError(`${where}: not JSON`);
    }
    const parsed = EvalCaseSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DatasetError(`${where}: ${issue.path.join('.') || '(case)'}: ${issue.message}`);
    }
    const criteria = parsed.data.criteria.length
      ? parsed.data.criteria
      : parsed.data.expected
        ? [{ type: 'contains' as const, value: parsed.data.expected, caseSensitive: false }]
        : [];
    if (criteria.length === 0)
      throw new DatasetError(`${where}: give \`expected\` or \`criteria\``);
    cases.push({ ...parsed.data, id: parsed.data.id ?? String(index + 1), criteria });
  });
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new DatasetError(`case id ${c.id} appears twice`);
    seen.add(c.id);
  }
  if (cases.length === 0) throw new DatasetError('the dataset has no cases');
  return cases;
}
