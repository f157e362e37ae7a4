import {
  type AgentDefinition,
  type AgentDefinitionInput,
  AgentDefinitionSchema,
} from '@parley/core';
import type { z } from 'zod';
import { ElizaCharacterError } from './agent-errors.ts';
import { describeZodIssue } from './definition-issues.ts';
import { elizaChannels } from './eliza-channels.ts';
import {
  type ElizaCharacter,
  ElizaCharacterSchema,
  knownElizaFields,
  lines,
} from './eliza-character.ts';
import { chooseElizaModel, type ElizaModelChoice, modelPlugins, ownValue } from './eliza-model.ts';
import {
  type FoundSecret,
  findSecrets,
  findUndeclaredKeys,
  looksLikeSecretName,
  redactedMarker,
  redactSecretValues,
  secretValues,
} from './eliza-secrets.ts';
import { formatPath } from './source-positions.ts';

export interface SecretToSet {
  /** The workspace secret name, e.g. OPENAI_API_KEY. */
  name: string;
  /** Why it is needed and where it was found; never the value. */
  reason: string;
}

/**
 * The character's `knowledge`, for a knowledge base rather than the instructions: its texts,
 * and the files and directories it names (relative to the character file; the importer reads
 * none of them: the caller does, with the user's consent).
 */
export interface ElizaKnowledge {
  texts: string[];
  sources: { kind: 'file' | 'directory'; path: string; index: number }[];
}

export interface ElizaImportResult {
  agent: AgentDefinition;
  knowledge: ElizaKnowledge;
  /** Secrets the character used. Their values are not in `agent`: the user sets them. */
  secretsToSet: SecretToSet[];
  /** What was not imported, or was changed, and what to do about it. */
  warnings: string[];
}

const instructionsLimit = 50_000;
const descriptionLimit = 500;

/**
 * Turns an ElizaOS character (the parsed character.json) into a Parley agent definition.
 * Never copies a secret value: every secret is listed in `secretsToSet` for the user to set.
 * Everything without a Parley equivalent (ElizaOS plugins, clients without a channel, post examples, voice)
 * becomes a warning rather than an error. Throws `ElizaCharacterError` when the input is not a
 * character at all (not an object, no usable name, a field of the wrong type).
 */
export function importElizaCharacter(json: unknown): ElizaImportResult {
  const character = parseCharacter(json);
  const warnings: string[] = [];
  const displayName = character.name.trim();
  const name = agentName(character, warnings);
  const fillNames = (text: string) => text.replace(/\{\{(?:agentName|char)\}\}/g, displayName);

  const pluginNames = (character.plugins ?? []).map((plugin) =>
    typeof plugin === 'string' ? plugin : plugin.name,
  );
  const modelChoice = chooseElizaModel(character, pluginNames);
  warnings.push(...modelChoice.warnings);

  const secrets = findSecrets(character);
  const secretsToSet = describeSecrets(secrets, modelChoice, character);
  // Clients become channels; their secrets' reasons say so.
  const channels = elizaChannels(character.clients, secretsToSet);
  // describeSecrets always lists the model's key, found in the file or not, so name it here.
  const apiKeySecret = modelChoice.keySecret;

  const bio = [...lines(character.bio), ...lines(character.lore)].map(fillNames);
  const agent: AgentDefinitionInput = {
    name,
    ...(bio[0] ? { description: truncate(bio[0], descriptionLimit) } : {}),
    instructions: buildInstructions(character, displayName).map(fillNames).join('\n\n'),
    // Lore goes to bio only: the run loop already puts bio into the system prompt.
    bio,
    style: [...lines(character.style?.all), ...lines(character.style?.chat)].map(fillNames),
    topics: lines(character.topics),
    examples: convertExamples(character, fillNames, warnings),
    model: { ...modelChoice.model, ...(apiKeySecret ? { apiKeySecret } : {}) },
    ...(channels.channels.length > 0 ? { channels: channels.channels } : {}),
  };
  if (agent.instructions.length > instructionsLimit) {
    agent.instructions = agent.instructions.slice(0, instructionsLimit);
    warnings.push(
      `the instructions were cut to ${instructionsLimit} characters: shorten the system prompt`,
    );
  }
  warnings.push(...pluginWarnings(pluginNames, modelChoice));
  warnings.push(
    ...notImportedWarnings(character, json as Record<string, unknown>, modelChoice.settingsUsed),
  );
  warnings.push(...channels.warnings);

  const knowledge = elizaKnowledge(character, fillNames);
  const redacted = redactSecretValues({ agent, warnings, knowledge }, secretValues(secrets));
  for (const path of redacted.redactedAt) {
    const where = path.startsWith('agent.')
      ? path.slice('agent.'.length)
      : path.startsWith('knowledge.')
        ? 'the knowledge'
        : 'a warning';
    redacted.value.warnings.push(
      `a secret value appeared in ${where} and was replaced with "${redactedMarker}"`,
    );
  }
  const cleaned = removeUndeclaredKeys(json, secrets, redacted.value);
  const validated = AgentDefinitionSchema.safeParse(cleaned.agent);
  if (!validated.success) throw new ElizaCharacterError(toIssues(validated.error, cleaned.agent));
  return {
    agent: validated.data,
    knowledge: cleaned.knowledge,
    secretsToSet,
    warnings: cleaned.warnings,
  };
}

