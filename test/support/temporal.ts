// Real Temporal servers for tests, started from the binaries `npm run setup` installs (never the SDK's
// own download, which needs the internet). A missing binary throws the message from binaries.ts, which
// says to run `npm run setup` or which env var to set: tests fail, they never skip.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTemporalCli, resolveTimeSkippingServer } from '../../src/temporal/binaries.js';
import { searchAttributeArgs } from '../../src/temporal/dev-server.js';
import { getFreePort } from '../../src/temporal/ports.js';
import { handoffSearchAttributes } from '../../src/temporal/search-attributes.js';

/** A dev-server environment that also knows its UI; `teardown()` stops the server and deletes its data. */
export type LocalTemporalEnvironment = TestWorkflowEnvironment & { readonly uiUrl: string };

/**
 * A full Temporal dev server (`temporal server start-dev`) on 127.0.0.1 with the Handoff search
 * attributes registered, its UI enabled and its SQLite data in a fresh temp folder.
 *
 * Path chosen: `TestWorkflowEnvironment.createLocal` with an `existing-path` executable. Its start-up
 * wait is fixed (50 connection attempts 100 ms apart, about 5 s), which the design notes feared is too
 * short on a busy 2-core machine. Measured here it came up in 43 of 43 direct starts: 0.25-1 s when quiet
 * or beside a `tsc` loop, at most 5.2 s at load averages of 5-14 (CPU hogs, `tsc` and four parallel
 * starts); and in every run of the test suite, also under load. Two caveats of
 * this path: the SDK leaves the server running if that wait fails or if the test process is SIGKILLed
 * (no parent-death handling), and the server's warnings go straight to the test output. If start-up
 * ever flakes, switch this function to `startDevServer` (src/temporal/dev-server.ts: 60 s readiness
 * wait, kills the server when the parent dies) plus `TestWorkflowEnvironment.createFromExistingServer`.
 */
export async function startLocalTemporal(): Promise<LocalTemporalEnvironment> {
  const executable: string = resolveTemporalCli();
  const dataDir: string = mkdtempSync(join(tmpdir(), 'handoff-temporal-'));
  const removeData = (): void => rmSync(dataDir, { recursive: true, force: true });
  try {
    const uiPort: number = await getFreePort();
    const env: TestWorkflowEnvironment = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: executable },
        ip: '127.0.0.1',
        port: await getFreePort(),
        ui: true,
        uiPort,
        dbFilename: join(dataDir, 'temporal.db'),
        log: { format: 'pretty', level: 'warn' },
        // The UI would otherwise fetch a news feed from the internet.
        extraArgs: [...searchAttributeArgs(handoffSearchAttributes), '--ui-disable-news-fetch'],
      },
    });
    const stopServer: () => Promise<void> = env.teardown.bind(env);
    env.teardown = async (): Promise<void> => {
      await stopServer();
      removeData();
    };
    return Object.assign(env, { uiUrl: `http://127.0.0.1:${uiPort}` });
  } catch (error) {
    removeData();
    throw error;
  }
}

/**
 * The Java time-skipping test server: timers fire as soon as the workflow waits on them while a client
 * awaits a result. It binds all interfaces (its only option is the port). It does not skip time while a
 * client waits on an update and is slated for deprecation, so end-to-end tests belong on the dev server.
 */
export async function startTimeSkippingTemporal(): Promise<TestWorkflowEnvironment> {
  return await TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: { type: 'existing-path', path: resolveTimeSkippingServer() },
      port: await getFreePort(),
    },
  });
}
