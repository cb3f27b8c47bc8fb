// Real Temporal servers for tests, started from the binaries `npm run setup` installs (never the SDK's
// own download, which needs the internet). A missing binary throws the message from binaries.ts, which
// says to run `npm run setup` or which env var to set: tests fail, they never skip.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTimeSkippingServer } from '../../src/temporal/binaries.js';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import { getFreePort } from '../../src/temporal/ports.js';

/** A dev-server environment that also knows its UI; `teardown()` stops the server and deletes its data. */
export type LocalTemporalEnvironment = TestWorkflowEnvironment & { readonly uiUrl: string };

/**
 * How long a test waits for a dev server to accept requests. `TestWorkflowEnvironment.createLocal`
 * allows about 5 s, which a busy 2-core machine exceeded (load average ~10 beside a soak); the
 * default here is generous, and `HANDOFF_TEST_SERVER_START_MS` raises it further.
 */
export function devServerStartTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env.HANDOFF_TEST_SERVER_START_MS;
  if (configured === undefined || configured.trim() === '') return 90_000;
  const value = Number(configured);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(
      `HANDOFF_TEST_SERVER_START_MS must be a positive number of milliseconds, got "${configured}"`,
    );
  }
  return value;
}

/**
 * A full Temporal dev server (`temporal server start-dev`) on 127.0.0.1 with the Handoff search
 * attributes registered, its UI enabled and its SQLite data in a fresh temp folder.
 *
 * The server is started by `startDevServer` (src/temporal/dev-server.ts: readiness means the namespace
 * and every search attribute are served, with a configurable deadline, and the server dies with this
 * process), then the SDK attaches with `createFromExistingServer`. `teardown()` stops both.
 */
export async function startLocalTemporal(): Promise<LocalTemporalEnvironment> {
  const dataDir: string = mkdtempSync(join(tmpdir(), 'handoff-temporal-'));
  const removeData = (): void => rmSync(dataDir, { recursive: true, force: true });
  let server: DevServer | undefined;
  try {
    server = await startDevServer({
      dbFile: join(dataDir, 'temporal.db'),
      startTimeoutMs: devServerStartTimeoutMs(),
    });
    const env: TestWorkflowEnvironment = await TestWorkflowEnvironment.createFromExistingServer({
      address: server.address,
      namespace: server.namespace,
    });
    const running: DevServer = server;
    const closeEnvironment: () => Promise<void> = env.teardown.bind(env);
    env.teardown = async (): Promise<void> => {
      try {
        await closeEnvironment();
      } finally {
        await running.stop();
        removeData();
      }
    };
    return Object.assign(env, { uiUrl: running.uiUrl });
  } catch (error) {
    await server?.stop();
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
  // The SDK gives this server a fixed start-up wait of a few seconds and has no option to raise it:
  // on a loaded machine a start can miss it, so try again (on a new port) before failing.
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: {
          executable: { type: 'existing-path', path: resolveTimeSkippingServer() },
          port: await getFreePort(),
        },
      });
    } catch (error) {
      if (attempt >= attempts || !/did not start|timed out|ECONNREFUSED/i.test(String(error))) throw error;
    }
  }
}
