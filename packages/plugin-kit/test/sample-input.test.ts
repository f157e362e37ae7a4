import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sampleFromSchema } from '../src/index.ts';

const schemaOf = (type: z.ZodType) =>
  z.toJSONSchema(type, { target: 'draft-7', io: 'input' }) as Parameters<
    typeof sampleFromSchema
  >[0];

describe('sample arguments from a tool schema', () => {
  it('fills required fields with values the schema accepts, and leaves optional ones out', () => {
    const input = z.object({
      url: z.url(),
      email: z.email(),
      when: z.iso.datetime(),
      id: z.uuid(),
      name: z.string().min(12).max(20),
      kind: z.enum(['b', 'a']),
      count: z.number().int().min(3).max(9),
      ratio: z.number().max(-2),
      on: z.boolean(),
      tags: z.array(z.string()).min(2),
      nested: z.object({ deep: z.literal('x') }),
      either: z.union([z.number(), z.string()]),
      maybe: z.string().nullable(),
      optional: z.string().optional(),
      limit: z.number().default(7),
    });
    const sample = sampleFromSchema(schemaOf(input)) as Record<string, unknown>;
    expect(input.safeParse(sample).success).toBe(true);
    // A field with a default is optional for the caller, so it is left out too.
    expect(sample).not.toHaveProperty('optional');
    expect(sample).not.toHaveProperty('limit');
    expect(sample).toMatchObject({
      kind: 'b',
      count: 3,
      ratio: -2,
      tags: ['example', 'example'],
    });
    expect((sample.name as string).length).toBe(12);
  });

  it('takes the declared example over anything it would make', () => {
    const input = z.object({ city: z.string() }).meta({ examples: [{ city: 'Lyon' }] });
    expect(sampleFromSchema(schemaOf(input))).toEqual({ city: 'Lyon' });
  });

  it('cannot follow a pattern: the kit then asks for a declared example', () => {
    const input = z.object({ code: z.string().regex(/^[A-Z]{3}$/) });
    expect(input.safeParse(sampleFromSchema(schemaOf(input))).success).toBe(false);
  });
});
