/*
 * How big the code is: files over 400 lines and functions over 150 lines, in shipped code
 * (src, bin) and in tests (test, scripts, bench) apart. Functions are every function
 * declaration, function expression, arrow function, method, getter, setter and constructor,
 * counted from the line they start on to the line they end on (a function holding another
 * counts the inner one's lines too). Parsed with Babel's TypeScript and JSX grammar.
 *
 *   node scripts/size-report.ts            the counts
 *   node scripts/size-report.ts --list     the counts and every file and function over
 *   node scripts/size-report.ts --json     the whole report as JSON
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@babel/parser';

export const FILE_LIMIT = 400;
export const FUNCTION_LIMIT = 150;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = /\.(?:ts|tsx|mts|cts|js|mjs|cjs)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', '.turbo', 'playwright-report']);

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

export interface SizeReport {
  files: { file: string; lines: number; kind: 'shipped' | 'test' }[];
  functions: (LongFunction & { kind: 'shipped' | 'test' })[];
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
}

/** Shipped code is a package's src and bin; everything else (tests, scripts, benchmarks) is not. */
function kindOf(file: string): 'shipped' | 'test' {
  if (/(?:^|\/)(?:test|tests|__tests__|fixtures)\//.test(file) || /\.test\.tsx?$/.test(file)) {
    return 'test';
  }
  return /^(?:packages|plugins)\/[^/]+\/(?:src|bin)\//.test(file) ? 'shipped' : 'test';
}

function nameOf(node: BabelNode, parent: BabelNode | undefined): string {
  const key = node.key ?? node.id;
  if (key && typeof key.name === 'string') return key.name;
  if (parent?.type === 'VariableDeclarator' && parent.id?.name) return parent.id.name;
  if ((parent?.type === 'ObjectProperty' || parent?.type === 'ClassProperty') && parent.key?.name) {
    return parent.key.name;
  }
  return '(anonymous)';
}

interface BabelNode {
  type: string;
  loc?: { start: { line: number }; end: { line: number } };
  key?: { name?: string };
  id?: { name?: string };
  [field: string]: unknown;
}

const FUNCTION_TYPES = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'ObjectMethod',
  'ClassMethod',
  'ClassPrivateMethod',
]);

/** Every function of one source longer than `limit` lines. */
export function longFunctions(
  source: string,
  file: string,
  limit = FUNCTION_LIMIT,
): LongFunction[] {
  const ast = parse(source, {
    sourceType: 'module',
    plugins: file.endsWith('x') ? ['typescript', 'jsx'] : ['typescript'],
    errorRecovery: true,
  });
  const found: LongFunction[] = [];
  const visit = (node: unknown, parent: BabelNode | undefined): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child, parent);
      return;
    }
    if (!node || typeof node !== 'object' || typeof (node as BabelNode).type !== 'string') return;
    const current = node as BabelNode;
    if (FUNCTION_TYPES.has(current.type) && current.loc) {
      const lines = current.loc.end.line - current.loc.start.line + 1;
      if (lines > limit) {
        found.push({ file, line: current.loc.start.line, name: nameOf(current, parent), lines });
      }
    }
    for (const [field, child] of Object.entries(current)) {
      if (field === 'loc' || field === 'leadingComments' || field === 'trailingComments') continue;
      if (child && typeof child === 'object') visit(child, current);
    }
  };
  visit(ast.program, undefined);
  return found;
}

export function sizeReport(root = ROOT): SizeReport {
  const paths: string[] = [];
  for (const top of ['packages', 'plugins', 'scripts', 'bench']) {
    try {
      walk(join(root, top), paths);
    } catch {
      // a checkout without bench/ or plugins/
    }
  }
  const report: SizeReport = { files: [], functions: [] };
  for (const path of paths.sort()) {
    const file = relative(root, path);
    const source = readFileSync(path, 'utf8');
    const kind = kindOf(file);
    const lines = source.split('\n').length - (source.endsWith('\n') ? 1 : 0);
    if (lines > FILE_LIMIT) report.files.push({ file, lines, kind });
    for (const fn of longFunctions(source, file)) report.functions.push({ ...fn, kind });
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = sizeReport();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const list = process.argv.includes('--list');
    for (const kind of ['shipped', 'test'] as const) {
      const files = report.files.filter((f) => f.kind === kind);
      const functions = report.functions.filter((f) => f.kind === kind);
      console.log(
        `${kind}: ${files.length} files > ${FILE_LIMIT} lines, ${functions.length} functions > ${FUNCTION_LIMIT} lines`,
      );
      if (!list) continue;
      for (const f of files.sort((a, b) => b.lines - a.lines))
        console.log(`  ${f.lines}\t${f.file}`);
      for (const f of functions.sort((a, b) => b.lines - a.lines)) {
        console.log(`  ${f.lines}\t${f.file}:${f.line} ${f.name}`);
      }
    }
  }
}
