// Fastify's per-request lines ("incoming request", "request completed") are debug, not info (issue
// 12): at info they were two lines per Graph notification. Over real HTTP, with pino writing JSON
// lines the test reads; no Temporal server (the client points at a closed port, /healthz does not ask it).
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../src/temporal/ports.js';
import { buildWebhookServer, type WebhookDeps } from '../src/webhook/index.js';
import { post, TEST_CALLBACK_SECRET } from './support/webhook-fixtures.js';

let connection: Connection;
let temporal: Client;

beforeAll(async () => {
  connection = Connection.lazy({ address: `127.0.0.1:${await getFreePort()}` });
  temporal = new Client({ connection, namespace: 'default' });
});

afterAll(async () => {
  await connection?.close();
});

/** Serves one GET /healthz and one unsigned notification POST at `level`; the log lines written. */
async function linesAt(level: string): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const deps: WebhookDeps = {
    temporal,
    taskQueue: 'unreachable',
    namespace: 'default',
    publicBaseUrl: 'https://bot.handoff.test',
    callbackSecrets: [TEST_CALLBACK_SECRET],
    incomingCallPolicy: {},
    botAppId: 'bot-app-id-for-log-tests',
    notificationAuth: {
      // Never fetched: the server is not made ready, so a notification is refused with 503.
      jwksUrl: 'http://127.0.0.1:9/keys',
      issuers: ['https://api.botframework.com'],
      audience: 'bot-app-id-for-log-tests',
      allowedTenants: 'any',
    },
    logger: { level, stream },
  };
  const app = buildWebhookServer(deps);
  // listen() runs onReady, which starts the key fetch; an unreachable key server only logs.
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await post(`${url}/api/calls`, { value: [] })).status).toBe(401);
  } finally {
    await app.close();
  }
  return lines;
}

const perRequest = (lines: Array<Record<string, unknown>>) =>
  lines.filter((line) => line.msg === 'incoming request' || line.msg === 'request completed');

describe('per-request log lines', () => {
  it('are not written at info', async () => {
    const lines = await linesAt('info');
    expect(perRequest(lines)).toEqual([]);
    // What happened is still there at its own level: the refused notification.
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'notification refused: invalid token' }));
  });

  it('are written at debug, two per request', async () => {
    const lines = perRequest(await linesAt('debug'));
    expect(lines.filter((line) => line.msg === 'incoming request')).toHaveLength(2);
    expect(lines.filter((line) => line.msg === 'request completed')).toHaveLength(2);
    expect(lines.every((line) => line.level === 20)).toBe(true);
  });
});
