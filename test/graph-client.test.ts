/**
 * The Graph client and its MSAL token provider against the project's simulator: real HTTP on
 * 127.0.0.1, real MSAL talking to the simulator's token endpoint, no mocks.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMsalTokenProvider, type MsalTokenProviderOptions } from '../src/graph/auth.js';
import {
  type AnswerCallRequest,
  answerCallRequestSchema,
  type CreateCallRequest,
  createCallRequestSchema,
  createGraphClient,
  GraphAuthError,
  type GraphClient,
  GraphRequestError,
  graphBaseUrl,
  type InviteParticipantsRequest,
  isNotFound,
  isRetryable,
  nationalCloud,
  parseRetryAfter,
} from '../src/graph/index.js';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';

let sim: GraphSimulator;
/** Stands in for the bot's callback: accepts every notification the simulator posts. */
let bot: Server;
let botUrl: string;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 1 });
  bot = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(202).end());
  });
  botUrl = `${await listen(bot)}/api/calls`;
});

afterAll(async () => {
  await sim?.stop();
  if (bot) await close(bot);
});

function providerOptions(overrides: Partial<MsalTokenProviderOptions> = {}): MsalTokenProviderOptions {
  return {
    tenantId: sim.tenantId,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    ...sim.msal,
    ...overrides,
  };
}

function clientFor(overrides: { baseUrl?: string; requestTimeoutMs?: number } = {}): GraphClient {
  return createGraphClient({
    baseUrl: overrides.baseUrl ?? sim.graphBaseUrl,
    tokenProvider: createMsalTokenProvider(providerOptions()),
    ...(overrides.requestTimeoutMs ? { requestTimeoutMs: overrides.requestTimeoutMs } : {}),
  });
}

/** The group call of the transfer flow (seed 000): no media, chatInfo + meetingInfo. */
function groupCallRequest(): CreateCallRequest {
  return createCallRequestSchema.parse({
    '@odata.type': '#microsoft.graph.call',
    callbackUri: `${botUrl}/transfer-test`,
    requestedModalities: [],
    chatInfo: {
      '@odata.type': '#microsoft.graph.chatInfo',
      threadId: '19:meeting_handoff@thread.v2',
      messageId: '0',
    },
    meetingInfo: {
      '@odata.type': '#microsoft.graph.organizerMeetingInfo',
      organizer: { user: { id: '550fae72-d251-43ec-868c-373732c2704f', displayName: 'Heidi Steen' } },
      allowConversationWithoutHost: true,
    },
    tenantId: sim.tenantId,
  });
}

function answerRequest(): AnswerCallRequest {
  return answerCallRequestSchema.parse({
    callbackUri: `${botUrl}/answer-test`,
    acceptedModalities: ['audio'],
    mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
  });
}

function invitees(count: number): InviteParticipantsRequest {
  return {
    participants: Array.from({ length: count }, (_, index) => ({
      '@odata.type': '#microsoft.graph.invitationParticipantInfo',
      identity: {
        user: { id: `8a34a46b-3d17-4adc-8dce-dc4e7d57269${index}`, displayName: `Invitee ${index}` },
      },
    })),
    clientContext: 'graph-client-test',
  };
}

/** Runs `action`, which must reject, and returns what it rejected with. */
async function failureOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail, but it succeeded');
}

