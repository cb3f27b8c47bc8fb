// A worker joining a cluster without Handoff's search attributes stops before polling, with the exact
// `temporal operator search-attribute create …` commands; once those commands ran, it starts. Against a
// real dev server started without the attributes and the real worker process (src/bin/worker.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { resolveTemporalCli } from '../src/temporal/binaries.js';
import { type DevServer, startDevServer } from '../src/temporal/dev-server.js';
import { buildTestWorkflowBundle, type TestWorkflowBundle } from './support/handoff-stack.js';
import { startWorkerProcess } from './support/worker-process.js';

const run = promisify(execFile);

let dataDir: string;
let server: DevServer;
let sim: GraphSimulator;
let bundle: TestWorkflowBundle;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'handoff-search-attributes-'));
  [server, sim, bundle] = await Promise.all([
    startDevServer({ dbFile: join(dataDir, 'temporal.db'), searchAttributes: [] }),
    startSimulator(),
    buildTestWorkflowBundle(),
  ]);
});

afterAll(async () => {
  await server?.stop();
  await sim?.stop();
  bundle?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function worker(name: string) {
  return startWorkerProcess({
    temporalAddress: server.address,
    namespace: server.namespace,
    taskQueue: `handoff-${name}`,
    simulatorUrl: sim.url,
    workflowBundlePath: bundle.path,
    name,
  });
}

describe('a worker on a cluster without Handoff search attributes', () => {
  it('stops before polling with the commands that create them, and starts once they ran', async () => {
    const refused = worker('without-attributes');
    await expect(refused.ready).rejects.toThrow();
    const exit = await refused.exited;
    expect(exit.code).toBe(1);
    const output = refused.output.join('\n');
    expect(output).not.toContain('[handoff-worker] ready');
    expect(output).toContain(
      `Temporal namespace default at ${server.address} lacks Handoff's search attributes HandoffCallIds, HandoffTransferState, HandoffFlow, HandoffCallOwner, HandoffRoute`,
    );
    const commands = output
      .split('\n')
      .map((line) => line.replace(/^.*?(temporal operator search-attribute create)/, '$1').trim())
      .filter((line) => line.startsWith('temporal operator search-attribute create'));
    expect(commands).toEqual([
      `temporal operator search-attribute create --address ${server.address} --namespace default --name HandoffCallIds --type KeywordList`,
      `temporal operator search-attribute create --address ${server.address} --namespace default --name HandoffTransferState --type Keyword`,
      `temporal operator search-attribute create --address ${server.address} --namespace default --name HandoffFlow --type Keyword`,
      `temporal operator search-attribute create --address ${server.address} --namespace default --name HandoffCallOwner --type Keyword`,
      `temporal operator search-attribute create --address ${server.address} --namespace default --name HandoffRoute --type Keyword`,
    ]);

    // The commands, verbatim (with the installed CLI), make the cluster fit for Handoff.
    for (const command of commands) {
      const [, ...args] = command.split(' ');
      await run(resolveTemporalCli(), args);
    }
    const started = worker('with-attributes');
    try {
      await started.ready;
    } finally {
      await started.kill();
    }
  }, 120_000);
});
