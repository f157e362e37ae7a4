import { type AgentDefinition, AgentDefinitionSchema, ModelRefSchema } from '@parley/core';
import { z } from 'zod';
import type { AgentDefinitionIssue } from './agent-errors.ts';
import { didYouMean } from './did-you-mean.ts';
import { formatPath, positionOf, type SourcePositions } from './source-positions.ts';

type Path = readonly PropertyKey[];

export type AgentValidation =
  | { ok: true; definition: AgentDefinition }
  | { ok: false; issues: AgentDefinitionIssue[] };

/**
 * Keys people write from habit (other frameworks, provider SDKs), by the object they land in,
 * keyed by the lower-cased key without `-`/`_`. Each value completes "unknown key".
 */
const keyHints = new Map<z.ZodType, Record<string, string>>([
  [
    AgentDefinitionSchema,
    {
      system: '(did you mean "instructions"?)',
      systemprompt: '(did you mean "instructions"?)',
      prompt: '(did you mean "instructions"?)',
      provider: '(did you mean "model.provider"?)',
      temperature: '(did you mean "model.params.temperature"?)',
      mcpservers:
        '(did you mean "mcp"? It is a list: [{ name, transport: { stdio: { command, args } } or { url } }])',
    },
  ],
  [
    ModelRefSchema,
    {
      name: '(did you mean "model"?)',
      temperature: '(did you mean "params.temperature"?)',
      maxtokens: '(did you mean "params.maxOutputTokens"?)',
      maxoutputtokens: '(did you mean "params.maxOutputTokens"?)',
      reasoning: '(did you mean "params.reasoning"?)',
      apikey:
        '(API keys never go in an agent file: store the key as a workspace secret and put its name in "apiKeySecret")',
    },
  ],
]);

/**
 * Validates a parsed agent file against `AgentDefinitionSchema` and returns every problem with
 * its field path and, when `positions` is given, its line and column.
 */
export function validateAgentValue(value: unknown, positions?: SourcePositions): AgentValidation {
  const located = (path: Path, message: string): AgentDefinitionIssue => ({
    path: formatPath(path),
    ...(positions ? positionOf(positions, path) : undefined),
    message,
  });

  if (value === undefined || value === null) {
    return {
      ok: false,
      issues: [
        located(
          [],
          'the definition is empty: an agent needs at least name, instructions and model',
        ),
      ],
    };
  }

  const issues: AgentDefinitionIssue[] = [];
  const budget = { left: MAX_ISSUES, unlisted: 0 };
  for (const unknown of findUnknownKeys(AgentDefinitionSchema, value, [], budget)) {
    issues.push(located(unknown.path, unknown.message));
  }
  const result = AgentDefinitionSchema.safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) {
      // Unknown keys come from findUnknownKeys, which also checks the non-strict objects.
      if (issue.code === 'unrecognized_keys') continue;
      issues.push(located(issue.path, describeZodIssue(issue, value)));
    }
  }
  if (issues.length > 0 || !result.success) {
    const sorted = sortByPosition(issues);
    const unlisted = budget.unlisted + Math.max(0, sorted.length - MAX_ISSUES);
    const listed = sorted.slice(0, MAX_ISSUES);
    if (unlisted > 0)
      listed.push({ path: '', message: `${unlisted} more problems not listed: fix these first` });
    return { ok: false, issues: listed };
  }
  return { ok: true, definition: result.data };
}

/**
 * Problems listed at most. A file with thousands of wrong keys is not an agent, and listing
 * them all (each unknown key gets a did-you-mean search) would take seconds of CPU and a
 * message of megabytes: an API body of 1 MiB held the server's event loop for 5 s.
 */
const MAX_ISSUES = 50;

/**
 * Every key the schema does not know, at any depth. Zod reports these only for `.strict()`
 * objects; a stripped key in an agent file is a silent misconfiguration, so all are reported.
 */
