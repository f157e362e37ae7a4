import { HttpProblem } from './problem.ts';

/*
 * What no route may take, whatever its schema says, checked before the schema (issue #30):
 * - text the database cannot store: PostgreSQL refuses NUL in text and jsonb, and jsonb refuses
 *   an unpaired UTF-16 surrogate (`"\ud800"`). Such a value used to reach the run's writes and
 *   fail there, after the stream had started; it is a 400 here, naming the field.
 * - JSON nested deeper than any request of ours needs: schema validation recurses, and 100,000
 *   levels of `[` overflowed the stack (a 500). The walk below uses its own stack.
 */

/** Deeper than any body or query the API takes (agent definitions nest a few levels). */
export const MAX_JSON_DEPTH = 64;
/** Fields named in one answer; the rest are counted. */
const MAX_ISSUES = 10;

type Issue = { path: string; message: string };

/** Why a string cannot be stored, or undefined when it can. */
export function unstorableReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters (U+0000)';
  if (!text.isWellFormed()) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}

interface Frame {
  value: unknown;
  path: string;
  depth: number;
}

/** Walks parsed JSON without recursion: the unstorable strings (keys too) and the depth. */
function inspect(root: unknown, prefix: string): { issues: Issue[]; tooDeep?: string } {
  const issues: Issue[] = [];
  const stack: Frame[] = [{ value: root, path: prefix, depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const reason = unstorableReason(value);
      if (reason && issues.length < MAX_ISSUES) issues.push({ path, message: reason });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { issues, tooDeep: path };
    const entries = Array.isArray(value)
      ? value.map((item, i) => [String(i), item] as const)
      : Object.entries(value);
    for (const [key, item] of entries) {
      const reason = unstorableReason(key);
      if (reason && issues.length < MAX_ISSUES)
        issues.push({ path: `${path}.${JSON.stringify(key)}`, message: `key ${reason}` });
      stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return { issues };
}

/**
 * Throws a 400 when a parsed body or query holds text the database cannot store
 * (`request.invalid_text`) or nests deeper than MAX_JSON_DEPTH (`request.invalid`).
 */
export function checkRequestValues(values: { body?: unknown; query?: unknown }) {
  const found: Issue[] = [];
  for (const [where, value] of [
    ['body', values.body],
    ['query', values.query],
  ] as const) {
    if (value === undefined) continue;
    const { issues, tooDeep } = inspect(value, where);
    if (tooDeep !== undefined)
      throw new HttpProblem(
        'request.invalid',
        `The ${where} nests more than ${MAX_JSON_DEPTH} levels deep.`,
        { errors: [{ path: tooDeep, message: `nests more than ${MAX_JSON_DEPTH} levels` }] },
      );
    found.push(...issues);
  }
  if (found.length > 0)
    throw new HttpProblem(
      'request.invalid_text',
      `Text the database cannot store: ${found[0]!.path} ${found[0]!.message}.`,
      { errors: found.slice(0, MAX_ISSUES) },
    );
}
