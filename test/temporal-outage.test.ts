// Temporal goes away and comes back (issue 4, item 5). A dev server this test starts itself
// (src/temporal/dev-server.ts) on a fixed port with its state in a temp SQLite file; the webhook's client
// made the way the app makes it (connectClient, src/temporal/connection.ts); a worker running the
// recording stand-in for `transferCall`. The server is stopped and started again on the SAME port and
// SAME database file, and the same webhook, with the same client, must recover on its own.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { type NativeConnection, Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TemporalSettings } from '../src/config/env.js';
import { connectClient } from '../src/temporal/connection.js';
import { type DevServer, startDevServer } from '../src/temporal/dev-server.js';
import { getFreePort } from '../src/temporal/ports.js';
import { connectWorker } from '../src/temporal/worker-connection.js';
import { buildApiServer, buildWebhookServer, type WebhookDeps } from '../src/webhook/index.js';
import type { NotificationDelivery } from '../src/workflows/definitions.js';
import {
  callbackPathFor,
  callStateBody,
  createSigningKey,
  eventually,
  forgeToken,
  get,
  type KeyServer,
  post,
  startKeyServer,
  TEST_CALLBACK_SECRET,
  type TestSigningKey,
} from './support/webhook-fixtures.js';
import { recordedDeliveriesQuery } from './support/workflows/webhook-recorder.js';

const ISSUER = 'https://api.botframework.com';
const BOT_APP_ID = 'outage-test-bot';
const API_TOKEN = 'outage-test-api-token';
const NAMESPACE = 'default';
const taskQueue = `outage-test-${randomUUID()}`;

let dataDir: string;
let dbFile: string;
let port: number;
let devServer: DevServer | undefined;
let client: Client;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let key: TestSigningKey;
let keyServer: KeyServer;
let webhook: FastifyInstance;
let webhookUrl: string;
let api: FastifyInstance;
let apiUrl: string;

function startServer(): Promise<DevServer> {
  return startDevServer({ port, dbFile, namespace: NAMESPACE });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'handoff-outage-'));
  dbFile = join(dataDir, 'temporal.db');
  port = await getFreePort();
  key = await createSigningKey('outage-key');
  [devServer, keyServer] = await Promise.all([startServer(), startKeyServer([key.publicJwk])]);
  const settings: TemporalSettings = {
    address: devServer.address,
    namespace: NAMESPACE,
    taskQueue,
    embedded: { port, uiPort: 0 },
  };
  client = await connectClient(settings, devServer.address);
  workerConnection = await connectWorker(settings, devServer.address);
  worker = await Worker.create({
    connection: workerConnection,
    namespace: NAMESPACE,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./support/workflows/webhook-recorder.ts', import.meta.url)),
  });
  workerRun = worker.run();
  const deps: WebhookDeps = {
    temporal: client,
    taskQueue,
    namespace: NAMESPACE,
    publicBaseUrl: 'https://bot.handoff.test',
    callbackSecrets: [TEST_CALLBACK_SECRET],
    botAppId: BOT_APP_ID,
    incomingCallPolicy: {},
    // Tenants are not this file's concern: test/notification-trust.test.ts checks them.
    notificationAuth: {
      jwksUrl: keyServer.jwksUrl,
      issuers: [ISSUER],
      audience: BOT_APP_ID,
      allowedTenants: 'any',
    },
    apiToken: API_TOKEN,
    logger: false,
  };
  webhook = buildWebhookServer(deps);
  await webhook.listen({ host: '127.0.0.1', port: 0 });
  webhookUrl = `http://127.0.0.1:${(webhook.server.address() as AddressInfo).port}`;
  // The transfers API has its own listener (issue 9.2).
  api = buildApiServer(deps);
  await api.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await webhook?.close();
  await api?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await workerRun;
  await Promise.all([workerConnection?.close(), client?.connection.close(), keyServer?.stop()]);
  await devServer?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function deliveriesOf(workflowId: string): Promise<NotificationDelivery[]> {
  return client.workflow.getHandle(workflowId).query(recordedDeliveriesQuery);
}

async function notify(workflowId: string, callId: string, state: string) {
  const token = await forgeToken(key, { issuer: ISSUER, audience: BOT_APP_ID });
  return post(`${webhookUrl}${callbackPathFor(workflowId)}`, callStateBody(callId, state), { token });
}

describe('while Temporal is down and after it comes back', () => {
  it('answers 503 with Retry-After, is live but not ready, then recovers on the same client', async () => {
    const callId = randomUUID();
    const started = await post(
      `${apiUrl}/api/transfers`,
      {
        callId,
        target: { kind: 'joinMeetingId', joinMeetingId: '1234567890' },
        invitee: { user: { id: '8a34a46b-3d17-4adc-8dce-dc4e7d572698' } },
      },
      { token: API_TOKEN },
    );
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const workflowId: string = started.body.workflowId;
    expect((await notify(workflowId, callId, 'establishing')).status).toBe(202);
    expect(await get(`${webhookUrl}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });

    await devServer!.stop();
    await devServer!.exited;

    // `hold`: a state no other step sends, so the recorder would show it had this one got through.
    const refused = await notify(workflowId, callId, 'hold');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body).toEqual({
      error: { code: 'temporal_unavailable', message: expect.stringContaining('retry after 5 s') },
    });
    expect(JSON.stringify(refused.body)).not.toMatch(/\bat |\/src\/|node_modules/);
    const notReady = await get(`${webhookUrl}/readyz`);
    expect(notReady.status).toBe(503);
    expect(notReady.body.error.code).toBe('temporal_unavailable');
    expect(await get(`${webhookUrl}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });

    // The same port and the same SQLite file: the workflow started before the outage is still there.
    devServer = await startServer();
    const restartedAt = Date.now();
    await eventually(
      '/readyz to answer 200 after the restart',
      async () => ((await get(`${webhookUrl}/readyz`)).status === 200 ? true : undefined),
      30_000,
    );
    const readyAfterMs = Date.now() - restartedAt;

    const delivered = await eventually(
      'a notification to be accepted again',
      async () => {
        const answer = await notify(workflowId, callId, 'established');
        return answer.status === 202 ? answer : undefined;
      },
      15_000,
    );
    expect(delivered.body.deliveries).toMatchObject([{ workflowId, outcome: 'signalled' }]);
    const states = await eventually(
      'the workflow to record the notification sent after the restart',
      async () => {
        const recorded = (await deliveriesOf(workflowId)).flatMap((delivery) =>
          delivery.notifications.map((notification) =>
            notification.kind === 'call' ? notification.call.state : notification.kind,
          ),
        );
        return recorded.includes('established') ? recorded : undefined;
      },
      30_000,
    );
    // The notification answered 503 was never signalled: only the one before the outage and the one after.
    expect(states).toEqual(['establishing', 'established']);
    console.info(`[temporal-outage] /readyz answered 200 ${readyAfterMs} ms after the server was back`);
  });
});
