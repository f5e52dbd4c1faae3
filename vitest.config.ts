import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // the Node entry's V8 flag (relaxed SIMD) in every worker, before any test compiles a core
    setupFiles: ['test/setup/relaxed-simd.ts'],
  },
});
