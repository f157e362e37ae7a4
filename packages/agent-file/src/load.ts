import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  type AgentDefinition,
  type AgentDefinitionInput,
  AgentDefinitionSchema,
} from '@parley/core';
import { stringify } from 'yaml';
import { z } from 'zod';
import { AgentDefinitionError, type AgentDefinitionIssue, AgentFileError } from './agent-errors.ts';
import { sortByPosition, validateAgentValue } from './definition-issues.ts';
import { parseJsonWithPositions } from './json-with-positions.ts';
import type { SourcePositions } from './source-positions.ts';
import { parseYamlWithPositions } from './yaml-with-positions.ts';

export interface ParseAgentOptions {
  /** Named in error messages (`agent.yaml:7:3 …`); the text is not read from it. */
  file?: string;
}

/** Parses and validates an agent.yaml; throws `AgentDefinitionError` listing every problem. */
export function parseAgentYaml(text: string, options: ParseAgentOptions = {}): AgentDefinition {
  return validateParsed(parseYamlWithPositions(stripByteOrderMark(text)), options);
}

/** Parses and validates an agent.json; throws `AgentDefinitionError` listing every problem. */
export function parseAgentJson(text: string, options: ParseAgentOptions = {}): AgentDefinition {
  return validateParsed(parseJsonWithPositions(stripByteOrderMark(text)), options);
}

const parsersByExtension: Record<string, typeof parseAgentYaml> = {
  '.yaml': parseAgentYaml,
  '.yml': parseAgentYaml,
  '.json': parseAgentJson,
};

/**
 * Reads an agent file, choosing YAML or JSON by its extension. Throws `AgentFileError` when
 * the file is missing or has another extension, `AgentDefinitionError` when it is invalid.
 */
export async function loadAgentFile(path: string): Promise<AgentDefinition> {
  const extension = extname(path).toLowerCase();
  const parse = parsersByExtension[extension];
  if (!parse) {
    throw new AgentFileError(
      'agent.unsupported_file_type',
      path,
      `${path}: unsupported agent file type "${extension || '(none)'}": use .yaml, .yml or .json`,
    );
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AgentFileError(
        'agent.file_not_found',
        path,
        `${path}: no such file (create one with \`parley create\`)`,
      );
    }
    throw error;
  }
  return parse(text, { file: path });
}

/**
 * Writes a definition as agent.yaml: fields in a reading order (identity, model, instructions,
 * persona, capabilities, limits), fields equal to their defaults left out. Parsing the result
 * with `parseAgentYaml` gives back an equal definition.
 */
export function stringifyAgentYaml(definition: AgentDefinition | AgentDefinitionInput): string {
  const validation = validateAgentValue(definition);
  if (!validation.ok) throw new AgentDefinitionError(validation.issues);
  const full = validation.definition;

  const document: Record<string, unknown> = {};
  const keys = [...new Set([...readingOrder, ...Object.keys(full)])] as (keyof AgentDefinition)[];
  for (const key of keys) {
    const value = full[key];
    if (value === undefined || isDefaultValue(key, value)) continue;
    document[key] = compactField(key, value);
  }
  // lineWidth 0: long instructions stay on one line per paragraph instead of being re-folded.
  return stringify(document, { lineWidth: 0 });
}

const readingOrder: (keyof AgentDefinition)[] = [
  'name',
  'description',
  'model',
  'fallbackModels',
  'instructions',
  'bio',
  'style',
  'topics',
  'examples',
  'plugins',
  'tools',
  'memory',
  'maxSteps',
  'toolTimeoutMs',
];

const defaultsOnly = AgentDefinitionSchema.parse({
  name: 'defaults',
  instructions: 'defaults',
  model: { provider: 'scripted', model: 'echo' },
});

function isDefaultValue(key: keyof AgentDefinition, value: unknown): boolean {
  const hasDefault = AgentDefinitionSchema.shape[key] instanceof z.ZodDefault;
  return hasDefault && isDeepStrictEqual(value, defaultsOnly[key]);
}

/** Drops the empty `params: {}` of models and the `version: '*'` / `config: {}` of plugins. */
function compactField(key: keyof AgentDefinition, value: unknown): unknown {
  if (key === 'model') return compactModel(value as AgentDefinition['model']);
  if (key === 'fallbackModels') return (value as AgentDefinition['model'][]).map(compactModel);
  if (key === 'plugins') {
    return (value as AgentDefinition['plugins']).map(({ name, version, config }) => ({
      name,
      ...(version === '*' ? {} : { version }),
      ...(Object.keys(config).length === 0 ? {} : { config }),
    }));
  }
  return value;
}

function compactModel(model: AgentDefinition['model']): Record<string, unknown> {
  const { params, ...rest } = model;
  return Object.keys(params).length === 0 ? rest : { ...rest, params };
}

function validateParsed(
  parsed: { value: unknown; positions: SourcePositions; problems: AgentDefinitionIssue[] },
  options: ParseAgentOptions,
): AgentDefinition {
  // Syntax errors come alone: validating a half-parsed document would only add noise.
  if (parsed.value === undefined && parsed.problems.length > 0) {
    throw new AgentDefinitionError(parsed.problems, options);
  }
  const validation = validateAgentValue(parsed.value, parsed.positions);
  const issues = sortByPosition([...parsed.problems, ...(validation.ok ? [] : validation.issues)]);
  if (issues.length > 0 || !validation.ok) throw new AgentDefinitionError(issues, options);
  return validation.definition;
}

function stripByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
