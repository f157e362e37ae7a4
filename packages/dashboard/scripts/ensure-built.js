import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * Builds the dashboard when dist/ is missing or older than its sources: `npm start` on a fresh
 * clone serves the onboarding without a separate build step, and the browser tests (Playwright's
 * global setup) never test stale files. Run directly (`node …/ensure-built.js`) or import it.
 *
 * Plain JavaScript on purpose, like the server's main.js: it runs before every `npm start`
 * (prestart), and a .ts file would make that Node process load the type stripper first
 * (~0.15–0.2 s of CPU of the ~0.3 s this check took; docs/performance.md).
 */

const DASHBOARD = fileURLToPath(new URL('..', import.meta.url));

/** @param {string} path @returns {number} The newest modification time under `path`. */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

export function ensureDashboardBuilt() {
  const built = join(DASHBOARD, 'dist/index.html');
  const sources = Math.max(
    newest(join(DASHBOARD, 'src')),
    newest(join(DASHBOARD, 'index.html')),
    newest(join(DASHBOARD, 'vite.config.ts')),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const result = spawnSync('npm', ['run', 'build', '-w', '@parley/dashboard'], {
    cwd: join(DASHBOARD, '../..'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) throw new Error('npm run build -w @parley/dashboard failed');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureDashboardBuilt();

/** Playwright's global setup (playwright.config.ts). */
export default ensureDashboardBuilt;
