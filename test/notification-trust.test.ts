// Which notifications the webhook trusts (issue 9.1, 9.6) and how fast it answers them (issue 10.7),
// over real HTTP: tokens come from the Graph simulator (its OpenID configuration and JWKS) or are
// signed with keys a test key server publishes. No Temporal server is needed: with no transfer
// target an incoming call that passes authentication is acknowledged (202, `ignored`) without one,
// and the budget tests point the client at a socket that never answers.
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { buildWebhookServer, CALLING_NOTIFICATION_ISSUERS, type WebhookDeps } from '../src/webhook/index.js';
import { TRANSFER_WORKFLOW_TYPE } from '../src/webhook/transfer-start.js';
import type { TransferTarget } from '../src/workflows/transfer/types.js';
import { type LocalTemporalEnvironment, startLocalTemporal } from './support/temporal.js';
import {
  callStateBody,
  createSigningKey,
  eventually,
  forgeToken,
  type HttpAnswer,
  incomingCallBody,
  type KeyServer,
  post,
  startKeyServer,
  TEST_CALLBACK_SECRET,
  type TestSigningKey,
} from './support/webhook-fixtures.js';

const BOT_APP_ID = 'notification-trust-bot';
const TENANT = 'b3f9a7e2-5c1d-4e8a-9f00-trust0tenant';
const defaultTarget: TransferTarget = { kind: 'joinMeetingId', joinMeetingId: '1234567890' };

type LogLine = Record<string, unknown>;