/**
 * A key-shaped text the character never declared as a secret (an `sk-…` in `bio`, a bot token
 * in an example) is replaced like a declared one; the warning names the field and the kind of
 * key, never the value, and asks for the key to be revoked: the character file exposed it.
 */
function removeUndeclaredKeys<R extends { agent: AgentDefinitionInput; warnings: string[] }>(
  json: unknown,
  secrets: FoundSecret[],
  result: R,
): R {
  const keys = findUndeclaredKeys(json, secrets);
  if (keys.length === 0) return result;
  const values = [...new Set(keys.map((key) => key.value))].sort((a, b) => b.length - a.length);
  const cleaned = redactSecretValues(result, values).value;
  const seen = new Set<string>();
  for (const { path, kind } of keys) {
    const warning = `${path} holds what looks like ${kind}, which is not among the character's secrets: it was not imported (replaced with "${redactedMarker}"); if it is a real key, revoke it, since the character file exposed it`;
    if (!seen.has(warning)) cleaned.warnings.push(warning);
    seen.add(warning);
  }
  return cleaned;
}

function parseCharacter(json: unknown): ElizaCharacter {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    const got =
      json === null
        ? 'null'
        : Array.isArray(json)
          ? 'a list'
          : typeof json === 'string'
            ? 'text (parse the file with JSON.parse first)'
            : typeof json;
    throw new ElizaCharacterError([
      { path: '', message: `expected a character object (the parsed character.json), got ${got}` },
    ]);
  }
  const result = ElizaCharacterSchema.safeParse(json);
  if (!result.success) throw new ElizaCharacterError(toIssues(result.error, json));
  return result.data;
}

function toIssues(error: z.ZodError, input: unknown) {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: describeZodIssue(issue, input),
  }));
}

/** Parley names allow letters, digits, spaces, `-`, `_`: "Élise ✨" becomes "Elise". */
function agentName(character: ElizaCharacter, warnings: string[]): string {
  for (const candidate of [character.name, character.username ?? '']) {
    const cleaned = candidate
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/[^a-z0-9\-_ ]+/gi, ' ')
      .replace(/\s+/g, ' ')
      .replace(/^[^a-z0-9]+/i, '')
      .slice(0, 64)
      .trimEnd();
    if (cleaned === '') continue;
    if (cleaned !== candidate) {
      warnings.push(
        `name "${candidate}" became "${cleaned}": Parley agent names use letters, digits, spaces, "-" and "_"`,
      );
    }
    return cleaned;
  }
  throw new ElizaCharacterError([
    { path: 'name', message: 'needs letters or digits to make a Parley agent name' },
  ]);
}

/** The character's knowledge texts and the files and directories it names, in order. */
function elizaKnowledge(
  character: ElizaCharacter,
  fillNames: (text: string) => string,
): ElizaKnowledge {
  const knowledge: ElizaKnowledge = { texts: [], sources: [] };
  (character.knowledge ?? []).forEach((item, index) => {
    if (typeof item === 'string') {
      if (item.trim()) knowledge.texts.push(fillNames(item.trim()));
    } else if ('path' in item)
      knowledge.sources.push({ kind: 'file', path: String(item.path), index });
    else knowledge.sources.push({ kind: 'directory', path: String(item.directory), index });
  });
  return knowledge;
}

function buildInstructions(character: ElizaCharacter, displayName: string) {
  const sections = [
    character.system?.trim() ||
      `You are ${displayName}. Stay in character: answer as ${displayName} would, in your own voice, drawing on your background and style.`,
  ];
  const adjectives = lines(character.adjectives);
  if (adjectives.length > 0) sections.push(`Personality: ${adjectives.join(', ')}.`);

  return sections;
}

/**
 * ElizaOS examples name their speakers: the character (by name, `{{agentName}}` or `{{char}}`)
 * is the assistant, anyone else (`{{user1}}`, `{{name1}}`, another name) is the user.
 */
