// The webhook against a real Temporal dev server, a real worker running a stand-in `transferCall`
// workflow (test/support/workflows/webhook-recorder.ts) and the Graph simulator, over real HTTP.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WorkflowNotFoundError } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { HandoffCallIds, HandoffFlow, HandoffTransferState } from '../src/temporal/search-attributes.js';
import { buildApiServer, buildWebhookServer, type WebhookDeps } from '../src/webhook/index.js';
import type { NotificationDelivery } from '../src/workflows/definitions.js';
import type { TransferInput, TransferTarget } from '../src/workflows/transfer/types.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';
import { type LocalTemporalEnvironment, startLocalTemporal } from './support/temporal.js';
import {
  callbackPathFor,
  callStateBody,
  createSigningKey,
  eventually,
  forgeToken,
  get,
  incomingCallBody,
  post,
  postRawPath,
  TEST_CALLBACK_SECRET,
  testCaller,
} from './support/webhook-fixtures.js';
import {
  FAIL_AT_ONCE_SUBJECT,
  recordedDeliveriesQuery,
  recordedInputQuery,
} from './support/workflows/webhook-recorder.js';

const PUBLIC_BASE_URL = 'https://bot.handoff.test';
const API_TOKEN = 'webhook-test-api-token';
const taskQueue = `webhook-test-${randomUUID()}`;
const defaultTarget: TransferTarget = {
  kind: 'meeting',
  chatInfo: { threadId: '19:meeting_webhook-test@thread.v2', messageId: '0', replyChainMessageId: '0' },
  organizer: { user: { id: '90ed37dc-d8e3-4e11-9de3-30a955dda06f', tenantId: 'tenant-1' } },
  subject: 'Transferred call',
};

let temporal: LocalTemporalEnvironment;
let sim: GraphSimulator;
let receiver: BotReceiver;
let worker: Worker;
let workerRun: Promise<void>;
let webhook: FastifyInstance;
let webhookUrl: string;
let api: FastifyInstance;
let apiUrl: string;
/** The dev server's namespace (the SDK's default when the environment does not name one). */
let namespace: string;

beforeAll(async () => {
  [temporal, sim, receiver] = await Promise.all([startLocalTemporal(), startSimulator(), startBotReceiver()]);
  namespace = temporal.namespace ?? 'default';
  worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./support/workflows/webhook-recorder.ts', import.meta.url)),
  });
  workerRun = worker.run();
  const deps: WebhookDeps = {
    temporal: temporal.client,
    taskQueue,
    namespace,
    publicBaseUrl: PUBLIC_BASE_URL,
    callbackSecrets: [TEST_CALLBACK_SECRET],
    botAppId: sim.botAppId,
    tenantId: sim.tenantId,
    temporalUiUrl: temporal.uiUrl,
    incomingCallPolicy: { defaultTarget, preFetchMedia: [{ uri: 'https://cdn.contoso.com/beep.wav' }] },
    notificationAuth: {
      jwksUrl: sim.notificationAuth.jwksUrl,
      issuers: [sim.notificationAuth.issuer],
      audience: sim.notificationAuth.audience,
      allowedTenants: [sim.tenantId],
    },
    bodyLimitBytes: 16 * 1024,
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
  await Promise.all([sim?.stop(), receiver?.stop()]);
  await temporal?.teardown();
});

/** A token the simulator signed: it places a call to a bot receiver and keeps the bearer it sent. */
async function simulatorToken(): Promise<string> {
  const before = receiver.received.length;
  await sim.placeIncomingCall({ botUrl: receiver.callbackUrl() });
  const received = await receiver.waitFor(before + 1);
  const token = received[before]?.token;
  if (!token) throw new Error('the simulator sent no bearer token');
  return token;
}

function handle(workflowId: string) {
  return temporal.client.workflow.getHandle(workflowId);
}

async function deliveriesOf(workflowId: string): Promise<NotificationDelivery[]> {
  return handle(workflowId).query(recordedDeliveriesQuery);
}