describe('against the simulator', () => {
  it('gets one token through MSAL and reuses it for every request of a call lifecycle', async () => {
    const tokensBefore = sim.tokensIssued;
    const requestsBefore = sim.requests.length;
    const graph = createGraphClient({
      baseUrl: sim.graphBaseUrl,
      tokenProvider: createMsalTokenProvider(providerOptions()),
    });

    const groupCall = await graph.createCall(groupCallRequest());
    expect(groupCall.id).toEqual(expect.any(String));
    expect(groupCall.state).toBe('establishing');
    expect(groupCall.callbackUri).toBe(`${botUrl}/transfer-test`);
    const groupCallId = groupCall.id as string;

    const read = await graph.getCall(groupCallId);
    expect(read.id).toBe(groupCallId);
    expect(read.chatInfo?.threadId).toBe('19:meeting_handoff@thread.v2');

    await graph.keepAlive(groupCallId);

    const invited = await graph.inviteParticipants(groupCallId, invitees(2));
    expect(invited.operationId).toEqual(expect.any(String));
    expect(invited.operation?.clientContext).toBe('graph-client-test');
    const operation = await graph.getOperation(groupCallId, invited.operationId as string);
    expect(operation.id).toBe(invited.operationId);
    expect(['running', 'completed']).toContain(operation.status);

    // A call id given as a resource path (seed 000's `/app/calls/{id}`) names the same call.
    const incoming = await sim.placeIncomingCall({ botUrl });
    const answered = await graph.answerCall(`/app/calls/${incoming.callId}`, answerRequest());
    expect(answered).toBeUndefined(); // 202 without a body, as Graph v1.0 answers
    expect(sim.getCall(incoming.callId)?.state).toBe('established');

    await graph.hangUp(incoming.callId);
    await graph.hangUp(groupCallId);
    const gone = await failureOf(() => graph.getCall(groupCallId));
    expect(isNotFound(gone)).toBe(true);

    expect(sim.tokensIssued - tokensBefore).toBe(1);
    const served = sim.requests.slice(requestsBefore).map((request) => `${request.method} ${request.status}`);
    expect(served).toEqual([
      'POST 201',
      'GET 200',
      'POST 200',
      'POST 200',
      'GET 200',
      'POST 202',
      'DELETE 204',
      'DELETE 204',
      'GET 404',
    ]);
    await sim.whenIdle();
  });

  it('shares one token request between concurrent first requests', async () => {
    const tokensBefore = sim.tokensIssued;
    const graph = clientFor();
    const { id } = await graph.createCall(groupCallRequest());
    const callId = id as string;
    await Promise.all([graph.getCall(callId), graph.getCall(callId), graph.keepAlive(callId)]);
    expect(sim.tokensIssued - tokensBefore).toBe(1);
    await graph.hangUp(callId);
    await sim.whenIdle();
  });

  it('makes a 503 with Retry-After a retryable error carrying status, Graph code and delay', async () => {
    const graph = clientFor();
    const { id } = await graph.createCall(groupCallRequest());
    const callId = id as string;
    sim.injectFault({ method: 'POST', path: /invite$/, status: 503, retryAfterSeconds: 2, times: 1 });

    const error = await failureOf(() => graph.inviteParticipants(callId, invitees(1)));
    expect(error).toBeInstanceOf(GraphRequestError);
    const failure = error as GraphRequestError;
    expect(failure).toMatchObject({
      method: 'POST',
      path: `/communications/calls/${callId}/participants/invite`,
      status: 503,
      code: 'ServiceUnavailable',
      retryAfterSeconds: 2,
      retryable: true,
      kind: 'http',
    });
    expect(failure.requestId).toEqual(expect.any(String));
    expect(failure.message).toBe(
      `POST /communications/calls/${callId}/participants/invite failed: 503 ServiceUnavailable - ${failure.graphMessage} (retry after 2 s, request-id ${failure.requestId})`,
    );
    // Plain JSON, for Temporal failure details.
    expect(JSON.parse(JSON.stringify(failure))).toMatchObject({
      status: 503,
      retryAfterSeconds: 2,
      retryable: true,
    });

    // The client did not retry on its own; the next attempt (the activity's retry) succeeds.
    const retried = await graph.inviteParticipants(callId, invitees(1));
    expect(retried.operationId).toEqual(expect.any(String));
    await graph.hangUp(callId);
    await sim.whenIdle();
  });

  it('makes throttling (429 with Retry-After) a retryable error', async () => {
    const graph = clientFor();
    const { id } = await graph.createCall(groupCallRequest());
    sim.configure({ faults: { throttleRate: 1, throttleStatuses: [429], retryAfterSeconds: 3 } });
    try {
      const error = await failureOf(() => graph.getCall(id as string));
      expect(error).toBeInstanceOf(GraphRequestError);
      expect(error).toMatchObject({ status: 429, retryAfterSeconds: 3, retryable: true, kind: 'http' });
      expect(isRetryable(error)).toBe(true);
    } finally {
      sim.configure({ faults: { throttleRate: 0 } });
    }
    await graph.hangUp(id as string);
    await sim.whenIdle();
  });

  it('makes a 400 (six invitees) a non-retryable error with the Graph code and message', async () => {
    const graph = clientFor();
    const { id } = await graph.createCall(groupCallRequest());
    const callId = id as string;

    // The client does not validate bodies (Graph is the judge); six invitees break Graph's limit of five.
    const error = await failureOf(() => graph.inviteParticipants(callId, invitees(6)));
    expect(error).toBeInstanceOf(GraphRequestError);
    expect(error).toMatchObject({ status: 400, code: 'BadRequest', retryable: false, kind: 'http' });
    expect((error as GraphRequestError).graphMessage).toMatch(/participants/);
    expect(isRetryable(error)).toBe(false);
    await graph.hangUp(callId);
    await sim.whenIdle();
  });

  it('makes a 404 for an unknown call a non-retryable not-found error', async () => {
    const error = await failureOf(() => clientFor().getCall('no-such-call'));
    expect(error).toBeInstanceOf(GraphRequestError);
    expect(error).toMatchObject({
      method: 'GET',
      path: '/communications/calls/no-such-call',
      status: 404,
      code: 'itemNotFound',
      retryable: false,
      kind: 'http',
    });
    expect(isNotFound(error)).toBe(true);
  });

  it('encodes call ids in the path', async () => {
    const error = await failureOf(() => clientFor().hangUp('a/b?c'));
    expect(error).toMatchObject({ path: '/communications/calls/a%2Fb%3Fc', status: 404 });
  });

  it('gets a token with a certificate credential', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'der' },
    });
    const tokensBefore = sim.tokensIssued;
    const graph = createGraphClient({
      baseUrl: sim.graphBaseUrl,
      tokenProvider: createMsalTokenProvider(
        providerOptions({
          clientSecret: undefined,
          certificate: { thumbprintSha256: createHash('sha256').update(publicKey).digest('hex'), privateKey },
        }),
      ),
    });
    expect(isNotFound(await failureOf(() => graph.getCall('no-such-call')))).toBe(true);
    expect(sim.tokensIssued - tokensBefore).toBe(1);
  });
});

