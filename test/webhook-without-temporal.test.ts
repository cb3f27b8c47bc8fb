// The webhook's token checks (with keys the test publishes and signs with) and its behaviour while
// Temporal cannot be reached (a client pointed at a closed port), over real HTTP. No Temporal server:
// a request that passes authentication reaches the Temporal client and gets 503, which proves it passed.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { getFreePort } from '../src/temporal/ports.js';
import {
  buildApiServer,
  buildWebhookServer,
  createNotificationKeys,
  createNotificationVerifier,
  NotificationAuthError,
  type NotificationAuthOptions,
  type WebhookDeps,
} from '../src/webhook/index.js';
import type { TransferTarget } from '../src/workflows/transfer/types.js';
import {
  callbackPathFor,
  callStateBody,
  createSigningKey,
  forgeToken,
  get,
  type HttpAnswer,
  incomingCallBody,
  type KeyServer,
  post,
  startKeyServer,
  TEST_CALLBACK_SECRET,
  type TestSigningKey,
  unsignedToken,
} from './support/webhook-fixtures.js';

const ISSUER = 'https://api.botframework.com';
const BOT_APP_ID = 'bot-app-id-for-tests';
const claims = { issuer: ISSUER, audience: BOT_APP_ID };
const defaultTarget: TransferTarget = { kind: 'joinMeetingId', joinMeetingId: '1234567890' };

let key: TestSigningKey;
let keyServer: KeyServer;
let sim: GraphSimulator;
let connection: Connection;
let temporal: Client;
let ownKeysWebhook: FastifyInstance;
let ownKeysUrl: string;
let ownKeysWebhookDeps: WebhookDeps;
let simWebhook: FastifyInstance;
let simWebhookUrl: string;
/** ownKeysWebhook's log lines: where a refused token's reason goes. */
const logLines: Array<Record<string, unknown>> = [];

function collectInto(lines: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
}

/** A verifier whose keys have been fetched, as the webhook's are once it is ready. */
async function startedVerifier(options: NotificationAuthOptions) {
  const keys = createNotificationKeys(options);
  await keys.start({ info: () => undefined, error: () => undefined });
  keys.stop();
  return createNotificationVerifier(options, keys);
}

async function listen(deps: WebhookDeps): Promise<[FastifyInstance, string]> {
  const app = buildWebhookServer(deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return [app, `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`];
}

beforeAll(async () => {
  key = await createSigningKey('test-key-1');
  [keyServer, sim] = await Promise.all([startKeyServer([key.publicJwk]), startSimulator()]);
  // Nothing listens on this port: every Temporal call fails as when the server is down.
  connection = Connection.lazy({ address: `127.0.0.1:${await getFreePort()}` });
  temporal = new Client({ connection, namespace: 'default' });
  const common = {
    temporal,
    taskQueue: 'unreachable',
    namespace: 'default',
    publicBaseUrl: 'https://bot.handoff.test',
    callbackSecrets: [TEST_CALLBACK_SECRET],
    incomingCallPolicy: { defaultTarget },
  } as const;
  ownKeysWebhookDeps = {
    ...common,
    botAppId: BOT_APP_ID,
    notificationAuth: {
      openIdConfigurationUrl: keyServer.openIdConfigurationUrl,
      issuers: [ISSUER],
      audience: BOT_APP_ID,
      allowedTenants: 'any',
    },
    logger: { level: 'warn', stream: collectInto(logLines) },
  };
  [ownKeysWebhook, ownKeysUrl] = await listen(ownKeysWebhookDeps);
  [simWebhook, simWebhookUrl] = await listen({
    ...common,
    botAppId: sim.botAppId,
    notificationAuth: {
      jwksUrl: sim.notificationAuth.jwksUrl,
      issuers: [sim.notificationAuth.issuer],
      audience: sim.notificationAuth.audience,
      allowedTenants: [sim.tenantId],
    },
    logger: false,
  });
});

afterAll(async () => {
  await Promise.all([ownKeysWebhook?.close(), simWebhook?.close()]);
  await Promise.all([keyServer?.stop(), sim?.stop(), connection?.close()]);
});

async function callback(token: string): Promise<HttpAnswer> {
  return post(
    `${ownKeysUrl}${callbackPathFor(`transfer-${randomUUID()}`)}`,
    callStateBody(randomUUID(), 'established'),
    { token },
  );
}

describe('notification tokens', () => {
  it('accepts a token signed with a published key, found through the OpenID configuration at start', async () => {
    // Authentication passed: the request got as far as Temporal, which is down.
    expect((await callback(await forgeToken(key, claims))).status).toBe(503);
    // Within the clock tolerance (5 min), an expired token still passes.
    expect((await callback(await forgeToken(key, { ...claims, expiresIn: -60 }))).status).toBe(503);
    expect(keyServer.fetches.get('/openidconfiguration')).toBe(1);
  });

  it.each([
    ['an expired token', { expiresIn: -400 }, 'expired'],
    ['a token not valid yet', { notBefore: 600 }, 'not_yet_valid'],
    ['a token for another bot', { audience: 'some-other-bot' }, 'wrong_audience'],
    ['a token from another issuer', { issuer: 'https://evil.example' }, 'wrong_issuer'],
    ['a token with a key id nobody published', { kid: 'unknown-key' }, 'unknown_key_id'],
  ])('refuses %s with a bare 401, the reason in the log only', async (_, overrides, reason) => {
    const before = logLines.length;
    const response = await callback(await forgeToken(key, { ...claims, ...overrides }));
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: { code: 'notification_refused', message: 'notification refused' },
    });
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(logLines.slice(before)).toContainEqual(
      expect.objectContaining({ reason, msg: 'notification refused: invalid token' }),
    );
  });

  it('refuses alg none and HS256 signed with the public key as the secret', async () => {
    const now = Math.floor(Date.now() / 1000);
    const none = unsignedToken({ iss: ISSUER, aud: BOT_APP_ID, exp: now + 300 });
    const before = logLines.length;
    expect((await callback(none)).body.error.code).toBe('notification_refused');

    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const publicPem = await exportSPKI(publicKey);
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(BOT_APP_ID)
      .setExpirationTime(now + 300)
      .sign(new TextEncoder().encode(publicPem));
    const response = await callback(confused);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('notification_refused');
    const reasons = logLines.slice(before).map((line) => line.reason);
    expect(reasons).toEqual(['algorithm_not_allowed', 'algorithm_not_allowed']);
  });

  it('checks the tenant when allowed tenants are configured', async () => {
    const verify = await startedVerifier({
      jwksUrl: keyServer.jwksUrl,
      issuers: [ISSUER],
      audience: BOT_APP_ID,
      allowedTenants: ['Tenant-A'],
    });
    const verified = await verify(`Bearer ${await forgeToken(key, { ...claims, tenantId: 'tenant-a' })}`);
    expect(verified).toMatchObject({
      issuer: ISSUER,
      audience: BOT_APP_ID,
      tenantId: 'tenant-a',
      keyId: key.kid,
    });
    await expect(
      verify(`Bearer ${await forgeToken(key, { ...claims, tenantId: 'tenant-b' })}`),
    ).rejects.toMatchObject({
      reason: 'tenant_not_allowed',
      statusCode: 401,
    });
    await expect(verify(`Bearer ${await forgeToken(key, claims)}`)).rejects.toMatchObject({
      reason: 'tenant_not_allowed',
    });
  });

  it('answers 503 (so Graph retries) when the signing keys cannot be fetched', async () => {
    const verify = await startedVerifier({
      jwksUrl: `http://127.0.0.1:${await getFreePort()}/keys`,
      issuers: [ISSUER],
      audience: BOT_APP_ID,
      allowedTenants: 'any',
    });
    const failure = await verify(`Bearer ${await forgeToken(key, claims)}`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NotificationAuthError);
    expect(failure).toMatchObject({ reason: 'keys_unavailable', statusCode: 503 });
  });
});

