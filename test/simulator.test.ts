/**
 * The Graph simulator driven by plain HTTP (global fetch) and real MSAL: the seed 001 transfer
 * end to end, the JWTs on its notifications, and how it validates requests.
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callSchema,
  commsOperationSchema,
  type GraphNotification,
  parseNotifications,
} from '../src/graph/index.js';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { type BotReceiver, type ReceivedNotification, startBotReceiver } from './support/bot-receiver.js';

/** The JSON body of a response, untyped: tests read whatever Graph JSON came back. */
async function readJson(response: Response) {
  return JSON.parse(await response.text());
}

let sim: GraphSimulator;
let bot: BotReceiver;
let accessToken: string;

async function graph(
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string | null; base?: string; rawBody?: string } = {},
) {
  const token = options.token === undefined ? accessToken : options.token;
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || options.rawBody !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${options.base ?? sim.graphBaseUrl}${path}`, {
    method,
    headers,
    ...(options.rawBody !== undefined
      ? { body: options.rawBody }
      : body !== undefined
        ? { body: JSON.stringify(body) }
        : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

function msalClient(clientSecret = sim.clientSecret): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: sim.clientId,
      clientSecret,
      authority: sim.msal.authority,
      knownAuthorities: sim.msal.knownAuthorities,
      authorityMetadata: sim.msal.authorityMetadata,
    },
  });
}

const graphScope = ['https://graph.microsoft.com/.default'];

/** One notification per POST: parse the batch with src/graph and return its only member. */
function only(received: ReceivedNotification): GraphNotification {
  const notifications = parseNotifications(received.body);
  expect(notifications).toHaveLength(1);
  return notifications[0] as GraphNotification;
}

/** A short label for a notification: what happened and to which call. */
function describeNotification(notification: GraphNotification): string {
  switch (notification.kind) {
    case 'call': {
      if (notification.changeType === 'created') return `incoming ${notification.callId}`;
      if (notification.changeType === 'deleted') return `deleted ${notification.callId}`;
      return `${notification.call.state} ${notification.callId}`;
    }
    case 'operation':
      return `operation ${notification.operation.status} ${notification.callId}`;
    case 'participants':
      return `roster ${notification.callId}`;
    case 'other':
      return `other ${notification.callId}`;
  }
}

const caller = { user: { id: '8a34a46b-3d17-4adc-8dce-dc4e7d572698', displayName: 'Test User' } };

/** Seed 001, step 2: a group call without media, as the old walkthrough writes it (`callback`). */
function groupCallRequest(callback: string) {
  return {
    subject: 'Test Call',
    callback,
    source: {
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: { application: { id: sim.botAppId } },
    },
    targetDisposition: 'default',
    requestedModalities: [],
    chatInfo: {
      threadId: '90ED37DC-D8E3-4E11-9DE3-30A955DDA06F',
      messageId: '1507228578052',
      replyChainMessageId: '1507228578052',
    },
    meetingInfo: {
      '@odata.type': '#microsoft.graph.organizerMeetingInfo',
      organizer: { user: { id: '90ED37DC-D8E3-4E11-9DE3-30A955DDA06F', tenantId: sim.tenantId } },
    },
  };
}

function answerRequest(callbackUri: string) {
  return {
    callbackUri,
    acceptedModalities: ['audio'],
    mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
  };
}

/** An answered P2P call and an established group call, ready for an invite. */
async function answeredCallAndGroupCall(): Promise<{ p2pId: string; groupId: string }> {
  const { callId: p2pId } = await sim.placeIncomingCall({ botUrl: bot.callbackUrl(), caller });
  expect(
    (await graph('POST', `/communications/calls/${p2pId}/answer`, answerRequest(bot.callbackUrl()))).status,
  ).toBe(202);
  const created = await graph('POST', '/communications/calls', groupCallRequest(bot.callbackUrl()));
  expect(created.status).toBe(201);
  await sim.whenIdle();
  return { p2pId, groupId: created.body.id };
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 1 });
  bot = await startBotReceiver();
  const result = await msalClient().acquireTokenByClientCredential({ scopes: graphScope });
  accessToken = result?.accessToken as string;
});

afterAll(async () => {
  await sim?.stop();
  await bot?.stop();
});

describe('token endpoint', () => {
  it('gives real MSAL a token through sim.msal without any other network access', async () => {
    const seen: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      seen.push(input instanceof Request ? input.url : String(input));
      return realFetch(input, init);
    };
    const issuedBefore = sim.tokensIssued;
    let result: Awaited<ReturnType<ConfidentialClientApplication['acquireTokenByClientCredential']>>;
    try {
      result = await msalClient().acquireTokenByClientCredential({ scopes: graphScope });
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]?.startsWith(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`)).toBe(true);
    expect(sim.tokensIssued).toBe(issuedBefore + 1);
    expect(result?.tokenType).toBe('Bearer');
    const claims = decodeJwt(result?.accessToken as string);
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      tid: sim.tenantId,
      appid: sim.clientId,
    });
    expect(claims.roles).toContain('Calls.InitiateGroupCall.All');
  });

  it('answers a wrong client secret with 401 invalid_client, as Entra ID does', async () => {
    const response = await fetch(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: sim.clientId,
        client_secret: 'not-the-secret',
        scope: graphScope[0] as string,
      }),
    });
    expect(response.status).toBe(401);
    const body = await readJson(response);
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toMatch(/^AADSTS7000215: Invalid client secret/);

    const issuedBefore = sim.tokensIssued;
    await expect(msalClient('wrong').acquireTokenByClientCredential({ scopes: graphScope })).rejects.toThrow(
      /invalid_client/,
    );
    expect(sim.tokensIssued).toBe(issuedBefore);
  });

  it('serves the tenant OpenID configuration and key set that verify its access tokens', async () => {
    const config = await readJson(
      await fetch(`${sim.url}/${sim.tenantId}/v2.0/.well-known/openid-configuration`),
    );
    expect(config.token_endpoint).toBe(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`);
    const { payload } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(config.jwks_uri)), {
      issuer: config.issuer,
      audience: 'https://graph.microsoft.com',
    });
    expect(payload.appid).toBe(sim.clientId);
  });
});

describe('the seed 001 transfer, driven over HTTP', () => {
  it('answers, creates a group call, invites with replacesCallId and tears the P2P call down, notifying in seed order', async () => {
    const receivedBefore = bot.received.length;
    const p2pCallback = bot.callbackUrl('/api/calls/transfer-p2p');
    const groupCallback = bot.callbackUrl('/api/calls/transfer-group');

    const { callId: p2pId } = await sim.placeIncomingCall({ botUrl: bot.callbackUrl(), caller });
    await sim.whenIdle();

    const answered = await graph('POST', `/communications/calls/${p2pId}/answer`, answerRequest(p2pCallback));
    expect(answered.status).toBe(202);
    await sim.whenIdle();

    const created = await graph('POST', '/communications/calls', groupCallRequest(groupCallback));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      state: 'establishing',
      direction: 'outgoing',
      callbackUri: groupCallback,
    });
    const groupId: string = created.body.id;
    expect(created.headers.get('location')).toBe(`${sim.graphBaseUrl}/communications/calls/${groupId}`);
    await sim.whenIdle();

    const invited = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [
        {
          '@odata.type': '#microsoft.graph.invitationParticipantInfo',
          identity: { user: { id: caller.user.id } },
          replacesCallId: p2pId,
        },
      ],
      clientContext: 'transfer-1',
    });
    expect(invited.status).toBe(200);
    const operation = commsOperationSchema.parse(invited.body);
    expect(operation).toMatchObject({ status: 'running', clientContext: 'transfer-1' });
    expect(invited.headers.get('location')).toBe(
      `${sim.graphBaseUrl}/communications/calls/${groupId}/operations/${operation.id}`,
    );
    await sim.whenIdle();

    const received = bot.received.slice(receivedBefore);
    const notifications = received.map(only);
    expect(notifications.map(describeNotification)).toEqual([
      `incoming ${p2pId}`,
      `establishing ${p2pId}`,
      `established ${p2pId}`,
      `establishing ${groupId}`,
      `established ${groupId}`,
      // Joining a meeting (chatInfo + meetingInfo) also reports the roster: the bot alone.
      `roster ${groupId}`,
      `operation completed ${groupId}`,
      // Seed 001 step 3: the roster names the replaced call's /participants…
      `roster ${p2pId}`,
      `terminated ${p2pId}`,
      `deleted ${p2pId}`,
    ]);
    // …and goes to the callback of the call the invite was made on.
    expect(received.map((notification) => notification.path)).toEqual([
      '/api/calls',
      '/api/calls/transfer-p2p',
      '/api/calls/transfer-p2p',
      '/api/calls/transfer-group',
      '/api/calls/transfer-group',
      '/api/calls/transfer-group',
      '/api/calls/transfer-group',
      '/api/calls/transfer-group',
      '/api/calls/transfer-p2p',
      '/api/calls/transfer-p2p',
    ]);

    const operationNotification = notifications[6];
    expect(operationNotification).toMatchObject({
      kind: 'operation',
      changeType: 'deleted',
      operationId: operation.id,
      resourceUrl: `/communications/calls/${groupId}/operations/${operation.id}`,
      operation: {
        '@odata.type': '#microsoft.graph.inviteParticipantsOperation',
        clientContext: 'transfer-1',
      },
    });
    const roster = notifications[7];
    expect(roster?.kind).toBe('participants');
    if (roster?.kind !== 'participants') return;
    expect(roster.resourceUrl).toBe(`/communications/calls/${p2pId}/participants`);
    expect(
      roster.participants
        .map((participant) => participant.info.identity.user?.id ?? participant.info.identity.application?.id)
        .sort(),
    ).toEqual([caller.user.id, sim.botAppId].sort());
    expect(notifications[8]).toMatchObject({ kind: 'call', call: { terminationReason: 'AppInitiated' } });

    // State after the transfer: the P2P call is gone, the group call carries on.
    expect((await graph('GET', `/communications/calls/${p2pId}`)).body.error.code).toBe('itemNotFound');
    const group = await graph('GET', `/communications/calls/${groupId}`);
    expect(group.status).toBe(200);
    expect(callSchema.parse(group.body)).toMatchObject({ id: groupId, state: 'established' });
    const finished = await graph('GET', `/communications/calls/${groupId}/operations/${operation.id}`);
    expect(finished.body).toMatchObject({ id: operation.id, status: 'completed' });
    expect(sim.getCall(p2pId)).toMatchObject({
      state: 'terminated',
      deleted: true,
      replacedBy: { callId: groupId, operationId: operation.id },
    });
    expect(sim.deliveries.slice(-received.length).every((delivery) => delivery.status === 202)).toBe(true);
  });

  it('signs every notification with a JWT the published key set verifies, and a tampered one fails', async () => {
    const jwks = createRemoteJWKSet(new URL(sim.notificationAuth.jwksUrl));
    const options = { issuer: sim.notificationAuth.issuer, audience: sim.notificationAuth.audience };
    expect(bot.received.length).toBeGreaterThan(0);
    for (const notification of bot.received) {
      const { payload, protectedHeader } = await jwtVerify(notification.token as string, jwks, options);
      expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
      expect(payload).toMatchObject({ iss: 'https://api.botframework.com', aud: sim.botAppId });
      expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    }

    const genuine = bot.received[0]?.token ?? '';
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    await expect(jwtVerify(genuine, jwks, options)).resolves.toBeDefined();
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, aud: 'someone-else' })).toString('base64url');
    await expect(jwtVerify(`${header}.${forged}.${signature}`, jwks, options)).rejects.toThrow(/signature/i);

    const configuration = await readJson(await fetch(sim.notificationAuth.openIdConfigurationUrl));
    expect(configuration).toMatchObject({ issuer: options.issuer, jwks_uri: sim.notificationAuth.jwksUrl });
  });
});

describe('request validation', () => {
  it('answers more than five invitees with 400 naming participants', async () => {
    const { groupId } = await answeredCallAndGroupCall();
    const six = Array.from({ length: 6 }, (_, index) => ({ identity: { user: { id: `user-${index}` } } }));
    const answer = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: six,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('BadRequest');
    expect(answer.body.error.message).toMatch(/participants: at most 5/);
  });

  it('answers a clientContext over 256 characters with 400 naming clientContext', async () => {
    const { groupId } = await answeredCallAndGroupCall();
    const answer = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [{ identity: { user: { id: 'someone' } } }],
      clientContext: 'x'.repeat(257),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/clientContext/);
  });

  it('answers a call without callbackUri with 400 naming callbackUri, and creates nothing', async () => {
    const callsBefore = sim.calls().length;
    const { callback: _, ...request } = groupCallRequest('https://unused.example');
    const answer = await graph('POST', '/communications/calls', request);
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/callbackUri/);
    expect(sim.calls()).toHaveLength(callsBefore);
  });

  it('answers malformed JSON with 400', async () => {
    const answer = await graph('POST', '/communications/calls', undefined, { rawBody: '{"callbackUri": ' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: 'BadRequest',
      message: expect.stringMatching(/not valid JSON/),
    });
  });

  it('answers requests without a valid token with 401 InvalidAuthenticationToken', async () => {
    const missing = await graph('GET', '/communications/calls/any', undefined, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
    });
    const forged = await graph('GET', '/communications/calls/any', undefined, { token: `${accessToken}x` });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('InvalidAuthenticationToken');
  });

  it('answers an unknown call with 404 itemNotFound on every route', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/communications/calls/unknown-call'],
      ['DELETE', '/communications/calls/unknown-call'],
      ['POST', '/communications/calls/unknown-call/keepAlive'],
      ['POST', '/communications/calls/unknown-call/answer', answerRequest('https://bot.example/api/calls')],
      ['GET', '/communications/calls/unknown-call/operations/unknown-operation'],
    ];
    for (const [method, path, body] of routes) {
      const answer = await graph(method, path, body);
      expect([method, path, answer.status, answer.body.error.code]).toEqual([
        method,
        path,
        404,
        'itemNotFound',
      ]);
    }
  });

  it('uses only the first participant when one carries replacesCallId', async () => {
    const { p2pId, groupId } = await answeredCallAndGroupCall();
    const receivedBefore = bot.received.length;
    const answer = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [
        { identity: { user: { id: caller.user.id } }, replacesCallId: `/communications/calls/${p2pId}` },
        { identity: { user: { id: 'ignored-second-invitee' } } },
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.participants).toHaveLength(1);
    await sim.whenIdle();
    const rosters = bot.received
      .slice(receivedBefore)
      .map(only)
      .filter((notification) => notification.kind === 'participants');
    expect(rosters).toHaveLength(1);
    const ids = JSON.stringify(rosters[0]);
    expect(ids).toContain(caller.user.id);
    expect(ids).not.toContain('ignored-second-invitee');
    expect(sim.getCall(groupId)?.participants).toHaveLength(2);
  });

  it('refuses to invite into a P2P call, or to answer a call twice', async () => {
    const { p2pId } = await answeredCallAndGroupCall();
    const invite = await graph('POST', `/communications/calls/${p2pId}/participants/invite`, {
      participants: [{ identity: { user: { id: 'someone' } } }],
    });
    expect(invite.status).toBe(400);
    expect(invite.body.error.message).toMatch(/peer-to-peer/);
    const again = await graph(
      'POST',
      `/communications/calls/${p2pId}/answer`,
      answerRequest(bot.callbackUrl()),
    );
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/only an incoming call can be answered/);
  });

  it('fails the invite operation, in a notification, when replacesCallId names no call', async () => {
    const { groupId } = await answeredCallAndGroupCall();
    const receivedBefore = bot.received.length;
    const answer = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [{ identity: { user: { id: caller.user.id } }, replacesCallId: 'no-such-call' }],
      clientContext: 'doomed',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('running');
    await sim.whenIdle();
    const [outcome, ...rest] = bot.received.slice(receivedBefore).map(only);
    expect(rest).toEqual([]);
    expect(outcome).toMatchObject({
      kind: 'operation',
      operation: { status: 'failed', clientContext: 'doomed', resultInfo: { code: 404 } },
    });
  });

  it('serves the same API under /beta and the deprecated /app/calls path, and hangs up with 204', async () => {
    const { groupId } = await answeredCallAndGroupCall();
    const viaApp = await graph('GET', `/app/calls/${groupId}`, undefined, { base: `${sim.url}/beta` });
    expect(viaApp.status).toBe(200);
    expect(viaApp.body.id).toBe(groupId);
    expect((await graph('POST', `/app/calls/${groupId}/keepAlive`)).status).toBe(200);
    const receivedBefore = bot.received.length;
    expect(
      (await graph('DELETE', `/communications/calls/${groupId}`, undefined, { base: sim.url })).status,
    ).toBe(204);
    await sim.whenIdle();
    expect(bot.received.slice(receivedBefore).map(only).map(describeNotification)).toEqual([
      `terminated ${groupId}`,
      `deleted ${groupId}`,
    ]);
    expect((await graph('POST', `/communications/calls/${groupId}/keepAlive`)).status).toBe(404);
  });

  it("lets the caller hang up: terminated and deleted go to the call's callback, and the roster is gone", async () => {
    const { p2pId } = await answeredCallAndGroupCall();
    const roster = await graph('GET', `/communications/calls/${p2pId}/participants`);
    expect(roster.status).toBe(200);
    expect(roster.body.value).toHaveLength(2);
    const receivedBefore = bot.received.length;
    sim.endByRemoteParty(p2pId);
    await sim.whenIdle();
    expect(bot.received.slice(receivedBefore).map(only).map(describeNotification)).toEqual([
      `terminated ${p2pId}`,
      `deleted ${p2pId}`,
    ]);
    expect((await graph('GET', `/communications/calls/${p2pId}/participants`)).status).toBe(404);
  });

  it('records every Graph API request with its status', async () => {
    const before = sim.requests.length;
    await graph('GET', '/communications/calls/recorded-call');
    expect(sim.requests.slice(before)).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/v1.0/communications/calls/recorded-call',
        status: 404,
      }),
    ]);
  });
});
