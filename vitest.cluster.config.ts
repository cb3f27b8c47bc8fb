import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: Handoff on a production-shaped Temporal cluster (PostgreSQL, four Temporal
 * services). Not part of `npm test`: the first run builds the Temporal server (10-15 minutes).
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.spec.ts'],
    setupFiles: ['test/setup/quiet-temporal.ts'],
    testTimeout: 300_000,
    // Building the server from the Go module proxy, once.
    hookTimeout: 1_800_000,
    maxWorkers: 1,
  },
});