function collectInto(lines: LogLine[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
}

/** A TCP port that accepts connections and never answers: every Temporal call waits out its deadline. */
let blackHole: Server;
let blackHoleAddress: string;
let connection: Connection;
let temporal: Client;
let sims: GraphSimulator[] = [];
const webhooks: FastifyInstance[] = [];

/** The black hole's connections: closed first at the end, or nothing else can close. */
const heldSockets = new Set<Socket>();

beforeAll(async () => {
  blackHole = createServer((socket) => {
    heldSockets.add(socket);
    socket.on('close', () => heldSockets.delete(socket));
  });
  await new Promise<void>((resolve) => blackHole.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = blackHole.address();
  if (!address || typeof address === 'string') throw new Error('the black hole has no port');
  blackHoleAddress = `127.0.0.1:${address.port}`;
  connection = Connection.lazy({ address: blackHoleAddress });
  temporal = new Client({ connection, namespace: 'default' });
  sims = await Promise.all([
    startSimulator({ tenantId: TENANT, clientId: BOT_APP_ID }),
    startSimulator({
      tenantId: TENANT,
      clientId: BOT_APP_ID,
      notificationIssuer: 'https://graph.microsoft.com',
    }),
  ]);
  for (const sim of sims) sim.configure({ notifications: { maxAttempts: 1 } });
});

afterAll(async () => {
  for (const socket of heldSockets) socket.destroy();
  await new Promise((resolve) => blackHole?.close(resolve));
  await Promise.all(webhooks.map((webhook) => webhook.close()));
  await Promise.all(sims.map((sim) => sim.stop()));
  await connection?.close();
});

/** A webhook on a free port, verifying as `notificationAuth` says; its log lines go to `log`. */
async function startWebhook(
  notificationAuth: WebhookDeps['notificationAuth'],
  options: { log?: LogLine[]; target?: TransferTarget; budgetMs?: number } = {},
): Promise<string> {
  const webhook = buildWebhookServer({
    temporal,
    taskQueue: 'notification-trust',
    namespace: 'default',
    publicBaseUrl: 'https://bot.handoff.test',
    callbackSecrets: [TEST_CALLBACK_SECRET],
    botAppId: BOT_APP_ID,
    tenantId: TENANT,
    incomingCallPolicy: options.target ? { defaultTarget: options.target } : {},
    notificationAuth,
    ...(options.budgetMs ? { notificationBudgetMs: options.budgetMs } : {}),
    logger: options.log ? { level: 'info', stream: collectInto(options.log) } : false,
  });
  webhooks.push(webhook);
  await webhook.listen({ host: '127.0.0.1', port: 0 });
  const address = webhook.server.address();
  if (!address || typeof address === 'string') throw new Error('the webhook has no port');
  return `http://127.0.0.1:${address.port}`;
}

/** The simulator places an incoming call to `webhookUrl`; answers the status of its (only) POST. */
async function simulatorDelivers(sim: GraphSimulator, webhookUrl: string): Promise<number | undefined> {
  const { callId } = await sim.placeIncomingCall({ botUrl: `${webhookUrl}/api/calls` });
  await sim.whenIdle();
  const attempts = sim.deliveries.filter((delivery) => delivery.callId === callId);
  expect(attempts).toHaveLength(1);
  return attempts[0]?.status;
}

function simulatorAuth(sim: GraphSimulator, allowedTenants: readonly string[] | 'any' = [TENANT]) {
  // As in tenant mode: the OpenID configuration, both calling issuers, the app id, the tenants.
  return {
    openIdConfigurationUrl: sim.notificationAuth.openIdConfigurationUrl,
    issuers: [...CALLING_NOTIFICATION_ISSUERS],
    audience: BOT_APP_ID,
    allowedTenants,
  };
}

describe('tokens from the calling issuers', () => {
  it('accepts notifications signed by either issuer, from the allowed tenant', async () => {
    const [botFramework, graph] = sims as [GraphSimulator, GraphSimulator];
    expect(graph.notificationAuth.issuer).toBe('https://graph.microsoft.com');
    expect(botFramework.notificationAuth.issuer).toBe('https://api.botframework.com');
    for (const sim of [botFramework, graph]) {
      const webhookUrl = await startWebhook(simulatorAuth(sim));
      expect(await simulatorDelivers(sim, webhookUrl), sim.notificationAuth.issuer).toBe(202);
    }
  });

  it('refuses an issuer that is not configured', async () => {
    const [, graph] = sims as [GraphSimulator, GraphSimulator];
    const webhookUrl = await startWebhook({
      ...simulatorAuth(graph),
      issuers: ['https://api.botframework.com'],
    });
    expect(await simulatorDelivers(graph, webhookUrl)).toBe(401);
  });

  it("refuses another tenant's notifications, and takes every tenant's with 'any'", async () => {
    const [sim] = sims as [GraphSimulator];
    const otherTenantOnly = await startWebhook(simulatorAuth(sim, ['0d8ad3f1-0000-4000-8000-other0tenant']));
    expect(await simulatorDelivers(sim, otherTenantOnly)).toBe(401);
    const anyTenant = await startWebhook(simulatorAuth(sim, 'any'));
    expect(await simulatorDelivers(sim, anyTenant)).toBe(202);
    // Tenant ids compare case-insensitively (GUIDs come in either case).
    const upperCase = await startWebhook(simulatorAuth(sim, [TENANT.toUpperCase()]));
    expect(await simulatorDelivers(sim, upperCase)).toBe(202);
  });
});

describe('refusals say only "refused" or "retry later"', () => {
  let key: TestSigningKey;
  let keyServer: KeyServer;
  const log: LogLine[] = [];
  let webhookUrl: string;
  const issuer = 'https://api.botframework.com';

  beforeAll(async () => {
    key = await createSigningKey('trust-key-1');
    keyServer = await startKeyServer([key.publicJwk]);
    webhookUrl = await startWebhook(
      {
        openIdConfigurationUrl: keyServer.openIdConfigurationUrl,
        issuers: [...CALLING_NOTIFICATION_ISSUERS],
        audience: BOT_APP_ID,
        allowedTenants: [TENANT],
      },
      { log },
    );
  });

  afterAll(() => keyServer?.stop());

  it('fetched the keys at start, once, and logged how many', () => {
    expect(keyServer.fetches.get('/openidconfiguration')).toBe(1);
    expect(keyServer.fetches.get('/keys')).toBe(1);
    expect(log).toContainEqual(
      expect.objectContaining({ keys: 1, msg: 'notification signing keys fetched: 1 keys' }),
    );
  });

  it.each([
    ['another tenant', { tenantId: 'f00dbabe-0000-4000-8000-000000000000' }, 'tenant_not_allowed'],
    ['no tenant at all', {}, 'tenant_not_allowed'],
    ['another audience', { tenantId: TENANT, audience: 'another-bot' }, 'wrong_audience'],
    ['another issuer', { tenantId: TENANT, issuer: 'https://login.botframework.com' }, 'wrong_issuer'],
  ])(
    'answers a token for %s with a bare 401, naming no app id, issuer or tenant',
    async (_, claims, reason) => {
      const before = log.length;
      const token = await forgeToken(key, { issuer, audience: BOT_APP_ID, ...claims });
      const answer = await post(`${webhookUrl}/api/calls`, incomingCallBody(randomUUID()), { token });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        error: { code: 'notification_refused', message: 'notification refused' },
      });
      const text = JSON.stringify(answer.body) + JSON.stringify([...answer.headers]);
      for (const secret of [
        BOT_APP_ID,
        TENANT,
        issuer,
        'graph.microsoft.com',
        'another-bot',
        keyServer.url,
      ]) {
        expect(text).not.toContain(secret);
      }
      // The operator's log has the reason and the detail.
      expect(log.slice(before)).toContainEqual(expect.objectContaining({ reason }));
    },
  );

  it('accepts the same token from the allowed tenant', async () => {
    const token = await forgeToken(key, { issuer, audience: BOT_APP_ID, tenantId: TENANT });
    const answer = await post(`${webhookUrl}/api/calls`, incomingCallBody(randomUUID()), { token });
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries).toMatchObject([{ outcome: 'ignored' }]);
  });
});

