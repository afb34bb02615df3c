import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Fast and self-contained: no engine, no stack, no CLI process (those tests are in e2e).
          include: ['test/unit/**/*.test.{ts,tsx}', 'test/contract/**/*.test.ts', 'test/tui/**/*.test.{ts,tsx}'],
          exclude: ['**/*.int.test.ts'],
          testTimeout: 30_000,
          // PGlite's first init takes seconds on a busy 2-core machine.
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Whole stacks in-process and the CLI as a process; no engine.
          name: 'e2e',
          include: ['test/e2e/**/*.test.{ts,tsx}'],
          exclude: ['**/*.int.test.{ts,tsx}', '**/*.browser.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // A real headless Chromium (Debian `chromium`) against an embedded stack: `npm run test:browser`.
          name: 'browser',
          include: ['test/e2e/**/*.browser.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.{ts,tsx}'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // Faults on real engines under load (kill -9, engine outages, poison): minutes, so only from `npm run test:chaos` and CI.
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'release',
          // Packs, installs and runs the package: minutes, so only from `npm run test:release` and CI.
          include: ['test/release/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