describe('token provider', () => {
  it('turns a wrong client secret into a clear, non-retryable GraphAuthError', async () => {
    const provider = createMsalTokenProvider(providerOptions({ clientSecret: 'not-the-secret' }));
    const error = await failureOf(() => provider.getToken());
    expect(error).toBeInstanceOf(GraphAuthError);
    expect(error).toMatchObject({
      status: 401,
      code: 'invalid_client',
      retryable: false,
      kind: 'http',
      clientId: sim.clientId,
      tenantId: sim.tenantId,
    });
    expect((error as GraphAuthError).message).toMatch(/Invalid client secret/);
    expect((error as GraphAuthError).message).toMatch(/check clientSecret/);

    // A Graph request that needs that token fails with the same error, before reaching Graph.
    const requestsBefore = sim.requests.length;
    const graph = createGraphClient({ baseUrl: sim.graphBaseUrl, tokenProvider: provider });
    expect(await failureOf(() => graph.getCall('any'))).toBeInstanceOf(GraphAuthError);
    expect(sim.requests.length).toBe(requestsBefore);
  });

  it('names the tenant when the tenant is unknown', async () => {
    const provider = createMsalTokenProvider(
      providerOptions({
        authority: sim.msal.authority.replace(sim.tenantId, 'other-tenant'),
        authorityMetadata: sim.msal.authorityMetadata.replaceAll(sim.tenantId, 'other-tenant'),
      }),
    );
    const error = await failureOf(() => provider.getToken());
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect((error as GraphAuthError).message).toMatch(/check tenantId/);
  });

  it('makes a throttled token endpoint a retryable GraphAuthError, also while MSAL holds requests back', async () => {
    // A fresh provider: MSAL remembers the throttling per instance (design.md, "Known traps").
    const provider = createMsalTokenProvider(providerOptions());
    sim.injectFault({ method: 'POST', path: /oauth2\/v2\.0\/token$/, status: 503, retryAfterSeconds: 4 });
    const error = await failureOf(() => provider.getToken());
    expect(error).toBeInstanceOf(GraphAuthError);
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 4, retryable: true, kind: 'http' });

    // MSAL now refuses without asking the endpoint; still retryable, with the time left.
    const tokensBefore = sim.tokensIssued;
    const held = await failureOf(() => provider.getToken());
    expect(held).toBeInstanceOf(GraphAuthError);
    expect((held as GraphAuthError).retryable).toBe(true);
    expect((held as GraphAuthError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((held as GraphAuthError).retryAfterSeconds).toBeLessThanOrEqual(4);
    expect(sim.tokensIssued).toBe(tokensBefore);
  });

  it('rejects invalid settings with an error naming the setting', () => {
    const settings = providerOptions();
    expect(() => createMsalTokenProvider({ ...settings, clientId: '' })).toThrow(/clientId is required/);
    expect(() => createMsalTokenProvider({ ...settings, clientSecret: undefined })).toThrow(
      /clientSecret or certificate is required/,
    );
    expect(() => createMsalTokenProvider({ ...settings, authority: 'http://127.0.0.1/tenant' })).toThrow(
      /authority must be an https URL/,
    );
    expect(() => createMsalTokenProvider({ ...settings, knownAuthorities: undefined })).toThrow(
      /knownAuthorities must list/,
    );
    expect(() => createMsalTokenProvider({ ...settings, authorityMetadata: '{"issuer":"x"}' })).toThrow(
      /authorityMetadata lacks authorization_endpoint, token_endpoint, jwks_uri/,
    );
    expect(() =>
      createMsalTokenProvider({
        ...settings,
        clientSecret: undefined,
        certificate: { thumbprintSha256: 'ab'.repeat(32), privateKey: 'not a key' },
      }),
    ).toThrow(/certificate\.privateKey must be a PEM encoded private key/);
    expect(() =>
      createMsalTokenProvider({ ...settings, clientSecrt: 'typo' } as MsalTokenProviderOptions),
    ).toThrow(/unknown setting clientSecrt/);
  });
});

