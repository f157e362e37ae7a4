import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ModuleReference, packageNameOf, scanSource } from './import-scan.ts';

/*
 * The package graph, checked against layers.json (the root): which package may import which,
 * that every package a file imports is declared in its package.json, and that nothing reaches
 * into another package except through its package.json `exports`. Shipped code (src, bin) and
 * the rest (tests, scripts, benchmarks, config files) are judged apart: the rest may also use
 * devDependencies, the root's devDependencies and any workspace package it declares.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface PackageJson {
  name: string;
  exports?: Record<string, string> | string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  workspaces?: string[];
}
interface LayerRule {
  mayImport: string[];
  nodeBuiltins?: boolean;
  /** When set, the only third-party packages its shipped code may import. */
  externals?: string[];
  /** Files of another package read at run time (not imported): package → its folders. */
  readsFiles?: Record<string, string[]>;
}
interface LayersFile {
  layers: { name: string; packages: string[] }[];
  packages: Record<string, LayerRule>;
}
interface Workspace {
  dir: string;
  pkg: PackageJson;
}
interface Finding {
  file: string;
  line: number;
  problem: string;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const rootPkg = readJson<PackageJson>(join(ROOT, 'package.json'));
const layers = readJson<LayersFile>(join(ROOT, 'layers.json'));

function workspaces(): Workspace[] {
  return (rootPkg.workspaces ?? []).flatMap((glob) => {
    const parent = join(ROOT, glob.replace(/\/\*$/, ''));
    return readdirSync(parent, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(parent, e.name, 'package.json')))
      .map((e) => {
        const dir = join(parent, e.name);
        return { dir, pkg: readJson<PackageJson>(join(dir, 'package.json')) };
      });
  });
}

const SKIP_DIRS = new Set(['node_modules', 'dist', '.tsbuild', 'coverage', '.parley', 'drizzle']);
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : sourceFiles(path);
    return /\.(ts|tsx|js|mjs|cjs|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')
      ? [path]
      : [];
  });
}

/** Shipped code: src/ (tests excluded) and bin/. Everything else is tests and tooling. */
function isShipped(packageDir: string, file: string): boolean {
  const rel = relative(packageDir, file).split(sep);
  if (/\.test\.tsx?$/.test(file)) return false;
  return rel[0] === 'src' || rel[0] === 'bin';
}

const builtins = new Set(builtinModules);
const isBuiltin = (specifier: string) =>
  specifier.startsWith('node:') || builtins.has(packageNameOf(specifier));

/** The public subpaths of a workspace package: its `exports` keys (`.`, `./testing`). */
function exportedSubpaths(pkg: PackageJson): Set<string> {
  if (typeof pkg.exports === 'string' || pkg.exports === undefined) return new Set(['.']);
  return new Set(Object.keys(pkg.exports));
}

const workspaceList = workspaces();
const byName = new Map(workspaceList.map((w) => [w.pkg.name, w]));
const rootDevDependencies = new Set(Object.keys(rootPkg.devDependencies ?? {}));

/** Everything wrong with one reference of one file. */
function judge(ws: Workspace, file: string, ref: ModuleReference): string[] {
  const shipped = isShipped(ws.dir, file);
  const spec = ref.specifier;
  if (spec.startsWith('.') || spec.startsWith('/')) {
    // A relative path (an import or a file URL) must stay inside its own package.
    const target = resolve(dirname(file), spec);
    const owner = workspaceList.find((w) => target === w.dir || target.startsWith(w.dir + sep));
    if (!owner || owner === ws) return [];
    const inside = relative(owner.dir, target).split(sep).join('/');
    // Tests may share another package's fixtures (data and programs to run, not its code).
    if (!shipped && inside.startsWith('test/fixtures/')) return [];
    const reads = layers.packages[ws.pkg.name]?.readsFiles?.[owner.pkg.name] ?? [];
    if (
      ref.kind === 'file-url' &&
      reads.some((dir) => inside === dir || inside.startsWith(`${dir}/`))
    )
      return [];
    return [`reaches into ${owner.pkg.name}'s files (${spec}): import it by its package name`];
  }
  if (ref.kind === 'file-url') return [];
  const rule = layers.packages[ws.pkg.name]!;
  if (isBuiltin(spec))
    return shipped && rule.nodeBuiltins === false ? [`imports the Node built-in ${spec}`] : [];
  const name = packageNameOf(spec);
  if (name === ws.pkg.name) return [];
  const problems: string[] = [];
  const runtime = {
    ...ws.pkg.dependencies,
    ...ws.pkg.peerDependencies,
    ...ws.pkg.optionalDependencies,
  };
  // A type-only import (`import type pg from 'pg'`) is satisfied by its @types package.
  const typesName = `@types/${name.replace(/^@/, '').replace('/', '__')}`;
  const declaredAs = (candidate: string) =>
    candidate in runtime ||
    (!shipped &&
      (candidate in (ws.pkg.devDependencies ?? {}) || rootDevDependencies.has(candidate)));
  const declared = declaredAs(name) || (ref.typeOnly === true && declaredAs(typesName));
  if (!declared)
    problems.push(
      `imports ${name}, which its package.json does not declare${shipped ? ' in dependencies' : ''}`,
    );
  if (shipped && rule.externals && !byName.has(name) && !rule.externals.includes(name))
    problems.push(`imports ${name}: layers.json allows it only ${rule.externals.join(', ')}`);
  const target = byName.get(name);
  if (target) {
    if (shipped && !rule.mayImport.includes(name))
      problems.push(`imports ${name}: layers.json does not allow ${ws.pkg.name} → ${name}`);
    const subpath = `.${spec.slice(name.length)}`;
    if (!exportedSubpaths(target.pkg).has(subpath))
      problems.push(`imports ${spec}, which ${name} does not export (its package.json exports)`);
  }
  return problems;
}

