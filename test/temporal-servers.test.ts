// Proves that the Temporal binaries from `npm run setup` start real servers that run workflows, with
// the Handoff search attributes and the UI, and that setup and binary lookup behave as documented.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { resolveTemporalCli, resolveTimeSkippingServer } from '../src/temporal/binaries.js';
import { type DevServer, startDevServer } from '../src/temporal/dev-server.js';
import { projectRoot } from '../src/temporal/project-root.js';
import { HandoffFlow, handoffSearchAttributes } from '../src/temporal/search-attributes.js';
import {
  type LocalTemporalEnvironment,
  startLocalTemporal,
  startTimeSkippingTemporal,
} from './support/temporal.js';
import { pongSignal, sleepThenPing, waitForPong } from './support/workflows/ping.js';

const workflowsPath: string = fileURLToPath(new URL('./support/workflows/ping.ts', import.meta.url));
const ONE_DAY_MS = 86_400_000;

function withEnv<T>(name: string, value: string, run: () => T): T {
  const previous: string | undefined = process.env[name];
  process.env[name] = value;
  try {
    return run();
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  }
}

/** The UI may start listening a moment after the gRPC frontend answers. */
async function fetchWithRetry(url: string, timeoutMs: number): Promise<Response> {
  const deadline: number = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2_000) });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  }
}

async function expectHandoffSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  for (const key of handoffSearchAttributes) {
    expect(customAttributes?.[key.name], key.name).toBe(encodeSearchAttributeIndexedValueType(key.type));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runSetup(): { status: number | null; output: string; ms: number } {
  const startedAt: number = Date.now();
  const result = spawnSync(process.execPath, [join(projectRoot(), 'scripts', 'setup-temporal.mjs')], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, ms: Date.now() - startedAt };
}

describe('Temporal binaries', () => {
  it('installs nothing when `npm run setup` runs a second time', () => {
    const first = runSetup();
    expect(first.status, first.output).toBe(0);
    const second = runSetup();
    expect(second.status, second.output).toBe(0);
    expect(second.output).toContain('nothing to install');
    expect(second.output).not.toContain('installing');
    expect(second.ms).toBeLessThan(10_000);
  });

  it('resolves both binaries to absolute paths', () => {
    expect(resolveTemporalCli()).toMatch(/^\/.*temporal$/);
    expect(resolveTimeSkippingServer()).toMatch(/^\/.*temporal-test-server$/);
  });

  it('names `npm run setup` and TEMPORAL_CLI_PATH when TEMPORAL_CLI_PATH points at a missing file', () => {
    withEnv('TEMPORAL_CLI_PATH', '/nonexistent/temporal', () => {
      expect(() => resolveTemporalCli()).toThrow(/TEMPORAL_CLI_PATH=\/nonexistent\/temporal/);
      expect(() => resolveTemporalCli()).toThrow(/npm run setup/);
    });
  });

  it('names `npm run setup` and TEMPORAL_TEST_SERVER_PATH when that override points at a missing file', () => {
    withEnv('TEMPORAL_TEST_SERVER_PATH', '/nonexistent/temporal-test-server', () => {
      expect(() => resolveTimeSkippingServer()).toThrow(/TEMPORAL_TEST_SERVER_PATH=.*npm run setup/);
    });
  });
});

describe('dev server through @temporalio/testing (startLocalTemporal)', () => {
  let env: LocalTemporalEnvironment;

  beforeAll(async () => {
    const startedAt: number = Date.now();
    env = await startLocalTemporal();
    console.info(`startLocalTemporal: dev server ready in ${Date.now() - startedAt} ms at ${env.address}`);
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow that sleeps and one that sets a search attribute and waits for a signal', async () => {
    const taskQueue = `ping-${randomUUID()}`;
    const worker: Worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath,
    });
    await worker.runUntil(async () => {
      const slept: string = await env.client.workflow.execute(sleepThenPing, {
        args: [200],
        taskQueue,
        workflowId: `sleep-${randomUUID()}`,
      });
      expect(slept).toMatch(/^ping after \d+ ms$/);

      const handle = await env.client.workflow.start(waitForPong, {
        taskQueue,
        workflowId: `pong-${randomUUID()}`,
      });
      await handle.signal(pongSignal, 'hello');
      expect(await handle.result()).toBe('pong: hello');
      expect((await handle.describe()).typedSearchAttributes.get(HandoffFlow)).toBe('ping');
    });
  });

  it('registers the Handoff search attributes with their types', async () => {
    await expectHandoffSearchAttributes(env.connection, 'default');
  });

  it('serves the Temporal UI over HTTP on 127.0.0.1', async () => {
    expect(env.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response: Response = await fetchWithRetry(env.uiUrl, 20_000);
    expect(response.status).toBe(200);
  });
});

