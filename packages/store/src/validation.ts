import { z } from 'zod';
import { StoreError } from './errors.ts';

/*
 * Input limits. They keep one bad caller from filling the database and give a typed error
 * instead of a driver error. PostgreSQL cannot store NUL in text or jsonb, so it is refused.
 */
export const LIMITS = {
  name: 200,
  shortText: 2_000,
  description: 10_000,
  memoryContent: 32_000,
  secretValue: 16_384,
  /** Serialized JSON, in UTF-16 code units (close enough to bytes for a limit). */
  jsonBytes: 1_000_000,
  eventBytes: 256_000,
  eventsPerAppend: 5_000,
  listLimit: 1_000,
  embeddingDimensions: 16_000,
} as const;

const noNul = (s: string) => !s.includes('\u0000');

/** Text without NUL characters, at most `max` characters. */
export function text(max: number, min = 0) {
  return z.string().min(min).max(max).refine(noNul, 'must not contain NUL characters');
}

export const uuidSchema = z.guid('must be a UUID');
export const nameSchema = text(LIMITS.name, 1);
export const ipSchema = z.union([z.ipv4(), z.ipv6()]);
export const limitSchema = z.number().int().min(1).max(LIMITS.listLimit);

/** A refinement: the value serializes to at most `maxChars` of JSON, without NUL characters. */
export function jsonLimit(maxChars: number) {
  return (value: unknown, ctx: z.RefinementCtx) => {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined;
    }
    if (json === undefined) ctx.addIssue({ code: 'custom', message: 'must be JSON-serializable' });
    else if (json.length > maxChars)
      ctx.addIssue({ code: 'custom', message: `is larger than ${maxChars} characters of JSON` });
    else if (json.includes('\\u0000'))
      ctx.addIssue({ code: 'custom', message: 'must not contain NUL characters' });
  };
}

export const metadataSchema = z.record(z.string(), z.unknown()).superRefine(jsonLimit(64_000));

/** Validates `value` or throws `store.invalid_input` listing every failed field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const first = issues[0];
  throw new StoreError(
    'store.invalid_input',
    `Invalid ${what}: ${first?.path ? `${first.path} ` : ''}${first?.message ?? 'invalid'}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}.`,
    { issues },
  );
}

export function parseId(value: unknown, what: string): string {
  return parse(uuidSchema, value, what);
}
