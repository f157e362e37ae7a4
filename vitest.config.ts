import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One Vitest project per workspace package, defined inline with `extends: true` so each
// inherits the options below (a bare glob such as `projects: ['packages/*']` would not).
const packages = readdirSync(new URL('./packages', import.meta.url));

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: packages.map((name) => ({
      extends: true,
      test: {
        name,
        root: `packages/${name}`,
        include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
      },
    })),
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.{ts,tsx}'],
      exclude: ['**/*.test.{ts,tsx}'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
    },
  },
});
