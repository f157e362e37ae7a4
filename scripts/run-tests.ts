import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * `npm test`: the browser tests (Playwright), then every Vitest project, each run whatever the
 * other did, so one failing browser test never hides four thousand tests that did not run.
 * Arguments (`npm test -- --coverage packages/cli`) go to Vitest. The exit code is 0 only if
 * both suites passed. The runners are found on PATH (npm puts node_modules/.bin first), with
 * this checkout's node_modules/.bin as the fallback when the script is run directly.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Suite {
  name: string;
  command: string;
  args: string[];
}

function run(suite: Suite, env: NodeJS.ProcessEnv): boolean {
  const result = spawnSync(suite.command, suite.args, { cwd: ROOT, env, stdio: 'inherit' });
  if (result.error) console.error(`${suite.name}: could not start (${result.error.message})`);
  return result.status === 0;
}

const env = {
  ...process.env,
  PATH: [process.env.PATH, join(ROOT, 'node_modules', '.bin')].filter(Boolean).join(delimiter),
};
const suites: Suite[] = [
  { name: 'browser tests (playwright test)', command: 'playwright', args: ['test'] },
  { name: 'Vitest (vitest run)', command: 'vitest', args: ['run', ...process.argv.slice(2)] },
];
const failed = suites.filter((suite) => !run(suite, env)).map((suite) => suite.name);
console.log(
  failed.length === 0
    ? '\nnpm test: every suite passed'
    : `\nnpm test: FAILED: ${failed.join(', ')}`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