function convertExamples(
  character: ElizaCharacter,
  fillNames: (text: string) => string,
  warnings: string[],
): AgentDefinitionInput['examples'] {
  const normalize = (speaker: string) => speaker.trim().toLowerCase();
  const agentSpeakers = new Set(
    [character.name, character.username ?? '', '{{agentName}}', '{{char}}']
      .filter(Boolean)
      .map(normalize),
  );
  const actions = new Set<string>();
  let withoutText = 0;
  const examples = (character.messageExamples ?? []).map((dialogue) =>
    dialogue.flatMap((message) => {
      for (const action of [message.content.action, ...(message.content.actions ?? [])]) {
        if (action) actions.add(action);
      }
      const text = message.content.text?.trim();
      if (!text) {
        withoutText++;
        return [];
      }
      const speaker = normalize(message.user ?? message.name ?? '');
      const role = agentSpeakers.has(speaker) ? ('assistant' as const) : ('user' as const);
      return [{ role, content: fillNames(text) }];
    }),
  );
  if (actions.size > 0) {
    warnings.push(
      `ElizaOS actions in messageExamples (${[...actions].join(', ')}) were not imported; the example texts were`,
    );
  }
  if (withoutText > 0) {
    warnings.push(`${withoutText} example message(s) without text were left out of the examples`);
  }
  return examples.filter((dialogue) => dialogue.length > 0);
}

/** One entry per secret name, the model's key first; a missing model key is asked for too. */
function describeSecrets(
  secrets: FoundSecret[],
  modelChoice: ElizaModelChoice,
  character: ElizaCharacter,
): SecretToSet[] {
  const sources = new Map<string, string[]>();
  for (const secret of secrets)
    sources.set(secret.name, [...(sources.get(secret.name) ?? []), secret.source]);

  const { keySecret, elizaProvider } = modelChoice;
  const result: SecretToSet[] = [];
  if (keySecret && !sources.has(keySecret)) {
    result.push({
      name: keySecret,
      reason: `API key for the ${elizaProvider} model (model.apiKeySecret); the character file has none (ElizaOS reads it from .env)`,
    });
  }
  const platforms = new Set([
    'discord',
    'telegram',
    'twitter',
    'slack',
    'farcaster',
    ...(character.clients ?? []),
  ]);
  for (const [name, where] of sources) {
    const found = `found in ${where.join(' and ')}, value not imported`;
    const platform = name.split(/[_\-.]/)[0]!.toLowerCase();
    let purpose: string;
    if (name === keySecret) purpose = `API key for the ${elizaProvider} model (model.apiKeySecret)`;
    else if (platforms.has(platform)) {
      purpose = `credential of the ElizaOS ${platform} client, which was not imported; set it only if you add a ${platform} connector plugin`;
    } else {
      purpose =
        'used by ElizaOS plugins or clients; set it only if a Parley plugin you add needs it';
    }
    const entry = { name, reason: `${purpose}; ${found}` };
    if (name === keySecret) result.unshift(entry);
    else result.push(entry);
  }
  return result;
}

const pluginHints: Record<string, string> = {
  '@elizaos/plugin-bootstrap':
    "Parley's run loop already does what it provides (message handling, actions, evaluators)",
  '@elizaos/plugin-sql': 'Parley keeps conversations and memory in its own store',
  '@elizaos/plugin-pglite': 'Parley keeps conversations and memory in its own store',
};

function pluginWarnings(pluginNames: string[], modelChoice: ElizaModelChoice): string[] {
  return pluginNames.map((plugin) => {
    const modelProvider = ownValue(modelPlugins, plugin);
    const hint =
      modelProvider !== undefined && modelProvider === modelChoice.elizaProvider
        ? `Parley calls the model itself (model.provider: ${modelChoice.model.provider})`
        : (ownValue(pluginHints, plugin) ??
          'look for a Parley plugin that does the same, or wrap what you need as tools with definePlugin');
    return `ElizaOS plugin "${plugin}" is not a Parley plugin and was not imported: ${hint}`;
  });
}

const settingsImported = new Set(['model', 'modelProvider', 'secrets', 'modelConfig', 'voice']);

function notImportedWarnings(
  character: ElizaCharacter,
  raw: Record<string, unknown>,
  modelSettingsUsed: string[],
): string[] {
  const warnings: string[] = [];
  if (character.username) {
    warnings.push(
      `username "${character.username}" was not imported: Parley agents have no platform handle`,
    );
  }
  const posts = lines(character.postExamples);
  if (posts.length > 0) {
    warnings.push(
      `postExamples (${posts.length}) were not imported: they are for social media posts, which Parley agents do not write`,
    );
  }
  if (lines(character.style?.post).length > 0) {
    warnings.push('style.post was not imported: it styles social media posts');
  }
  if (character.settings?.voice !== undefined && character.settings.voice !== null) {
    warnings.push('settings.voice was not imported: Parley agents have no voice output');
  }
  const otherSettings = Object.keys(character.settings ?? {}).filter(
    (key) =>
      !settingsImported.has(key) && !modelSettingsUsed.includes(key) && !looksLikeSecretName(key),
  );
  if (otherSettings.length > 0) {
    warnings.push(`settings not imported (no Parley equivalent): ${otherSettings.join(', ')}`);
  }
  for (const field of Object.keys(raw)) {
    if (knownElizaFields.includes(field)) continue;
    const reason =
      field === 'templates'
        ? 'ElizaOS prompt templates do not apply to the Parley run loop'
        : 'Parley has no equivalent';
    warnings.push(`field "${field}" was not imported: ${reason}`);
  }
  return warnings;
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
