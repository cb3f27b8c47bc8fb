import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/quiet-temporal.ts'],
    // Temporal servers and workers take seconds to start on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts its own servers on free ports; two at a time keeps a 2-core machine responsive.
    maxWorkers: 2,
  },
});
