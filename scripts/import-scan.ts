/*
 * The module references of a TypeScript or JavaScript source, for the layering test
 * (scripts/layering.test.ts): static imports and re-exports, `import type`, side-effect
 * imports, dynamic `import()`, `require()`, `require.resolve()` and `import.meta.resolve()`
 * with a literal specifier, and `new URL('<relative path>', import.meta.url)` file references.
 * Comments are skipped and string contents are never read as code, so an example in a doc
 * comment is not an import. A dynamic import of a computed specifier cannot be judged here:
 * it is reported as `computed` so the test can count them.
 */

export type ReferenceKind = 'import' | 'dynamic' | 'require' | 'resolve' | 'file-url';

export interface ModuleReference {
  kind: ReferenceKind;
  specifier: string;
  line: number;
  /** `import type …` / `export type …`: erased at run time, needs only the types. */
  typeOnly?: boolean;
}

export interface ScanResult {
  references: ModuleReference[];
  /** Lines of `import(…)` / `require(…)` whose specifier is not a literal. */
  computed: number[];
}

/** Characters after which a `/` starts a regular expression rather than a division. */
const REGEX_PRECEDERS = new Set([...'(,=:[!&|?{};+-*%<>~^'].concat(''));
const REGEX_KEYWORDS = /(?:^|[^\w$.])(?:return|typeof|case|do|else|in|of|void|yield|await)$/;

/**
 * The source as code alone: comments blanked out, and the contents of strings, templates and
 * regular expressions replaced by `x` (so code written inside a string, such as a template a
 * command writes to disk, is not read as an import). Offsets and line numbers are unchanged,
 * so a match in the mask reads its specifier from the source at the same place.
 */
export function maskSource(source: string): string {
  const out: string[] = [];
  let i = 0;
  let lastSignificant = '';
  const n = source.length;
  const push = (text: string) => {
    out.push(text);
    const trimmed = text.trim();
    if (trimmed) lastSignificant = trimmed;
  };
  while (i < n) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out.push(' '.repeat(stop - i));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out.push(source.slice(i, stop).replace(/[^\n]/g, ' '));
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      const stop = endOfString(source, i, c);
      push(maskInside(source.slice(i, stop)));
      i = stop;
    } else if (c === '/' && startsRegex(lastSignificant, out)) {
      const stop = endOfRegex(source, i);
      push(maskInside(source.slice(i, stop)));
      i = stop;
    } else {
      push(c);
      i += 1;
    }
  }
  return out.join('');
}

/** `'abc'` → `'xxx'`, newlines kept. */
function maskInside(literal: string): string {
  if (literal.length < 2) return literal;
  const inner = literal.slice(1, -1).replace(/[^\n]/g, 'x');
  return literal[0] + inner + literal.at(-1);
}

function startsRegex(lastSignificant: string, out: string[]): boolean {
  const last = lastSignificant.at(-1) ?? '';
  if (REGEX_PRECEDERS.has(last)) return true;
  // `return /x/`, `typeof /x/`: look at the word just written.
  const tail = out.slice(-12).join('');
  return REGEX_KEYWORDS.test(tail.trimEnd());
}

function endOfString(source: string, start: number, quote: string): number {
  let i = start + 1;
  let depth = 0; // `${ … }` nesting inside a template
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') i += 2;
    else if (quote === '`' && c === '$' && source[i + 1] === '{') {
      depth += 1;
      i += 2;
    } else if (quote === '`' && depth > 0 && c === '}') {
      depth -= 1;
      i += 1;
    } else if (c === quote && depth === 0) return i + 1;
    else if (c === '\n' && quote !== '`')
      return i + 1; // unterminated: stop at the line
    else i += 1;
  }
  return i;
}

function endOfRegex(source: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') return i;
    if (c === '/' && !inClass) return i + 1;
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    i += c === '\\' ? 2 : 1;
  }
  return i;
}

const STRING = String.raw`(['"])([^'"\n]+)\1`;
const PATTERNS: { kind: ReferenceKind; pattern: RegExp }[] = [
  // import x from 'a'; import { x } from 'a'; export * from 'a'; import type { X } from 'a'
  {
    kind: 'import',
    pattern: new RegExp(String.raw`\b(?:import|export)\b[^;'"]*?\bfrom\s*${STRING}`, 'dg'),
  },
  // import 'a' (side effect)
  { kind: 'import', pattern: new RegExp(String.raw`(?:^|[;\n])\s*import\s*${STRING}`, 'dg') },
  { kind: 'dynamic', pattern: new RegExp(String.raw`\bimport\s*\(\s*${STRING}`, 'dg') },
  { kind: 'require', pattern: new RegExp(String.raw`\brequire\s*\(\s*${STRING}`, 'dg') },
  {
    kind: 'resolve',
    pattern: new RegExp(String.raw`\b(?:require|import\.meta)\.resolve\s*\(\s*${STRING}`, 'dg'),
  },
  {
    kind: 'file-url',
    pattern: new RegExp(
      String.raw`\bnew\s+URL\s*\(\s*${STRING}\s*,\s*import\.meta\.url\s*\)`,
      'dg',
    ),
  },
];
const COMPUTED = /\b(?:import|require)\s*\(\s*(?!['"\s)])/g;

/** Every module reference of one source file. */
export function scanSource(source: string): ScanResult {
  const code = maskSource(source);
  const lineOf = lineIndex(code);
  const references: ModuleReference[] = [];
  for (const { kind, pattern } of PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      const [start, end] = match.indices![2]!;
      const specifier = source.slice(start, end);
      if (kind === 'file-url' && !specifier.startsWith('.')) continue;
      const typeOnly = kind === 'import' && /^(?:import|export)\s+type\b/.test(match[0].trim());
      references.push({
        kind,
        specifier,
        line: lineOf(match.index + match[0].length),
        ...(typeOnly ? { typeOnly } : {}),
      });
    }
  }
  const computed = [...code.matchAll(COMPUTED)].map((m) => lineOf(m.index));
  references.sort((a, b) => a.line - b.line);
  return { references, computed };
}

function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
