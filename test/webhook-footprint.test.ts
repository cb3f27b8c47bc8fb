// What a webhook process loads (issue 12, row 5): the webhook only signals and starts workflows, so
// the packages only a worker or tracing needs stay out of it. Each is ~5–15 MB of RSS: the worker's
// native bridge, MSAL (only a worker asks Graph for tokens) and the OpenTelemetry SDK when tracing is
// off. A real webhook process (src/bin/webhook.ts) is started to ready with a module hook that lists
// every module it loads; with tracing on, the same hook must see the OpenTelemetry SDK, so the
// listing is known to catch a package that is loaded.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { type LocalTemporalEnvironment, startLocalTemporal } from './support/temporal.js';
import { startWebhookProcess } from './support/webhook-process.js';

const listingHook = fileURLToPath(new URL('./support/loaded-modules.mjs', import.meta.url));
const workerOnlyPackages = ['@temporalio/worker', '@temporalio/core-bridge', '@azure/msal-node'];
const tracingPackages = [
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/exporter-trace-otlp-http',
  '@temporalio/interceptors-opentelemetry',
];

let temporal: LocalTemporalEnvironment;
let sim: GraphSimulator;
let listings: string;

beforeAll(async () => {
  [temporal, sim] = await Promise.all([startLocalTemporal(), startSimulator()]);
  listings = mkdtempSync(join(tmpdir(), 'handoff-loaded-modules-'));
}, 120_000);

afterAll(async () => {
  await Promise.all([sim?.stop(), temporal?.teardown()]);
  if (listings) rmSync(listings, { recursive: true, force: true });
});

/** The packages a webhook process loaded by the time it was ready, by name. */
async function packagesLoadedByWebhook(name: string, env: Record<string, string> = {}): Promise<Set<string>> {
  const file = join(listings, `${name}.txt`);
  const webhook = startWebhookProcess({
    name,
    temporalAddress: temporal.address,
    namespace: temporal.namespace ?? 'default',
    taskQueue: `footprint-${name}`,
    simulatorUrl: sim.url,
    nodeArgs: ['--import', listingHook],
    env: { HANDOFF_LOADED_MODULES_FILE: file, ...env },
  });
  try {
    await webhook.ready;
  } finally {
    await webhook.kill();
  }
  const packages = readFileSync(file, 'utf8')
    .split('\n')
    // The innermost node_modules names the package: a copy nested under another package counts too.
    .map((url) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
    .filter((name): name is string => name !== undefined);
  return new Set(packages);
}

describe('the webhook process', () => {
  it('loads neither the worker, MSAL nor, with tracing off, the OpenTelemetry SDK', async () => {
    const loaded = await packagesLoadedByWebhook('webhook-untraced');
    // The hook sees packages at all: the Temporal client and fastify are what a webhook is made of.
    expect(loaded).toContain('@temporalio/client');
    expect(loaded).toContain('fastify');
    for (const name of [...workerOnlyPackages, ...tracingPackages]) expect(loaded).not.toContain(name);
  });

  it('loads the OpenTelemetry SDK once tracing is on, and still no worker or MSAL', async () => {
    const loaded = await packagesLoadedByWebhook('webhook-traced', {
      // Nothing is exported before the process is killed: no collector needs to listen.
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    });
    for (const name of tracingPackages) expect(loaded).toContain(name);
    for (const name of workerOnlyPackages) expect(loaded).not.toContain(name);
  });
});
