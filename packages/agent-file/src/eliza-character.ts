import { z } from 'zod';

/*
 * The ElizaOS character file, as far as the importer reads it. Written from the documented
 * field list (https://docs.elizaos.ai/agents/character-interface and the 0.x character format),
 * covering both the 0.x shape (`user`, `lore`, `modelProvider`, `clients`) and the 1.x shape
 * (`name` in examples, model plugins, `knowledge` objects). Deliberately loose: unknown fields
 * pass through (the importer turns them into warnings) and optional fields accept null, which
 * hand-edited files contain.
 */

const textOrList = z.union([z.string(), z.array(z.string())], {
  error: 'expected text or a list of text',
});

const ElizaMessageSchema = z.looseObject({
  /** 0.x speaker: the character's name, `{{user1}}`, `{{agentName}}`, … */
  user: z.string().nullish(),
  /** 1.x speaker: the character's name, `{{name1}}`, … */
  name: z.string().nullish(),
  content: z.looseObject({
    text: z.string().nullish(),
    action: z.string().nullish(),
    actions: z.array(z.string()).nullish(),
  }),
});

const KnowledgeItemSchema = z.union(
  [
    z.string(),
    z.looseObject({ path: z.string(), shared: z.boolean().nullish() }),
    z.looseObject({ directory: z.string(), shared: z.boolean().nullish() }),
  ],
  { error: 'expected text, { path } or { directory }' },
);

const PluginItemSchema = z.union([z.string(), z.looseObject({ name: z.string() })], {
  error: 'expected an npm package name or an object with a name',
});

export const ElizaCharacterSchema = z.looseObject({
  name: z.string(),
  username: z.string().nullish(),
  system: z.string().nullish(),
  bio: textOrList.nullish(),
  lore: textOrList.nullish(),
  messageExamples: z.array(z.array(ElizaMessageSchema)).nullish(),
  postExamples: z.array(z.string()).nullish(),
  topics: z.array(z.string()).nullish(),
  adjectives: z.array(z.string()).nullish(),
  knowledge: z.array(KnowledgeItemSchema).nullish(),
  style: z
    .looseObject({
      all: textOrList.nullish(),
      chat: textOrList.nullish(),
      post: textOrList.nullish(),
    })
    .nullish(),
  modelProvider: z.string().nullish(),
  settings: z
    .looseObject({
      model: z.string().nullish(),
      modelProvider: z.string().nullish(),
      secrets: z.record(z.string(), z.unknown()).nullish(),
      modelConfig: z
        .looseObject({
          temperature: z.unknown().optional(),
          maxOutputTokens: z.unknown().optional(),
        })
        .nullish(),
      voice: z.unknown().optional(),
    })
    .nullish(),
  /** 1.x also accepts secrets at the top level. */
  secrets: z.record(z.string(), z.unknown()).nullish(),
  plugins: z.array(PluginItemSchema).nullish(),
  clients: z.array(z.string()).nullish(),
});

export type ElizaCharacter = z.infer<typeof ElizaCharacterSchema>;
export type ElizaMessage = z.infer<typeof ElizaMessageSchema>;

/** Fields the schema names, so everything else can be reported as not imported. */
export const knownElizaFields: readonly string[] = Object.keys(ElizaCharacterSchema.shape);

/** Reads a `string | string[]` field as lines. */
export function lines(value: string | string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return (typeof value === 'string' ? [value] : value).map((line) => line.trim()).filter(Boolean);
}