describe('signing keys unavailable at start', () => {
  it('serves anyway, answers 503 + Retry-After until the keys arrive, then accepts', async () => {
    const key = await createSigningKey('late-key');
    const keyServer = await startKeyServer([key.publicJwk], { available: false });
    try {
      const log: LogLine[] = [];
      const webhookUrl = await startWebhook(
        {
          openIdConfigurationUrl: keyServer.openIdConfigurationUrl,
          issuers: [...CALLING_NOTIFICATION_ISSUERS],
          audience: BOT_APP_ID,
          allowedTenants: [TENANT],
        },
        { log },
      );
      expect(log).toContainEqual(
        expect.objectContaining({
          msg: 'could not fetch the notification signing keys: notifications are answered 503 until they arrive',
        }),
      );
      const token = await forgeToken(key, {
        issuer: 'https://api.botframework.com',
        audience: BOT_APP_ID,
        tenantId: TENANT,
      });
      const send = (): Promise<HttpAnswer> =>
        post(`${webhookUrl}/api/calls`, incomingCallBody(randomUUID()), { token });

      // Readiness says so too, so that a load balancer sends notifications to a replica that has keys.
      const notReady = await fetch(`${webhookUrl}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { error: { code: string } }).error.code).toBe(
        'notification_keys_not_loaded',
      );

      const early = await send();
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('5');
      expect(early.body).toEqual({
        error: { code: 'temporarily_unavailable', message: 'notification not accepted now: retry later' },
      });
      expect(JSON.stringify(early.body)).not.toContain(keyServer.url);
      // The request did not fetch: only the background retries do.
      const fetchesAfterEarly = keyServer.fetches.get('/openidconfiguration') ?? 0;
      await send();
      expect(keyServer.fetches.get('/openidconfiguration') ?? 0).toBeLessThanOrEqual(fetchesAfterEarly + 1);

      keyServer.setAvailable(true);
      const accepted = await eventually(
        'the keys fetched in the background',
        async () => {
          const answer = await send();
          return answer.status === 202 ? answer : undefined;
        },
        20_000,
      );
      expect(accepted.body.deliveries).toMatchObject([{ outcome: 'ignored' }]);
      const readiness = await fetch(`${webhookUrl}/readyz`);
      if (readiness.status !== 200) {
        // Only Temporal may keep it unready now.
        expect(((await readiness.json()) as { error: { code: string } }).error.code).not.toBe(
          'notification_keys_not_loaded',
        );
      }
      expect(log).toContainEqual(
        expect.objectContaining({ keys: 1, msg: 'notification signing keys fetched: 1 keys' }),
      );
    } finally {
      await keyServer.stop();
    }
  });
});

describe("answering within Graph's 5 s", () => {
  let key: TestSigningKey;
  let keyServer: KeyServer;

  beforeAll(async () => {
    key = await createSigningKey('budget-key');
    keyServer = await startKeyServer([key.publicJwk]);
  });

  afterAll(() => keyServer?.stop());

  /** One POST with an incoming call and two other calls' notifications, while Temporal never answers. */
  async function timedBatch(budgetMs?: number): Promise<{ answer: HttpAnswer; elapsedMs: number }> {
    const webhookUrl = await startWebhook(
      {
        jwksUrl: keyServer.jwksUrl,
        issuers: [...CALLING_NOTIFICATION_ISSUERS],
        audience: BOT_APP_ID,
        allowedTenants: [TENANT],
      },
      { target: defaultTarget, ...(budgetMs ? { budgetMs } : {}) },
    );
    const token = await forgeToken(key, {
      issuer: 'https://api.botframework.com',
      audience: BOT_APP_ID,
      tenantId: TENANT,
    });
    const incoming = incomingCallBody(randomUUID()) as { value: unknown[] };
    const batch = {
      ...incoming,
      value: [
        ...incoming.value,
        ...(callStateBody(randomUUID(), 'established') as { value: unknown[] }).value,
        ...(callStateBody(randomUUID(), 'terminated') as { value: unknown[] }).value,
      ],
    };
    const started = performance.now();
    const answer = await post(`${webhookUrl}/api/calls`, batch, { token });
    return { answer, elapsedMs: performance.now() - started };
  }

  it('answers 503 + Retry-After once the default 3 s budget is spent, whatever the batch holds', async () => {
    const { answer, elapsedMs } = await timedBatch();
    console.info(
      `[notification-trust] a batch while Temporal hangs was answered in ${Math.round(elapsedMs)} ms`,
    );
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body.error.code).toBe('temporal_unavailable');
    // Whatever the batch holds, the answer comes before Graph's 5 s are up.
    expect(elapsedMs).toBeGreaterThanOrEqual(2_900);
    expect(elapsedMs).toBeLessThan(4_500);
  });

  it('keeps to a shorter budget when one is configured', async () => {
    const { answer, elapsedMs } = await timedBatch(1_000);
    expect(answer.status).toBe(503);
    expect(elapsedMs).toBeGreaterThanOrEqual(950);
    expect(elapsedMs).toBeLessThan(2_500);
  });
});

/**
 * A TCP proxy in front of Temporal that holds every byte from the client for `delayMs` (in order),
 * as a slow network or a busy frontend would: each Temporal call then takes about `delayMs`.
 */
async function startSlowProxy(
  upstream: string,
): Promise<{ address: string; setDelay(ms: number): void; stop(): Promise<void> }> {
  const [host, port] = upstream.split(':') as [string, string];
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const server = connect({ host, port: Number(port) });
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    let last = Promise.resolve();
    client.on('data', (chunk) => {
      const due = Date.now() + delayMs;
      last = last.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => resolve(void server.write(chunk)), due - Date.now()),
          ),
      );
    });
    server.pipe(client);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = proxy.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    address: `127.0.0.1:${address.port}`,
    setDelay: (ms) => {
      delayMs = ms;
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

describe('a batch while Temporal is slow but up', () => {
  let dev: LocalTemporalEnvironment;
  let key: TestSigningKey;
  let keyServer: KeyServer;

  beforeAll(async () => {
    key = await createSigningKey('slow-key');
    [dev, keyServer] = await Promise.all([startLocalTemporal(), startKeyServer([key.publicJwk])]);
  });

  afterAll(async () => {
    await keyServer?.stop();
    await dev?.teardown();
  });

  it('waits for the slowest delivery, not for the sum: an incoming call and another call in one POST', async () => {
    const DELAY_MS = 1_200;
    const proxy = await startSlowProxy(dev.address);
    const slowConnection = await Connection.connect({ address: proxy.address });
    try {
      const namespace = dev.namespace ?? 'default';
      const slowClient = new Client({ connection: slowConnection, namespace });
      const taskQueue = `notification-trust-slow-${randomUUID()}`;
      // A running transfer (no worker needed: a signal only needs the workflow to exist).
      const otherCallId = randomUUID();
      await dev.client.workflow.start(TRANSFER_WORKFLOW_TYPE, {
        workflowId: `transfer-${otherCallId}`,
        taskQueue,
        args: [],
      });
      const webhook = buildWebhookServer({
        temporal: slowClient,
        taskQueue,
        namespace,
        publicBaseUrl: 'https://bot.handoff.test',
        callbackSecrets: [TEST_CALLBACK_SECRET],
        botAppId: BOT_APP_ID,
        tenantId: TENANT,
        incomingCallPolicy: { defaultTarget },
        notificationAuth: {
          jwksUrl: keyServer.jwksUrl,
          issuers: [...CALLING_NOTIFICATION_ISSUERS],
          audience: BOT_APP_ID,
          allowedTenants: [TENANT],
        },
        logger: false,
      });
      webhooks.push(webhook);
      await webhook.listen({ host: '127.0.0.1', port: 0 });
      const address = webhook.server.address();
      if (!address || typeof address === 'string') throw new Error('the webhook has no port');
      const webhookUrl = `http://127.0.0.1:${address.port}`;
      const token = await forgeToken(key, {
        issuer: 'https://api.botframework.com',
        audience: BOT_APP_ID,
        tenantId: TENANT,
      });
      // The connection is up before the network gets slow.
      await slowClient.workflow.getHandle(`transfer-${otherCallId}`).describe();
      proxy.setDelay(DELAY_MS);

      const callId = randomUUID();
      const incoming = incomingCallBody(callId) as { value: unknown[] };
      const batch = {
        ...incoming,
        value: [
          ...incoming.value,
          ...(callStateBody(otherCallId, 'establishing') as { value: unknown[] }).value,
        ],
      };
      const started = performance.now();
      const answer = await post(`${webhookUrl}/api/calls`, batch, { token });
      const elapsedMs = performance.now() - started;
      console.info(
        `[notification-trust] a batch with ${DELAY_MS} ms per Temporal call was answered in ${Math.round(elapsedMs)} ms`,
      );
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      expect(answer.body.deliveries).toMatchObject([{ outcome: 'started' }, { outcome: 'signalled' }]);
      expect(elapsedMs).toBeGreaterThanOrEqual(DELAY_MS);
      // One after the other (incoming calls first) took two delays.
      expect(elapsedMs).toBeLessThan(2 * DELAY_MS);
      proxy.setDelay(0);
      const history = await dev.client.workflow.getHandle(`transfer-${otherCallId}`).fetchHistory();
      expect(history.events?.filter((event) => event.workflowExecutionSignaledEventAttributes)).toHaveLength(
        1,
      );
    } finally {
      await slowConnection.close();
      await proxy.stop();
    }
  });
});