async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await handle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** Starts a stand-in transfer through the API and waits until it runs. */
async function startTransfer(callId = randomUUID(), target: TransferTarget = defaultTarget): Promise<string> {
  const started = await post(
    `${apiUrl}/api/transfers`,
    { callId, target, invitee: testCaller },
    { token: API_TOKEN },
  );
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return started.body.workflowId;
}

describe('incoming calls at /api/calls', () => {
  it('starts exactly one transfer workflow for an incoming call, even when Graph posts it twice', async () => {
    sim.configure({ notifications: { duplicateRate: 1 } });
    const { callId } = await sim.placeIncomingCall({ botUrl: `${webhookUrl}/api/calls` });
    await sim.whenIdle();
    sim.configure({ notifications: { duplicateRate: 0 } });

    const posts = sim.deliveries.filter(
      (delivery) => delivery.callId === callId && delivery.kind === 'incoming',
    );
    expect(posts.map((delivery) => delivery.status)).toEqual([202, 202]);
    const workflowId = `transfer-${callId}`;
    const deliveries = await eventually('two deliveries', async () => {
      const recorded = await deliveriesOf(workflowId);
      return recorded.length >= 2 ? recorded : undefined;
    });
    expect(deliveries).toHaveLength(2);
    for (const delivery of deliveries) {
      expect(delivery.notifications).toMatchObject([
        { kind: 'call', changeType: 'created', callId, call: { state: 'incoming' } },
      ]);
    }

    const runs = await eventually('the workflow in visibility', async () => {
      const found = [];
      for await (const execution of temporal.client.workflow.list({
        query: `WorkflowId = '${workflowId}'`,
      })) {
        found.push(execution);
      }
      return found.length > 0 ? found : undefined;
    });
    expect(runs).toHaveLength(1);

    const input: TransferInput = await handle(workflowId).query(recordedInputQuery);
    expect(input).toEqual({
      p2pCallId: callId,
      invitee: expect.objectContaining({ user: expect.objectContaining({ id: expect.any(String) }) }),
      target: defaultTarget,
      callbackUri: `${PUBLIC_BASE_URL}${callbackPathFor(workflowId)}`,
      botAppId: sim.botAppId,
      tenantId: sim.tenantId,
      preFetchMedia: [{ uri: 'https://cdn.contoso.com/beep.wav' }],
    });
    const caller = sim.getCall(callId)?.source;
    expect(input.invitee.user?.id).toBe(caller?.identity.user?.id);

    const description = await handle(workflowId).describe();
    expect(description.typedSearchAttributes.get(HandoffCallIds)).toEqual([callId]);
    expect(description.typedSearchAttributes.get(HandoffFlow)).toBe('p2p-to-group');
    expect(description.typedSearchAttributes.get(HandoffTransferState)).toBe('answering');
    expect(await description.staticSummary()).toContain(`Transfer P2P call ${callId} to`);
  });

  it('routes a later notification on the bot URL to the workflow of its call, and acknowledges unknown calls', async () => {
    const token = await simulatorToken();
    const workflowId = await startTransfer();
    const callId = workflowId.replace(/^transfer-/, '');

    const known = await post(`${webhookUrl}/api/calls`, callStateBody(callId, 'establishing'), { token });
    expect(known.status).toBe(202);
    expect(known.body.deliveries).toMatchObject([{ workflowId, outcome: 'signalled' }]);
    expect((await deliveriesOf(workflowId)).map((delivery) => delivery.notifications[0]?.callId)).toEqual([
      callId,
    ]);

    const strangerCallId = randomUUID();
    const unknown = await post(`${webhookUrl}/api/calls`, callStateBody(strangerCallId, 'terminated'), {
      token,
    });
    expect(unknown.status).toBe(202);
    expect(unknown.body.deliveries).toMatchObject([{ outcome: 'unknownWorkflow' }]);
    expect(await workflowExists(`transfer-${strangerCallId}`)).toBe(false);
  });
});