function findings(): { findings: Finding[]; files: number } {
  const found: Finding[] = [];
  let files = 0;
  for (const ws of workspaceList) {
    for (const file of sourceFiles(ws.dir)) {
      files += 1;
      const { references } = scanSource(readFileSync(file, 'utf8'));
      for (const ref of references)
        for (const problem of judge(ws, file, ref))
          found.push({ file: relative(ROOT, file), line: ref.line, problem });
    }
  }
  return { findings: found, files };
}

/** The arrows of layers.json, checked for a cycle by depth-first search. */
function cycleIn(graph: Record<string, LayerRule>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const next of graph[name]?.mayImport ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of Object.keys(graph)) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return null;
}

describe('the package layers (layers.json)', () => {
  it('names every workspace package once, in a layer and with its arrows', () => {
    const names = workspaceList.map((w) => w.pkg.name).sort();
    expect(Object.keys(layers.packages).sort()).toEqual(names);
    const inLayers = layers.layers.flatMap((layer) => layer.packages).sort();
    expect(inLayers).toEqual(names);
  });

  it('has no cycle, and every arrow points to a package in the same or a lower layer', () => {
    expect(cycleIn(layers.packages)).toBeNull();
    const rank = new Map(
      layers.layers.flatMap((layer, i) => layer.packages.map((name) => [name, i] as const)),
    );
    for (const [name, rule] of Object.entries(layers.packages))
      for (const target of rule.mayImport)
        expect(rank.get(target), `${name} → ${target}`).toBeLessThanOrEqual(rank.get(name)!);
  });

  it('allows no arrow a package does not declare', () => {
    for (const ws of workspaceList) {
      const declared = { ...ws.pkg.dependencies, ...ws.pkg.peerDependencies };
      const workspaceDeps = Object.keys(declared).filter((name) => byName.has(name));
      expect(
        workspaceDeps.filter((name) => !layers.packages[ws.pkg.name]!.mayImport.includes(name)),
        `${ws.pkg.name} declares a dependency layers.json does not allow`,
      ).toEqual([]);
    }
  });

  it('is what every source imports: allowed arrows, declared dependencies, public paths only', () => {
    const { findings: found, files } = findings();
    expect(files).toBeGreaterThan(300);
    expect(found.map((f) => `${f.file}:${f.line} ${f.problem}`)).toEqual([]);
  });
});

describe('docs/architecture.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const plugins = workspaceList
    .map((w) => w.pkg.name)
    .filter((name) => name.startsWith('@parley/plugin-') && name !== '@parley/plugin-kit');
  /** A diagram node: `cli` is @parley/cli; `plugins` stands for every first-party plugin. */
  const packagesOf = (id: string) => (id === 'plugins' ? plugins : [`@parley/${id}`]);

  it('lists each package with exactly the arrows layers.json gives it', () => {
    const table = new Map<string, string[]>();
    for (const [, name, cell] of doc.matchAll(/^\| `(@parley\/[a-z-]+)` \| ([^|]+) \|$/gm))
      table.set(name!, [...cell!.matchAll(/`(@parley\/[a-z-]+)`/g)].map((m) => m[1]!).sort());
    const expected = Object.entries(layers.packages).map(
      ([name, rule]) => [name, [...rule.mayImport].sort()] as const,
    );
    expect(Object.fromEntries(table)).toEqual(Object.fromEntries(expected));
  });

  it('draws only allowed arrows, and a path for every allowed one', () => {
    const edges = [...doc.matchAll(/^ {2}([a-z-]+) --> ([a-z-]+)$/gm)].flatMap(([, from, to]) =>
      packagesOf(from!).flatMap((a) => packagesOf(to!).map((b) => [a, b] as const)),
    );
    expect(edges.length).toBeGreaterThan(10);
    for (const [from, to] of edges)
      expect(layers.packages[from]?.mayImport, `${from} --> ${to}`).toContain(to);
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      edges.some(
        ([a, b]) => a === from && !seen.has(b) && (b === to || reaches(b, to, seen.add(b))),
      );
    for (const [name, rule] of Object.entries(layers.packages))
      for (const target of rule.mayImport)
        expect(reaches(name, target), `the diagram shows a path ${name} → ${target}`).toBe(true);
  });
});

describe('the import scanner', () => {
  it('reads static, type-only, side-effect and dynamic imports, require and resolve', () => {
    const source = [
      "import { a } from 'a';",
      "import type { B } from '@s/b/sub';",
      "import 'c';",
      "export * from './d.ts';",
      "const e = await import('e');",
      "const f = require('f');",
      "const g = import.meta.resolve('g');",
      "const h = new URL('../h/', import.meta.url);",
      'const i = await import(name);',
    ].join('\n');
    const { references, computed } = scanSource(source);
    expect(references.map((r) => `${r.kind} ${r.specifier} ${r.line}`)).toEqual([
      'import a 1',
      'import @s/b/sub 2',
      'import c 3',
      'import ./d.ts 4',
      'dynamic e 5',
      'require f 6',
      'resolve g 7',
      'file-url ../h/ 8',
    ]);
    expect(computed).toEqual([9]);
    expect(references.filter((r) => r.typeOnly).map((r) => r.specifier)).toEqual(['@s/b/sub']);
  });

  it('does not read comments, strings, templates or regular expressions as code', () => {
    const source = [
      "// import { a } from 'a';",
      "/* await import('b') */",
      'const c = "import x from \'c\'";',
      "const d = `import('d')`;",
      "const e = /import('e')/;",
      "const f = x / 2; import { g } from 'g';",
    ].join('\n');
    expect(scanSource(source).references.map((r) => r.specifier)).toEqual(['g']);
  });
});
