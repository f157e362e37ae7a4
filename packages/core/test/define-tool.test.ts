import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, toModelTool } from '../src/tools/define-tool.ts';

describe('toModelTool', () => {
  const tool = defineTool({
    name: 'calculator',
    description: 'Evaluates arithmetic.',
    input: z.object({ expression: z.string().max(200), precision: z.number().int().default(2) }),
    run: () => 0,
  });

  it("gives zod's JSON Schema of the input, as the model sees it", () => {
    const expected = z.toJSONSchema(tool.input, { target: 'draft-7', io: 'input' }) as Record<
      string,
      unknown
    >;
    delete expected.$schema;
    expect(toModelTool(tool)).toEqual({
      name: 'calculator',
      description: 'Evaluates arithmetic.',
      parameters: expected,
    });
  });

  it('converts a schema once and shares it, frozen, with every run', () => {
    const first = toModelTool(tool).parameters;
    expect(toModelTool(tool).parameters).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen((first.properties as Record<string, object>).expression)).toBe(true);
    expect(() => {
      (first as Record<string, unknown>).additionalProperties = true;
    }).toThrow(TypeError);
  });
});
