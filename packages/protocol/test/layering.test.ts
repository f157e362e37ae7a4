import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The protocol sits at the bottom of the package graph and runs in browsers (the dashboard):
// its source may import only itself, zod and the SSE line parser, and no Node built-ins.
const allowed = new Set(['zod', 'eventsource-parser']);
const srcDir = new URL('../src/', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('@parley/protocol layering', () => {
  const files = sourceFiles(srcDir);

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it('imports nothing but relative files, zod and eventsource-parser', () => {
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const [, specifier] of source.matchAll(/from\s+'([^']+)'/g)) {
        const ok =
          specifier!.startsWith('./') || specifier!.startsWith('../') || allowed.has(specifier!);
        expect(ok, `${file} imports ${specifier}`).toBe(true);
      }
    }
  });

  it('declares exactly those runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual([...allowed].sort());
  });
});
