import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/paths.ts';

/*
 * Playwright's global setup: the server serves the dashboard from packages/dashboard/dist, so
 * build it when it is missing or older than its sources (CI builds it before the tests anyway).
 */

const DASHBOARD = join(REPO_ROOT, 'packages/dashboard');

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

export default function buildDashboard() {
  const built = join(DASHBOARD, 'dist/index.html');
  const sources = Math.max(
    newest(join(DASHBOARD, 'src')),
    newest(join(DASHBOARD, 'index.html')),
    newest(join(DASHBOARD, 'vite.config.ts')),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const result = spawnSync('npm', ['run', 'build', '-w', '@parley/dashboard'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('npm run build -w @parley/dashboard failed');
}