describe('transport failures', () => {
  it('makes an unreachable base URL a retryable network error', async () => {
    const closed = createServer();
    const closedUrl = await listen(closed);
    await close(closed);

    const error = await failureOf(() => clientFor({ baseUrl: `${closedUrl}/v1.0` }).getCall('some-call'));
    expect(error).toBeInstanceOf(GraphRequestError);
    expect(error).toMatchObject({ kind: 'network', retryable: true, method: 'GET' });
    expect((error as GraphRequestError).status).toBeUndefined();
    expect((error as GraphRequestError).message).toMatch(/ECONNREFUSED/);
  });

  it('makes a request that outlasts requestTimeoutMs a retryable timeout', async () => {
    // Not a Graph stand-in: a socket that accepts requests and never answers.
    const blackHole = createServer(() => {});
    const blackHoleUrl = await listen(blackHole);
    try {
      const graph = clientFor({ baseUrl: `${blackHoleUrl}/v1.0`, requestTimeoutMs: 200 });
      const error = await failureOf(() => graph.keepAlive('some-call'));
      expect(error).toBeInstanceOf(GraphRequestError);
      expect(error).toMatchObject({
        kind: 'timeout',
        retryable: true,
        method: 'POST',
        path: '/communications/calls/some-call/keepAlive',
      });
      expect((error as GraphRequestError).status).toBeUndefined();
      expect((error as GraphRequestError).message).toMatch(/no response within 200 ms/);
    } finally {
      await close(blackHole);
    }
  });
});

describe('helpers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2024-05-01T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3);
    expect(parseRetryAfter('Wed, 01 May 2024 10:00:07 GMT', now)).toBe(7);
    expect(parseRetryAfter('Wed, 01 May 2024 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('looks national clouds up by name', () => {
    expect(nationalCloud('usGovL5DoD')).toMatchObject({
      authorityHost: 'https://login.microsoftonline.us',
      graphEndpoint: 'https://dod-graph.microsoft.us',
    });
    expect(graphBaseUrl(nationalCloud('CHINA'))).toBe('https://microsoftgraph.chinacloudapi.cn/v1.0');
    expect(nationalCloud('us-gov-l4').graphEndpoint).toBe('https://graph.microsoft.us');
    expect(() => nationalCloud('mars')).toThrow(/Unknown national cloud "mars": use one of global, usGovL4/);
  });
});
