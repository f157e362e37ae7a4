import type { ElizaCharacter } from './eliza-character.ts';
import { findKeyShaped } from './key-shapes.ts';
import { formatPath } from './source-positions.ts';

/** A secret found in a character file: its name, where it was, and its value (never output). */
export interface FoundSecret {
  name: string;
  /** Where it was found, e.g. `settings.secrets.OPENAI_API_KEY`. */
  source: string;
  value: unknown;
}

/**
 * Words that make a setting a credential. Wallet words are here because ElizaOS characters
 * commonly carry crypto wallet keys and seed phrases in their settings.
 */
const secretWords = new Set([
  'key',
  'apikey',
  'token',
  'secret',
  'secrets',
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'credential',
  'credentials',
  'auth',
  'bearer',
  'cookie',
  'mnemonic',
  'seed',
]);

/** True for names like OPENAI_API_KEY, botToken, discord-password, WALLET_SEED. */
export function looksLikeSecretName(name: string): boolean {
  return words(name).some((word) => secretWords.has(word));
}

/**
 * Every secret in the character: all of `settings.secrets` and top-level `secrets`, plus any
 * other setting (at any depth) whose name looks like a credential. ElizaOS merges these into
 * one runtime settings bag, so a key in plain `settings` is as secret as one in `secrets`.
 */
export function findSecrets(character: ElizaCharacter): FoundSecret[] {
  const found: FoundSecret[] = [];
  for (const [name, value] of Object.entries(character.settings?.secrets ?? {})) {
    found.push({ name, source: `settings.secrets.${name}`, value });
  }
  for (const [name, value] of Object.entries(character.secrets ?? {})) {
    found.push({ name, source: `secrets.${name}`, value });
  }
  const { secrets: _, ...otherSettings } = character.settings ?? {};
  findSecretLikeSettings(otherSettings, ['settings'], [], found);
  return found;
}

function findSecretLikeSettings(
  value: unknown,
  sourcePath: string[],
  namePath: string[],
  found: FoundSecret[],
): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const source = [...sourcePath, key];
    if (looksLikeSecretName(key)) {
      found.push({ name: envName([...namePath, key]), source: source.join('.'), value: child });
    } else {
      findSecretLikeSettings(child, source, [...namePath, key], found);
    }
  }
}

/** `['discord', 'botToken']` → `DISCORD_BOT_TOKEN`; an already upper-case name is kept. */
function envName(path: string[]): string {
  return path.flatMap(words).join('_').toUpperCase();
}

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_.-]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

/** The string forms of secret values worth searching for (short ones would match anything). */
export function secretValues(secrets: FoundSecret[]): string[] {
  const values = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string' || typeof value === 'number') {
      const text = String(value).trim();
      if (text.length >= 6) values.add(text);
    } else if (value !== null && typeof value === 'object') {
      for (const child of Object.values(value)) collect(child);
    }
  };
  for (const secret of secrets) collect(secret.value);
  // Longest first, so a value containing another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

export const redactedMarker = '[secret removed]';

/**
 * Replaces secret values inside every string of `value`, returning the copy and the paths
 * where something was replaced. The importer never copies setting values, but a key pasted
 * into `system` or `knowledge` text would otherwise travel into the agent.
 */
export function redactSecretValues<T>(
  value: T,
  secrets: string[],
): { value: T; redactedAt: string[] } {
  const redactedAt: string[] = [];
  const visit = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') {
      let text = node;
      for (const secret of secrets) text = text.split(secret).join(redactedMarker);
      if (text !== node) redactedAt.push(path);
      return text;
    }
    if (Array.isArray(node)) return node.map((item, index) => visit(item, `${path}[${index}]`));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([key, child]) => [
          key,
          visit(child, path ? `${path}.${key}` : key),
        ]),
      );
    }
    return node;
  };
  return { value: visit(value, '') as T, redactedAt };
}

/** A key-shaped text found outside the character's declared secrets; `value` is never output. */
export interface UndeclaredKey {
  /** Where in the character, e.g. `bio[1]` or `messageExamples[0][1].content.text`. */
  path: string;
  kind: string;
  value: string;
}

/**
 * Every key-shaped string (key-shapes.ts) in the character's fields, the declared secrets
 * (`secrets`, `settings.secrets`, secret-named settings) excepted: a key pasted into `bio` or
 * an example would otherwise be imported into the agent as plain text.
 */
export function findUndeclaredKeys(json: unknown, secrets: FoundSecret[]): UndeclaredKey[] {
  const declaredPaths = ['secrets', 'settings.secrets', ...secrets.map((secret) => secret.source)];
  const declaredValues = secretValues(secrets);
  const isDeclared = (value: string) => declaredValues.some((secret) => secret.includes(value));
  const found: UndeclaredKey[] = [];
  const visit = (node: unknown, path: (string | number)[]): void => {
    const dotted = path.join('.');
    if (declaredPaths.some((declared) => dotted === declared || dotted.startsWith(`${declared}.`)))
      return;
    if (typeof node === 'string') {
      for (const match of findKeyShaped(node)) {
        if (!isDeclared(match.value)) found.push({ path: formatPath(path), ...match });
      }
    } else if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) visit(item, [...path, index]);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) visit(child, [...path, key]);
    }
  };
  visit(json, []);
  return found;
}
