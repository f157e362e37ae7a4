import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * fast-resolve.js (registered by the server's main.js and `parley start`) answers "this is an ES module" for drizzle-orm's own relative imports without
 * asking Node's package lookup (which re-parses drizzle's 180 KB package.json per file). That
 * answer holds only while drizzle-orm is one package of ES modules: checked here, so an upgrade
 * that changes it fails this test instead of breaking start-up.
 */
const require = createRequire(import.meta.url);
const entry = require.resolve('drizzle-orm');
const drizzleRoot = entry.slice(
  0,
  entry.lastIndexOf('/node_modules/drizzle-orm/') + '/node_modules/drizzle-orm'.length,
);

function packageJsons(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return packageJsons(path);
    return entry.name === 'package.json' ? [path] : [];
  });
}

describe('drizzle-orm resolved without the package lookup', () => {
  it('is one package whose .js files are all ES modules', () => {
    expect(packageJsons(drizzleRoot)).toEqual([join(drizzleRoot, 'package.json')]);
    const manifest = JSON.parse(readFileSync(join(drizzleRoot, 'package.json'), 'utf8'));
    expect(manifest.type).toBe('module');
  });

  it('loads the entry points the store uses, with the hook, to the same exports as without', () => {
    const hook = fileURLToPath(new URL('../src/fast-resolve.js', import.meta.url));
    const load = (hooked: boolean) => {
      const script = `
        if (${hooked}) (await import(${JSON.stringify(hook)})).registerFastResolve();
        const entries = ['drizzle-orm', 'drizzle-orm/pg-core', 'drizzle-orm/node-postgres', 'drizzle-orm/pglite'];
        const keys = await Promise.all(entries.map(async (e) => Object.keys(await import(e)).sort()));
        console.log(JSON.stringify(keys));`;
      // A process each: a hook applies to a whole process, and modules are loaded once per process.
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dirname(fileURLToPath(import.meta.url)),
        encoding: 'utf8',
      });
      return JSON.parse(out) as string[][];
    };
    const plain = load(false);
    expect(plain.every((keys) => keys.length > 0)).toBe(true);
    expect(load(true)).toEqual(plain);
  });
});
