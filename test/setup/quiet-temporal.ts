/**
 * Every test process logs Temporal's worker and bundler at WARN: their INFO lines (worker state
 * changes, webpack statistics) would bury the test output. A test that needs them can still pass
 * its own logger to bundleWorkflowCode.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed in this process (vitest reuses workers): the first install stands.
}
