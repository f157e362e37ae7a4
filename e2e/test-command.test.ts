import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/paths.ts';
import { childEnv, spawnProcess } from './support/processes.ts';

/*
 * `npm test`'s runner (scripts/run-tests.ts) as a child process, with stand-in `playwright`
 * and `vitest` commands first on PATH that record their arguments and exit as told: every
 * suite runs whatever the others did, and the exit code says whether all passed.
 */

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** Stand-in runners exiting with `exits` (a number, or "kill" for death by SIGKILL). */
async function standIns(exits: { playwright: number | 'kill'; vitest: number | 'kill' }) {
  const dir = await mkdtemp(join(tmpdir(), 'parley-test-command-'));
  dirs.push(dir);
  for (const [name, exit] of Object.entries(exits)) {
    const end = exit === 'kill' ? 'kill -9 $$' : `exit ${exit}`;
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/${name}.args"\n${end}\n`);
    await chmod(path, 0o755);
  }
  const ran = async (name: string) =>
    (await readFile(join(dir, `${name}.args`), 'utf8').catch(() => undefined))
      ?.split('\n')
      .filter(Boolean);
  return { dir, ran };
}

async function npmTest(dir: string, args: string[]) {
  const proc = spawnProcess([join(REPO_ROOT, 'scripts/run-tests.ts'), ...args], {
    cwd: REPO_ROOT,
    env: childEnv(dir, { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` }),
  });
  const exit = await proc.exited;
  return { code: exit.code, stdout: proc.stdout() };
}

describe('npm test (scripts/run-tests.ts)', () => {
  it('runs Vitest, with the arguments given, even when the browser tests failed; exits 1', async () => {
    const { dir, ran } = await standIns({ playwright: 1, vitest: 0 });
    const result = await npmTest(dir, ['--coverage', '--reporter=json']);
    expect(await ran('playwright')).toEqual(['test']);
    expect(await ran('vitest')).toEqual(['run', '--coverage', '--reporter=json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('npm test: FAILED: browser tests (playwright test)');
  });

  it.each([
    [{ playwright: 0, vitest: 1 }, 1, 'FAILED: Vitest (vitest run)'],
    [{ playwright: 'kill', vitest: 0 }, 1, 'FAILED: browser tests (playwright test)'],
    [
      { playwright: 1, vitest: 1 },
      1,
      'FAILED: browser tests (playwright test), Vitest (vitest run)',
    ],
    [{ playwright: 0, vitest: 0 }, 0, 'every suite passed'],
  ] as const)('%j: exit code %i, "%s"', async (exits, code, says) => {
    const { dir, ran } = await standIns(exits);
    const result = await npmTest(dir, []);
    expect(await ran('vitest')).toEqual(['run']);
    expect(result.code).toBe(code);
    expect(result.stdout).toContain(says);
  });
});