describe('a batch on the bot URL', () => {
  it("starts the incoming call's transfer with the batch's later notifications for that call, and signals the others", async () => {
    const token = await simulatorToken();
    const otherWorkflowId = await startTransfer();
    const otherCallId = otherWorkflowId.replace(/^transfer-/, '');
    const callId = randomUUID();
    const item = (body: Record<string, unknown>) => (body as { value: unknown[] }).value;
    const batch = {
      value: [
        ...item(incomingCallBody(callId)),
        ...item(callStateBody(otherCallId, 'establishing')),
        ...item(callStateBody(callId, 'establishing')),
      ],
    };
    const answer = await post(`${webhookUrl}/api/calls`, batch, { token });
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries).toEqual([
      { workflowId: `transfer-${callId}`, callIds: [callId], notifications: 2, outcome: 'started' },
      { workflowId: otherWorkflowId, callIds: [otherCallId], notifications: 1, outcome: 'signalled' },
    ]);
    // Delivered concurrently, yet the later notification cannot reach the workflow before it exists.
    const started = await eventually('the started transfer', () =>
      deliveriesOf(`transfer-${callId}`).catch(() => undefined),
    );
    expect(
      started.map((delivery) =>
        delivery.notifications.map((notification) =>
          notification.kind === 'call' ? notification.call.state : notification.kind,
        ),
      ),
    ).toEqual([['incoming', 'establishing']]);
    expect(await deliveriesOf(otherWorkflowId)).toHaveLength(1);
  });
});

