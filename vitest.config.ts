import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One Vitest project per workspace package, defined inline with `extends: true` so each
// inherits the options below (a bare glob such as `projects: ['packages/*']` would not).
const workspaces: { name: string; root: string; include?: string[] }[] = [
  ...['packages', 'plugins'].flatMap((dir) =>
    readdirSync(new URL(`./${dir}`, import.meta.url)).map((name) => ({
      name,
      root: `${dir}/${name}`,
    })),
  ),
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
    projects: workspaces.map(({ name, root, include }) => ({
      extends: true,
      test: {
        name,
        root,
        include: include ?? ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
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