describe('time-skipping server (startTimeSkippingTemporal)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    const startedAt: number = Date.now();
    env = await startTimeSkippingTemporal();
    console.info(`startTimeSkippingTemporal: ready in ${Date.now() - startedAt} ms at ${env.address}`);
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('skips a one-day sleep', async () => {
    const taskQueue = `ping-${randomUUID()}`;
    const worker: Worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath,
    });
    const startedAt: number = Date.now();
    const result: string = await worker.runUntil(
      env.client.workflow.execute(sleepThenPing, {
        args: [ONE_DAY_MS],
        taskQueue,
        workflowId: `sleep-${randomUUID()}`,
      }),
    );
    const workflowMs = Number(/^ping after (\d+) ms$/.exec(result)?.[1]);
    expect(workflowMs).toBeGreaterThanOrEqual(ONE_DAY_MS);
    expect(Date.now() - startedAt).toBeLessThan(30_000);
  });
});

describe('dev server for `npm start` (startDevServer)', () => {
  let dataDir: string;
  let server: DevServer | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'handoff-dev-server-'));
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts on 127.0.0.1 with the search attributes and UI, keeps state in SQLite across restarts, and stops', async () => {
    const dbFile: string = join(dataDir, 'handoff.db');
    const namespace = 'handoff-test';
    let startedAt: number = Date.now();
    server = await startDevServer({ dbFile, namespace });
    console.info(`startDevServer: ready in ${Date.now() - startedAt} ms at ${server.address}`);
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await fetch(server.uiUrl)).status).toBe(200);

    let connection: Connection = await Connection.connect({ address: server.address });
    await expectHandoffSearchAttributes(connection, namespace);
    const workflowId = `persisted-${randomUUID()}`;
    // Nothing polls this task queue: the execution just has to survive the restart.
    await new Client({ connection, namespace }).workflow.start(waitForPong, {
      taskQueue: 'nobody',
      workflowId,
    });
    await connection.close();

    await server.stop();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(() => process.kill(server!.pid, 0)).toThrow();

    startedAt = Date.now();
    server = await startDevServer({ dbFile, namespace });
    console.info(`startDevServer: restarted on the same database in ${Date.now() - startedAt} ms`);
    connection = await Connection.connect({ address: server.address });
    const description = await new Client({ connection, namespace }).workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    await connection.close();
    await server.stop();
  });

  it('stops the server when the process that started it is SIGKILLed', async () => {
    const devServerModule: string = join(projectRoot(), 'src', 'temporal', 'dev-server.ts');
    const script = `
      import { startDevServer } from ${JSON.stringify(devServerModule)};
      const server = await startDevServer({ dbFile: ${JSON.stringify(join(dataDir, 'orphan.db'))} });
      console.log('PID ' + server.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Also when the test fails or times out half-way.
    onTestFinished(() => {
      parent.kill('SIGKILL');
    });
    const serverPid: number = await new Promise<number>((resolvePid, reject) => {
      let output = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match: RegExpExecArray | null = /PID (\d+)/.exec(output);
        if (match) resolvePid(Number(match[1]));
      });
      parent.once('exit', (code) =>
        reject(new Error(`parent exited with ${code} before the server was ready`)),
      );
    });
    expect(isAlive(serverPid)).toBe(true);

    parent.kill('SIGKILL');
    const deadline: number = Date.now() + 15_000;
    while (isAlive(serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(serverPid)).toBe(false);
  });
});