describe('callbacks at /api/calls/:workflowId/:callbackKey', () => {
  it('delivers the notifications Graph sends to a workflow callback as signals, until the transfer completes', async () => {
    const { callId } = await sim.placeIncomingCall({ botUrl: `${webhookUrl}/api/calls` });
    const workflowId = `transfer-${callId}`;
    await eventually('the incoming call', async () =>
      (await deliveriesOf(workflowId)).length ? true : undefined,
    );

    // Answer through the simulator's Graph API with the workflow's callback, as the real workflow does.
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sim.clientId,
      client_secret: sim.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    });
    const tokenResponse = await fetch(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: form,
    });
    const { access_token: accessToken } = (await tokenResponse.json()) as { access_token: string };
    const callbackUri = `${webhookUrl}${callbackPathFor(workflowId)}`;
    const answer = await post(
      `${sim.graphBaseUrl}/communications/calls/${callId}/answer`,
      {
        callbackUri,
        acceptedModalities: ['audio'],
        mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
      },
      { token: accessToken },
    );
    expect(answer.status).toBeLessThan(300);
    sim.endByRemoteParty(callId, 'RemoteHungUp');
    await sim.whenIdle();

    const callbacks = sim.deliveries.filter((delivery) => delivery.url === callbackUri);
    expect(callbacks.map((delivery) => [delivery.kind, delivery.status])).toEqual([
      ['establishing', 202],
      ['established', 202],
      ['terminated', 202],
      ['deleted', 202],
    ]);
    const result = await handle(workflowId).result();
    expect(result).toMatchObject({ outcome: 'completed', p2pCallId: callId });
    const states = (
      await eventually('the recorded deliveries', () => deliveriesOf(workflowId).catch(() => undefined))
    )
      .flatMap((delivery) => delivery.notifications)
      .map((notification) =>
        notification.kind === 'call' ? (notification.call.state ?? notification.changeType) : '',
      );
    expect(states).toEqual(['incoming', 'establishing', 'established', 'terminated', 'deleted']);

    const status = await get(`${apiUrl}/api/transfers/${workflowId}`, API_TOKEN);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      workflowId,
      status: 'COMPLETED',
      phase: 'answering',
      result: { outcome: 'completed', p2pCallId: callId },
      uiUrl: `${temporal.uiUrl}/namespaces/${namespace}/workflows/${workflowId}`,
    });

    // Late and duplicate notifications for the finished transfer: acknowledged, and no new run starts.
    const token = await simulatorToken();
    const late = await post(callbackUri, callStateBody(callId, 'terminated'), { token });
    expect(late.status).toBe(202);
    expect(late.body.deliveries).toMatchObject([{ workflowId, outcome: 'unknownWorkflow' }]);
    const duplicateIncoming = await post(`${webhookUrl}/api/calls`, incomingCallBody(callId), { token });
    expect(duplicateIncoming.status).toBe(202);
    expect(duplicateIncoming.body.deliveries).toMatchObject([{ workflowId, outcome: 'ignored' }]);
    expect((await handle(workflowId).describe()).status.name).toBe('COMPLETED');
  });

  it('acknowledges a notification for an unknown workflow with 202', async () => {
    const token = await simulatorToken();
    const unknown = await post(
      `${webhookUrl}${callbackPathFor(`transfer-${randomUUID()}`)}`,
      callStateBody('abc', 'established'),
      {
        token,
      },
    );
    expect(unknown.status).toBe(202);
    expect(unknown.body.deliveries).toMatchObject([{ outcome: 'unknownWorkflow' }]);
  });

  it("refuses a valid token on another workflow's path (404), and nothing reaches that workflow's history", async () => {
    const token = await simulatorToken();
    const [victim, attacker] = await Promise.all([startTransfer(), startTransfer()]);
    const victimCallId = victim.replace(/^transfer-/, '');
    const signalsOf = async (workflowId: string) =>
      ((await handle(workflowId).fetchHistory()).events ?? []).filter(
        (event) => event.workflowExecutionSignaledEventAttributes,
      ).length;
    const signalsBefore = await signalsOf(victim);
    const attackerKey = callbackPathFor(attacker).split('/').pop();
    const forgedPaths = [
      `/api/calls/${victim}/${attackerKey}`,
      `/api/calls/${victim}`,
      callbackPathFor(victim, 'a-secret-this-webhook-does-not-have-0123456789'),
    ];
    for (const path of forgedPaths) {
      const answer = await post(`${webhookUrl}${path}`, callStateBody(victimCallId, 'terminated'), { token });
      expect(answer.status, path).toBe(404);
      expect(answer.body.error, path).toEqual({ code: 'not_found', message: 'no such callback' });
    }
    expect(await signalsOf(victim)).toBe(signalsBefore);
    expect(await deliveriesOf(victim)).toEqual([]);

    // The same token on the victim's own signed path is delivered: what was wrong was the key.
    const own = await post(
      `${webhookUrl}${callbackPathFor(victim)}`,
      callStateBody(victimCallId, 'established'),
      { token },
    );
    expect(own.status).toBe(202);
    expect(await signalsOf(victim)).toBe(signalsBefore + 1);
  });

  it('accepts callback URLs signed with any secret of the list (rotation), and no others', async () => {
    const newSecret = `rotated-${TEST_CALLBACK_SECRET}`;
    const rotatedDeps: WebhookDeps = {
      temporal: temporal.client,
      taskQueue,
      namespace,
      publicBaseUrl: PUBLIC_BASE_URL,
      callbackSecrets: [newSecret, TEST_CALLBACK_SECRET],
      botAppId: sim.botAppId,
      incomingCallPolicy: {},
      notificationAuth: {
        jwksUrl: sim.notificationAuth.jwksUrl,
        issuers: [sim.notificationAuth.issuer],
        audience: sim.notificationAuth.audience,
        allowedTenants: [sim.tenantId],
      },
      apiToken: API_TOKEN,
      logger: false,
    };
    const rotated = buildWebhookServer(rotatedDeps);
    const rotatedApi = buildApiServer(rotatedDeps);
    try {
      await rotated.listen({ host: '127.0.0.1', port: 0 });
      await rotatedApi.listen({ host: '127.0.0.1', port: 0 });
      const rotatedUrl = `http://127.0.0.1:${(rotated.server.address() as AddressInfo).port}`;
      const rotatedApiUrl = `http://127.0.0.1:${(rotatedApi.server.address() as AddressInfo).port}`;
      const token = await simulatorToken();
      const workflowId = await startTransfer();
      const callId = workflowId.replace(/^transfer-/, '');
      for (const secret of [TEST_CALLBACK_SECRET, newSecret]) {
        const answer = await post(
          `${rotatedUrl}${callbackPathFor(workflowId, secret)}`,
          callStateBody(callId, 'establishing'),
          { token },
        );
        expect(answer.status).toBe(202);
      }
      const retired = await post(
        `${rotatedUrl}${callbackPathFor(workflowId, `retired-${TEST_CALLBACK_SECRET}`)}`,
        callStateBody(callId, 'established'),
        { token },
      );
      expect(retired.status).toBe(404);
      expect(await deliveriesOf(workflowId)).toHaveLength(2);
      // New URLs are signed with the first secret of the list.
      const started = await post(
        `${rotatedApiUrl}/api/transfers`,
        { callId: randomUUID(), target: defaultTarget, invitee: testCaller },
        { token: API_TOKEN },
      );
      expect(started.status).toBe(201);
      const input: TransferInput = await eventually('the new transfer', () =>
        handle(started.body.workflowId)
          .query(recordedInputQuery)
          .catch(() => undefined),
      );
      expect(input.callbackUri).toBe(
        `${PUBLIC_BASE_URL}${callbackPathFor(started.body.workflowId, newSecret)}`,
      );
    } finally {
      await rotated.close();
      await rotatedApi.close();
    }
  });

  it('refuses workflow ids with path tricks or foreign characters (400), signalling nothing', async () => {
    const token = await simulatorToken();
    const workflowId = await startTransfer();
    const badIds = [
      '..',
      '%2e%2e',
      '.hidden',
      'a..b',
      '..%2F..%2Fsecrets',
      `${workflowId}%2F..`,
      'transfer-%C3%A9t%C3%A9',
      'x'.repeat(201),
      '-dash',
    ];
    for (const badId of badIds) {
      const response = await postRawPath(
        webhookUrl,
        `/api/calls/${badId}`,
        callStateBody('abc', 'established'),
        token,
      );
      expect(response.status, badId).toBe(400);
      expect(response.body.error.code, badId).toBe('invalid_workflow_id');
    }
    expect(await deliveriesOf(workflowId)).toEqual([]);
  });
});