function findUnknownKeys(
  schema: z.ZodType,
  value: unknown,
  path: PropertyKey[],
  budget: { left: number; unlisted: number },
): { path: PropertyKey[]; message: string }[] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodArray && Array.isArray(value)) {
    return value.flatMap((item, index) =>
      findUnknownKeys(inner.element as z.ZodType, item, [...path, index], budget),
    );
  }
  if (!(inner instanceof z.ZodObject) || !isPlainObject(value)) return [];

  const shape = inner.shape as Record<string, z.ZodType>;
  const known = Object.keys(shape);
  const catchall = inner._zod.def.catchall;
  const acceptsAnyKey = catchall !== undefined && !(catchall instanceof z.ZodNever);
  const found: { path: PropertyKey[]; message: string }[] = [];
  for (const key of Object.keys(value)) {
    const fieldSchema = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (fieldSchema)
      found.push(...findUnknownKeys(fieldSchema, value[key], [...path, key], budget));
    else if (acceptsAnyKey) continue;
    else if (budget.left > 0) {
      budget.left--;
      found.push({ path: [...path, key], message: unknownKeyMessage(inner, key, known) });
    } else budget.unlisted++;
  }
  return found;
}

function unknownKeyMessage(schema: z.ZodType, key: string, known: string[]): string {
  const hint = keyHints.get(schema)?.[key.toLowerCase().replace(/[-_\s]/g, '')];
  if (hint) return `unknown key ${hint}`;
  const suggestion = didYouMean(key, known);
  if (suggestion) return `unknown key (did you mean "${suggestion}"?)`;
  return `unknown key (known keys: ${known.join(', ')})`;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (
    current instanceof z.ZodOptional ||
    current instanceof z.ZodDefault ||
    current instanceof z.ZodNullable
  ) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** A zod issue in words, naming kinds of values but never echoing them (they may be secrets). */
export function describeZodIssue(issue: z.core.$ZodIssue, root: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const actual = valueAt(root, issue.path);
      const expected = expectedName(issue.expected, issue.path);
      if (actual === undefined) return `required field is missing (expected ${expected})`;
      return `expected ${expected}, got ${describeValue(actual)}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${String(issue.values[0])}`
        : `expected one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return describeBound(
        issue.origin,
        'at least',
        'greater than',
        issue.minimum,
        issue.inclusive,
      );
    case 'too_big':
      return describeBound(issue.origin, 'at most', 'less than', issue.maximum, issue.inclusive);
    case 'invalid_format':
      return issue.format === 'url'
        ? 'expected a URL such as https://api.example.com/v1'
        : issue.message;
    default:
      return issue.message;
  }
}

function describeBound(
  origin: string,
  inclusiveWord: string,
  exclusiveWord: string,
  limit: number | bigint,
  inclusive: boolean | undefined,
): string {
  if (origin === 'string') {
    return Number(limit) === 1 && inclusiveWord === 'at least'
      ? 'must not be empty'
      : `must be ${inclusiveWord} ${limit} characters long`;
  }
  if (origin === 'array')
    return `must have ${inclusiveWord} ${limit} item${Number(limit) === 1 ? '' : 's'}`;
  return `must be ${inclusive === false ? exclusiveWord : inclusiveWord} ${limit}`;
}

function expectedName(expected: string, path: Path): string {
  if (path.length === 0) return 'an object of agent fields (name, instructions, model, …)';
  switch (expected) {
    case 'string':
      return 'text';
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'an object';
    default:
      return expected;
  }
}

/** The kind of a value, never the value itself: it may be a pasted secret. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a fraction';
  if (typeof value === 'boolean') return 'true/false';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) {
      return undefined;
    }
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Orders issues as they appear in the file; issues without a position go last. */
export function sortByPosition(issues: AgentDefinitionIssue[]): AgentDefinitionIssue[] {
  const rank = (issue: AgentDefinitionIssue) =>
    (issue.line ?? Number.MAX_SAFE_INTEGER) * 100_000 + (issue.column ?? 0);
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => rank(a.issue) - rank(b.issue) || a.order - b.order)
    .map(({ issue }) => issue);
}
