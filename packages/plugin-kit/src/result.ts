import { z } from 'zod';
import { printJson } from './json-format.ts';

/** The version of the result format below; bumped on any change a reader could trip over. */
export const KIT_RESULT_VERSION = 1 as const;

/** What a check looked at: the order `parley plugin test` prints them in. */
export const CHECK_AREAS = [
  'manifest',
  'tools',
  'sample-calls',
  'lifecycle',
  'access',
  'isolation',
] as const;
export type CheckArea = (typeof CHECK_AREAS)[number];

export const KitCheckSchema = z.object({
  /** Stable id, e.g. `manifest.core-range`, `tools.schema:calculator`, `access.env`. */
  id: z.string().min(1),
  area: z.enum(CHECK_AREAS),
  status: z.enum(['pass', 'fail', 'skip']),
  /** One line a person can act on: what was found, and on failure what to change. */
  message: z.string(),
});
export type KitCheck = z.infer<typeof KitCheckSchema>;

export const KitTargetSchema = z.object({
  /** The @parley/core version the plugin was checked against. */
  core: z.string(),
  /** The plugin contract that core speaks. */
  contract: z.number().int().nonnegative(),
});
export type KitTarget = z.infer<typeof KitTargetSchema>;

/** The machine-readable result of one kit run (`parley plugin test --json`). */
export const KitResultSchema = z.object({
  kitResult: z.literal(KIT_RESULT_VERSION),
  plugin: z.object({
    /** From the plugin definition, else package.json, else null when neither could be read. */
    name: z.string().nullable(),
    version: z.string().nullable(),
    dir: z.string(),
  }),
  target: KitTargetSchema,
  ok: z.boolean(),
  checks: z.array(KitCheckSchema),
});
export type KitResult = z.infer<typeof KitResultSchema>;

export const pass = (area: CheckArea, id: string, message: string): KitCheck => ({
  id,
  area,
  status: 'pass',
  message,
});
export const fail = (area: CheckArea, id: string, message: string): KitCheck => ({
  id,
  area,
  status: 'fail',
  message,
});
export const skip = (area: CheckArea, id: string, message: string): KitCheck => ({
  id,
  area,
  status: 'skip',
  message,
});

/** The result format as JSON Schema, for readers outside TypeScript (docs/plugins/kit-result.schema.json). */
export function kitResultJsonSchema(): string {
  const schema = z.toJSONSchema(KitResultSchema, { target: 'draft-2020-12' });
  return `${printJson({ ...schema, title: `Parley plugin kit result, version ${KIT_RESULT_VERSION}` })}\n`;
}