describe('while Temporal is unreachable', () => {
  it('answers 503 with Retry-After to a callback, without leaking internals', async () => {
    const response = await callback(await forgeToken(key, claims));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.body).toEqual({
      error: { code: 'temporal_unavailable', message: expect.stringContaining('retry after 5 s') },
    });
    expect(JSON.stringify(response.body)).not.toMatch(/\bat .+\.(js|ts):\d+/);
  });

  it('answers 503 to the incoming call, and Graph (the simulator) retries it', async () => {
    sim.configure({ notifications: { maxAttempts: 2, retryDelayMs: 50 } });
    const { callId } = await sim.placeIncomingCall({ botUrl: `${simWebhookUrl}/api/calls` });
    await sim.whenIdle();
    const attempts = sim.deliveries.filter((delivery) => delivery.callId === callId);
    expect(attempts.map((delivery) => [delivery.attempt, delivery.status])).toEqual([
      [1, 503],
      [2, 503],
    ]);
  });

  it('is live but not ready, and the transfers API answers 503', async () => {
    expect(await get(`${ownKeysUrl}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await get(`${ownKeysUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('temporal_unavailable');
    // The transfers API has its own listener (issue 9.2), on the same unreachable Temporal.
    const api = buildApiServer(ownKeysWebhookDeps);
    try {
      await api.listen({ host: '127.0.0.1', port: 0 });
      const apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
      const status = await get(`${apiUrl}/api/transfers/transfer-${randomUUID()}`);
      expect(status.status).toBe(503);
      const start = await post(`${apiUrl}/api/transfers`, {
        callId: randomUUID(),
        target: defaultTarget,
        invitee: { user: { id: 'caller' } },
      });
      expect(start.status).toBe(503);
    } finally {
      await api.close();
    }
  });

  it('acknowledges an incoming call with 202 and a log line, asking Temporal nothing, when no target is configured', async () => {
    const logLines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString('utf8')));
        done();
      },
    });
    const [noTargetWebhook, noTargetUrl] = await listen({
      temporal,
      taskQueue: 'unreachable',
      namespace: 'default',
      publicBaseUrl: 'https://bot.handoff.test',
      callbackSecrets: [TEST_CALLBACK_SECRET],
      botAppId: BOT_APP_ID,
      incomingCallPolicy: {},
      notificationAuth: {
        jwksUrl: keyServer.jwksUrl,
        issuers: [ISSUER],
        audience: BOT_APP_ID,
        allowedTenants: 'any',
      },
      logger: { level: 'info', stream },
    });
    try {
      const callId = randomUUID();
      const response = await post(`${noTargetUrl}/api/calls`, incomingCallBody(callId), {
        token: await forgeToken(key, claims),
      });
      expect(response.status).toBe(202);
      expect(response.body.deliveries).toEqual([
        { workflowId: `transfer-${callId}`, callIds: [callId], notifications: 1, outcome: 'ignored' },
      ]);
      expect(logLines).toContainEqual(
        expect.objectContaining({
          callId,
          msg: 'incoming call not transferred: no default transfer target is configured',
        }),
      );
    } finally {
      await noTargetWebhook.close();
    }
  });

  it('still refuses an incoming call without a token (401 before Temporal is asked)', async () => {
    const response = await post(`${ownKeysUrl}/api/calls`, incomingCallBody(randomUUID()));
    expect(response.status).toBe(401);
  });
});
