/** A JSON Schema node as `z.toJSONSchema` writes it (draft-7, input side). */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  [key: string]: unknown;
};

const STRING_FORMATS: Record<string, string> = {
  uri: 'https://example.com/',
  url: 'https://example.com/',
  email: 'user@example.com',
  'date-time': '2025-01-01T00:00:00Z',
  date: '2025-01-01',
  time: '12:00:00',
  uuid: '00000000-0000-4000-8000-000000000000',
  ipv4: '192.0.2.1',
  hostname: 'example.com',
};

function sampleString(schema: JsonSchema): string {
  let text = (schema.format && STRING_FORMATS[schema.format]) || 'example';
  if (schema.minLength !== undefined && text.length < schema.minLength)
    text = text.padEnd(schema.minLength, 'x');
  if (schema.maxLength !== undefined) text = text.slice(0, schema.maxLength);
  return text;
}

function sampleNumber(schema: JsonSchema, integer: boolean): number {
  let value = schema.minimum ?? (schema.exclusiveMinimum ?? 0) + 1;
  if (schema.maximum !== undefined) value = Math.min(value, schema.maximum);
  return integer ? Math.ceil(value) : value;
}

/**
 * Arguments a tool accepts, built from its JSON Schema: declared examples and defaults
 * first, else the smallest value that fits each required field. The caller validates the
 * result with the tool's own schema (a pattern, for one, is not followed here).
 */
export function sampleFromSchema(schema: JsonSchema, depth = 0): unknown {
  if (depth > 8) return null;
  if (schema.examples?.length) return schema.examples[0];
  if ('default' in schema) return schema.default;
  if ('const' in schema) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  const alternative = schema.anyOf?.[0] ?? schema.oneOf?.[0] ?? schema.allOf?.[0];
  if (alternative) return sampleFromSchema(alternative, depth + 1);
  const type = Array.isArray(schema.type)
    ? (schema.type.find((t) => t !== 'null') ?? 'null')
    : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) {
        const property = schema.properties?.[key];
        out[key] = property ? sampleFromSchema(property, depth + 1) : null;
      }
      return out;
    }
    case 'array': {
      const items = Array.isArray(schema.items) ? schema.items[0] : schema.items;
      return Array.from({ length: schema.minItems ?? 0 }, () =>
        items ? sampleFromSchema(items, depth + 1) : null,
      );
    }
    case 'string':
      return sampleString(schema);
    case 'integer':
      return sampleNumber(schema, true);
    case 'number':
      return sampleNumber(schema, false);
    case 'boolean':
      return true;
    default:
      return null;
  }
}
