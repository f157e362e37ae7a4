import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * Dependency hygiene: `npm run lint` runs `npm run lint:lockfile` (lockfile-lint), and CI runs
 * `npm run lint`. These tests run that exact command against the real lockfile and against
 * copies with one entry changed the way a supply-chain attack would change it, so the gate is
 * known to bite; and they check what lockfile-lint does not: that every package installed from
 * the registry carries an integrity hash at all (it skips entries without one).
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

type Lockfile = { packages: Record<string, Record<string, unknown>> };

let scripts: Record<string, string>;
let lockfile: Lockfile;
let dir: string;

beforeAll(async () => {
  scripts = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).scripts;
  lockfile = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8'));
  dir = await mkdtemp(join(tmpdir(), 'parley-lockfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the `lint:lockfile` script's command on a lockfile; resolves with its exit code and output. */
async function lintLockfile(path: string): Promise<{ code: number; output: string }> {
  const [command, ...args] = scripts['lint:lockfile']!.split(' ');
  expect(command).toBe('lockfile-lint');
  const withPath = args.map((arg, i) => (args[i - 1] === '--path' ? path : arg));
  try {
    const { stdout, stderr } = await run(join(ROOT, 'node_modules/.bin/lockfile-lint'), withPath);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/** A copy of the real lockfile with one registry package's entry changed. */
async function tampered(name: string, change: Record<string, unknown>): Promise<string> {
  const copy = structuredClone(lockfile);
  Object.assign(copy.packages['node_modules/zod']!, change);
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(copy));
  return path;
}

describe('the lockfile check CI runs', () => {
  it('is part of npm run lint', () => {
    expect(scripts.lint).toMatch(/&& npm run lint:lockfile$/);
    expect(scripts['lint:lockfile']).toContain('--allowed-hosts npm');
  });

  it('passes the committed lockfile', async () => {
    const { code, output } = await lintLockfile(join(ROOT, 'package-lock.json'));
    expect(output).toContain('No issues detected');
    expect(code).toBe(0);
  });

  it.each([
    [
      'another registry',
      { resolved: 'https://registry.evil.example/zod/-/zod-4.0.0.tgz' },
      /invalid host/,
    ],
    [
      'a git repository',
      { resolved: 'git+ssh://git@github.com/evil/zod.git#main' },
      /invalid host/,
    ],
    [
      'plain http',
      { resolved: 'http://registry.npmjs.org/zod/-/zod-4.0.0.tgz' },
      /invalid protocol/,
    ],
    [
      'a weak hash',
      { integrity: 'sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      /invalid integrity hash type/,
    ],
  ])('refuses a package from %s', async (name, change, message) => {
    const { code, output } = await lintLockfile(await tampered(name.replace(/\W/g, '-'), change));
    expect(output).toMatch(message);
    expect(code).not.toBe(0);
  });

  it('finds an integrity hash on every package installed from the registry (lockfile-lint skips missing ones)', () => {
    const registryPackages = Object.entries(lockfile.packages).filter(
      ([path, entry]) => path.includes('node_modules/') && !entry.link,
    );
    expect(registryPackages.length).toBeGreaterThan(100);
    const without = registryPackages
      .filter(([, entry]) => !/^sha512-/.test(String(entry.integrity ?? '')))
      .map(([path]) => path);
    expect(without).toEqual([]);
  });
});
