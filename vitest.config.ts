import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/** Dashboard tests whose components talk to a real server started in the test's process. */
const DASHBOARD_WITH_SERVER = 'test/**/*.server.test.tsx';

// One Vitest project per workspace package, defined inline with `extends: true` so each
// inherits the options below (a bare glob such as `projects: ['packages/*']` would not).
const workspaces: {
  name: string;
  root: string;
  include?: string[];
  exclude?: string[];
  environment?: string;
}[] = [
  ...['packages', 'plugins'].flatMap((dir) =>
    readdirSync(new URL(`./${dir}`, import.meta.url)).map((name) => ({
      name,
      root: `${dir}/${name}`,
      ...(name === 'dashboard'
        ? { exclude: [...configDefaults.exclude, DASHBOARD_WITH_SERVER] }
        : {}),
    })),
  ),
  // Those run in jsdom with their modules transformed for Node, so that the server starts
  // (packages/dashboard/test/support/jsdom-with-server.ts); a file's own docblock cannot name
  // an environment by path.
  {
    name: 'dashboard-server',
    root: 'packages/dashboard',
    include: [DASHBOARD_WITH_SERVER],
    environment: './test/support/jsdom-with-server.ts',
  },
  // Golden-path tests across processes (servers and the CLI as child processes), at e2e/*.test.ts.
  { name: 'e2e', root: 'e2e', include: ['*.test.ts'] },
  // Checks of the repository as a whole (the package layers against layers.json), at scripts/*.test.ts.
  { name: 'repo', root: 'scripts', include: ['*.test.ts'] },
  // The benchmarks' own helpers (the benchmarks themselves only report), at bench/*.test.ts.
  { name: 'bench', root: 'bench', include: ['*.test.ts'] },
];

export default defineConfig({
  test: {
    // Two files at a time even on a 2-core machine (Vitest's default there is one): most of a
    // server test's time is spent waiting on servers, child processes and sockets, not on CPU.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The migrated database template test databases are copied from (store's test/support).
    globalSetup: [
      fileURLToPath(new URL('./packages/store/test/support/global-setup.ts', import.meta.url)),
    ],
    projects: workspaces.map(({ name, root, include, exclude, environment }) => ({
      extends: true,
      test: {
        name,
        root,
        include: include ?? ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
        ...(exclude ? { exclude } : {}),
        ...(environment ? { environment } : {}),
      },
    })),
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.{ts,tsx}', 'plugins/*/src/**/*.{ts,tsx}'],
      exclude: ['**/*.test.{ts,tsx}'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
    },
  },
});
