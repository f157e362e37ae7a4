import { z } from 'zod';
import { editDistance } from './distance.ts';

/*
 * Objects whose unknown keys are refused one by one, each at its own path and with the closest
 * valid field suggested ("unknown field `officialLinks`: did you mean `canonicalLinks`?").
 * zod's strict objects report all unknown keys as one issue at the object's own path, which
 * tells a person writing a config from the docs' vocabulary nothing about what to write.
 */

/** Words people use for the same thing; a key rewritten with one of these may be a field. */
const SYNONYMS: Record<string, string[]> = {
  official: ['canonical'],
  canonical: ['official'],
  domain: ['domains'],
  domains: ['domain'],
  link: ['links'],
  links: ['link', 'migrationlink'],
  urls: ['links'],
  url: ['link'],
  brands: ['brandtokens'],
  brand: ['brandtokens'],
  tokens: ['brandtokens'],
  blacklist: ['blocklist'],
  denylist: ['blocklist'],
  blocked: ['blocklist'],
  allowlist: ['canonicaldomains', 'officialdomains'],
  accounts: ['handles'],
  socials: ['handles'],
  name: ['title'],
};

const words = (key: string) =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_-]+/)
    .filter(Boolean);

/** The valid field a mistyped or differently named key most likely meant, if any. */
export function closestField(key: string, fields: readonly string[]): string | undefined {
  const lower = new Map(fields.map((field) => [field.toLowerCase(), field]));
  const asked = words(key);
  // A synonym for one word: officialLinks → canonicalLinks, blacklist → blocklist.
  for (let i = 0; i < asked.length; i++)
    for (const other of SYNONYMS[asked[i]!] ?? []) {
      const joined = [...asked.slice(0, i), other, ...asked.slice(i + 1)].join('');
      const hit = lower.get(joined) ?? (asked.length === 1 ? lower.get(other) : undefined);
      if (hit) return hit;
    }
  // A typo: canonicalDomain, brandtokens, blocklsit.
  const limit = Math.max(1, Math.floor(key.length / 4));
  let best: { field: string; distance: number } | undefined;
  for (const field of fields) {
    const distance = editDistance(key.toLowerCase(), field.toLowerCase(), limit);
    if (distance <= limit && (!best || distance < best.distance)) best = { field, distance };
  }
  if (best) return best.field;
  // A shared word: migrationLink → canonicalMigrationLink.
  const shared = fields
    .map((field) => ({ field, n: words(field).filter((w) => asked.includes(w)).length }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n);
  return shared[0]?.field;
}

/** The message for an unknown key: the key, and the closest field or the valid ones. */
export function unknownFieldMessage(key: string, fields: readonly string[]): string {
  const closest = closestField(key, fields);
  return closest
    ? `unknown field \`${key}\`: did you mean \`${closest}\`?`
    : `unknown field \`${key}\`: the fields are ${fields.map((f) => `\`${f}\``).join(', ')}`;
}

/**
 * An object schema that refuses unknown keys one issue each (path = the key), suggesting the
 * closest field, beside whatever else is wrong with the known fields. Documented as
 * `additionalProperties: false` in JSON Schema and OpenAPI.
 */
export function strictFields<Shape extends z.ZodRawShape>(shape: Shape) {
  const fields = Object.keys(shape);
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  return z
    .looseObject(shape)
    .meta({ additionalProperties: false })
    .superRefine(
      (value, ctx) => {
        for (const key of Object.keys(value))
          if (!Object.hasOwn(shape, key))
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: unknownFieldMessage(key, fields),
              input: value[key],
            });
      },
      // Also when a known field failed: every mistake at once.
      { when: (payload) => isObject(payload.value) },
    );
}