describe('notification authentication', () => {
  it('answers 401 to an unsigned request and signals nothing', async () => {
    const workflowId = await startTransfer();
    const callId = workflowId.replace(/^transfer-/, '');

    const callback = await post(
      `${webhookUrl}${callbackPathFor(workflowId)}`,
      callStateBody(callId, 'established'),
    );
    expect(callback.status).toBe(401);
    expect(callback.body.error).toEqual({ code: 'notification_refused', message: 'notification refused' });
    expect(callback.headers.get('www-authenticate')).toBe('Bearer');

    const newCallId = randomUUID();
    const incoming = await post(`${webhookUrl}/api/calls`, incomingCallBody(newCallId), {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(incoming.status).toBe(401);
    expect(incoming.body.error.code).toBe('notification_refused');
    expect(incoming.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');

    expect(await deliveriesOf(workflowId)).toEqual([]);
    expect(await workflowExists(`transfer-${newCallId}`)).toBe(false);
  });

  it('answers 401 to tokens signed with a key the simulator never published, and signals nothing', async () => {
    const workflowId = await startTransfer();
    const callId = workflowId.replace(/^transfer-/, '');
    const jwks = (await (await fetch(sim.notificationAuth.jwksUrl)).json()) as {
      keys: Array<{ kid: string }>;
    };
    const publishedKid = jwks.keys[0]?.kid ?? '';
    const claims = { issuer: sim.notificationAuth.issuer, audience: sim.notificationAuth.audience };

    const impostor = await createSigningKey(publishedKid);
    const sameKid = await post(
      `${webhookUrl}${callbackPathFor(workflowId)}`,
      callStateBody(callId, 'established'),
      {
        token: await forgeToken(impostor, claims),
      },
    );
    expect(sameKid.status).toBe(401);
    expect(sameKid.body.error.code).toBe('notification_refused');

    const stranger = await createSigningKey('not-a-published-key');
    const newCallId = randomUUID();
    const otherKid = await post(`${webhookUrl}/api/calls`, incomingCallBody(newCallId), {
      token: await forgeToken(stranger, claims),
    });
    expect(otherKid.status).toBe(401);
    expect(otherKid.body.error.code).toBe('notification_refused');

    expect(await deliveriesOf(workflowId)).toEqual([]);
    expect(await workflowExists(`transfer-${newCallId}`)).toBe(false);
  });
});

describe('request bodies', () => {
  it('answers 400 to malformed JSON and to a body that is not a notification batch', async () => {
    const token = await simulatorToken();
    const workflowId = await startTransfer();

    const malformed = await post(`${webhookUrl}${callbackPathFor(workflowId)}`, undefined, {
      token,
      rawBody: '{"value": [',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ error: { code: 'malformed_json', message: expect.any(String) } });

    const notABatch = await post(
      `${webhookUrl}/api/calls`,
      { value: [{ changeType: 'sideways' }] },
      { token },
    );
    expect(notABatch.status).toBe(400);
    expect(notABatch.body.error.code).toBe('invalid_notification');
    expect(notABatch.body.error.message).toContain('value[0]');
    expect(notABatch.body.error.issues.length).toBeGreaterThan(0);
    expect(await deliveriesOf(workflowId)).toEqual([]);
  });

  it('answers 413 to a body over the limit and 415 to a body that is not JSON', async () => {
    const token = await simulatorToken();
    const workflowId = await startTransfer();
    const oversized = { ...callStateBody('abc', 'established'), padding: 'x'.repeat(20 * 1024) };
    const tooLarge = await post(`${webhookUrl}${callbackPathFor(workflowId)}`, oversized, { token });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error).toEqual({
      code: 'body_too_large',
      message: expect.stringContaining('16384'),
    });

    const text = await post(`${webhookUrl}${callbackPathFor(workflowId)}`, undefined, {
      token,
      rawBody: 'hello',
      contentType: 'text/plain',
    });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('unsupported_media_type');
    expect(await deliveriesOf(workflowId)).toEqual([]);
  });

  it('answers unknown routes with a 404 in the error shape', async () => {
    const response = await get(`${webhookUrl}/nope`);
    expect(response).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'no route for GET /nope' } },
    });
  });
});

