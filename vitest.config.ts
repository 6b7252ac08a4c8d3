import { defineConfig } from 'vitest/config';

// Integration tests that need external components (crash + vmcores, PostgreSQL, Chromium, the
// kernel source tree, real git) check for them in beforeAll and fail with a message naming what is
// missing when KTRIAGE_REQUIRE_ALL=1 (CI), and skip otherwise (a developer's machine).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 1_800_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
