// Reloading the routing rules with SIGHUP (docs/routing.md, "Reload"), on the listeners `npm start`
// and the webhook process start (src/app/servers.ts): a valid file takes over, an invalid one is
// refused and the rules in force stay, and the API shows both. Temporal is not needed: nothing here
// routes a call (test/routing.test.ts does, end to end).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Listeners, startListeners } from '../src/app/servers.js';
import { webhookDepsFor } from '../src/app/webhook.js';
import { loadConfig } from '../src/config/env.js';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { getFreePort } from '../src/temporal/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'handoff-routing-reload-'));
const rulesPath = join(dir, 'rules.yaml');
const apiToken = 'routing-reload-test-token';
let sim: GraphSimulator;
let connection: Connection;
let listeners: Listeners;
let sighupListenersBefore: number;

const rules = (version: string, target = 'front-desk') =>
  [
    `version: ${version}`,
    'targets:',
    '  front-desk: { identity: { user: { id: 5e1c7a40-0b9d-4f1e-8c43-7c1f6a2b9d10 } } }',
    'rules:',
    `  - { name: guests, match: { callerType: [guest] }, action: { kind: redirect, targets: [${target}] } }`,
  ].join('\n');

async function rulesInForce() {
  const response = await fetch(`${listeners.apiUrl}/api/routing-rules`, {
    headers: { authorization: `Bearer ${apiToken}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    version?: string;
    loadedAt: string;
    lastReloadError?: { message: string };
  };
}

beforeAll(async () => {
  writeFileSync(rulesPath, rules('first'));
  sim = await startSimulator();
  // Nothing listens there: the rules API does not need Temporal.
  connection = Connection.lazy({ address: `127.0.0.1:${await getFreePort()}` });
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    HANDOFF_API_HOST: '127.0.0.1',
    HANDOFF_API_PORT: '0',
    HANDOFF_API_TOKEN: apiToken,
    SIMULATOR_URL: sim.url,
    HANDOFF_ROUTING_RULES: rulesPath,
  });
  sighupListenersBefore = process.listenerCount('SIGHUP');
  const temporal = new Client({ connection, namespace: 'default' });
  listeners = await startListeners(
    config,
    webhookDepsFor(config, temporal, { simulator: sim, logger: false }),
  );
});

afterAll(async () => {
  await listeners?.close();
  await connection?.close();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('SIGHUP loads a valid file, keeps the rules in force when the file is invalid, and stops listening on close', async () => {
  const first = await rulesInForce();
  expect(first.version).toBe('first');

  writeFileSync(rulesPath, rules('second'));
  process.emit('SIGHUP', 'SIGHUP');
  const second = await rulesInForce();
  expect(second.version).toBe('second');
  expect(second.lastReloadError).toBeUndefined();

  writeFileSync(rulesPath, rules('third', 'nobody'));
  process.emit('SIGHUP', 'SIGHUP');
  const kept = await rulesInForce();
  expect(kept.version).toBe('second');
  expect(kept.loadedAt).toBe(second.loadedAt);
  expect(kept.lastReloadError?.message).toContain(
    'rules[0] ("guests"): action.targets[0]: unknown target "nobody" (targets: front-desk)',
  );

  await listeners.close();
  expect(process.listenerCount('SIGHUP')).toBe(sighupListenersBefore);
});