describe('transfers API', () => {
  it('starts, shows and cancels a transfer', async () => {
    const callId = randomUUID();
    const workflowId = `transfer-${callId}`;
    const started = await post(
      `${apiUrl}/api/transfers`,
      {
        callId,
        target: { kind: 'joinMeetingId', joinMeetingId: '1234567890', passcode: 'secret' },
        invitee: { phone: { id: '+12345678901' } },
        timeouts: { callEstablishedMs: 5_000 },
        preFetchMedia: [{ url: 'https://cdn.contoso.com/beep.wav', resourceId: 'beep' }],
        alreadyAnswered: true,
      },
      { token: API_TOKEN },
    );
    expect(started.status).toBe(201);
    expect(started.headers.get('location')).toBe(`/api/transfers/${workflowId}`);
    expect(started.body).toEqual({
      workflowId,
      runId: expect.any(String),
      uiUrl: `${temporal.uiUrl}/namespaces/${namespace}/workflows/${workflowId}`,
    });
    expect(await handle(workflowId).query(recordedInputQuery)).toEqual({
      p2pCallId: callId,
      invitee: { phone: { id: '+12345678901' } },
      target: { kind: 'joinMeetingId', joinMeetingId: '1234567890', passcode: 'secret' },
      callbackUri: `${PUBLIC_BASE_URL}${callbackPathFor(workflowId)}`,
      botAppId: sim.botAppId,
      tenantId: sim.tenantId,
      timeouts: { callEstablishedMs: 5_000 },
      preFetchMedia: [{ uri: 'https://cdn.contoso.com/beep.wav', resourceId: 'beep' }],
      alreadyAnswered: true,
    });

    const again = await post(
      `${apiUrl}/api/transfers`,
      { callId, target: defaultTarget, invitee: testCaller },
      { token: API_TOKEN },
    );
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('transfer_exists');

    const running = await get(`${apiUrl}/api/transfers/${workflowId}`, API_TOKEN);
    expect(running.status).toBe(200);
    expect(running.body).toMatchObject({
      workflowId,
      runId: started.body.runId,
      status: 'RUNNING',
      phase: 'answering',
      snapshot: { phase: 'answering', result: { p2pCallId: callId }, notificationsSeen: 0 },
    });

    const cancel = await post(`${apiUrl}/api/transfers/${workflowId}/cancel`, undefined, {
      token: API_TOKEN,
      contentType: null,
    });
    expect(cancel.status).toBe(202);
    const cancelled = await eventually('the cancellation', async () => {
      const answer = await get(`${apiUrl}/api/transfers/${workflowId}`, API_TOKEN);
      return answer.body.status === 'RUNNING' ? undefined : answer;
    });
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', failure: { message: expect.any(String) } });

    const cancelAgain = await post(`${apiUrl}/api/transfers/${workflowId}/cancel`, undefined, {
      token: API_TOKEN,
      contentType: null,
    });
    expect(cancelAgain.status).toBe(409);
  });

  it('shows a failed transfer with its failure and the result it failed with', async () => {
    const workflowId = await startTransfer(randomUUID(), { ...defaultTarget, subject: FAIL_AT_ONCE_SUBJECT });
    const failed = await eventually('the failure', async () => {
      const answer = await get(`${apiUrl}/api/transfers/${workflowId}`, API_TOKEN);
      return answer.body.status === 'FAILED' ? answer : undefined;
    });
    expect(failed.body).toMatchObject({
      status: 'FAILED',
      failure: { message: 'the stand-in transfer was asked to fail', type: 'TransferFailed' },
      result: { outcome: 'failed', reason: 'asked to fail' },
    });
  });

  it('answers 404 for unknown transfers and 401 without the API token', async () => {
    const unknownId = `transfer-${randomUUID()}`;
    expect((await get(`${apiUrl}/api/transfers/${unknownId}`, API_TOKEN)).status).toBe(404);
    const cancel = await post(`${apiUrl}/api/transfers/${unknownId}/cancel`, undefined, {
      token: API_TOKEN,
      contentType: null,
    });
    expect(cancel.status).toBe(404);
    expect(cancel.body.error.code).toBe('transfer_not_found');

    const noToken = await get(`${apiUrl}/api/transfers/${unknownId}`);
    expect(noToken.status).toBe(401);
    const wrongToken = await post(
      `${apiUrl}/api/transfers`,
      { callId: randomUUID(), target: defaultTarget, invitee: testCaller },
      { token: 'guess' },
    );
    expect(wrongToken.status).toBe(401);
    expect(wrongToken.body.error.code).toBe('unauthorized');
  });

  it.each([
    ['a missing callId', { target: defaultTarget, invitee: testCaller }, 'callId'],
    [
      'an invitee without any id',
      { target: defaultTarget, invitee: { user: { displayName: 'No Id' } } },
      'invitee',
    ],
    [
      'a phone number that is not E.164',
      { target: defaultTarget, invitee: { phone: { id: '0049 123' } } },
      'invitee.phone.id',
    ],
    [
      'an empty chatInfo.threadId',
      { target: { ...defaultTarget, chatInfo: { threadId: '' } }, invitee: testCaller },
      'target.chatInfo.threadId',
    ],
    ['an unknown target kind', { target: { kind: 'teleport' }, invitee: testCaller }, 'target.kind'],
    ['an unknown field', { target: defaultTarget, invitee: testCaller, callID: 'typo' }, '(body)'],
  ])('answers 400 naming the field for %s, starting nothing', async (_, fields, field) => {
    const callId = randomUUID();
    const body = { ...(field === 'callId' ? {} : { callId }), ...fields };
    const response = await post(`${apiUrl}/api/transfers`, body, { token: API_TOKEN });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_transfer_request');
    expect(response.body.error.message).toContain(`${field}:`);
    expect(await workflowExists(`transfer-${callId}`)).toBe(false);
  });
});

describe('health', () => {
  it('is live and ready while Temporal answers', async () => {
    expect(await get(`${webhookUrl}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(`${webhookUrl}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });
  });
});
