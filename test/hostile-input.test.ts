// Hostile input at the webhook and the transfers API (issue 4, item 4), over real HTTP on 127.0.0.1:
// a real Temporal dev server, a worker running the recording stand-in for `transferCall`
// (test/support/workflows/webhook-recorder.ts), notification JWTs checked against a JWKS this test
// publishes with jose, with a tenant allow-list.
//
// Each row is one bad request. It must get its status, an `{ error: { code, message } }` body whose
// message names the problem, nothing internal (no stack frame, no source path), and change nothing:
// the sentinel transfer, which every notification row addresses, records no delivery, and the call
// every start-capable row names never gets a workflow. After each row a good notification to the
// canary transfer must still be accepted. A fast-check fuzz of /api/calls/:workflowId closes the file.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WorkflowNotFoundError } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { type CryptoKey, exportSPKI, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNotifications } from '../src/graph/index.js';
import {
  buildApiServer,
  buildWebhookServer,
  DEFAULT_BODY_LIMIT_BYTES,
  MAX_JSON_DEPTH,
  parseTransferRequest,
  type WebhookDeps,
} from '../src/webhook/index.js';
import type { NotificationDelivery } from '../src/workflows/definitions.js';
import type { TransferTarget } from '../src/workflows/transfer/types.js';
import { prototypeChanges, prototypeMemberIds, prototypeSnapshot } from './support/hostile-ids.js';
import { seedNotifications } from './support/seeds.js';
import { type LocalTemporalEnvironment, startLocalTemporal } from './support/temporal.js';
import {
  callbackPathFor,
  createSigningKey,
  eventually,
  forgeToken,
  get,
  incomingCallBody,
  type JsonBody,
  type KeyServer,
  startKeyServer,
  TEST_CALLBACK_SECRET,
  type TestSigningKey,
  testCaller,
  unsignedToken,
} from './support/webhook-fixtures.js';
import { recordedDeliveriesQuery } from './support/workflows/webhook-recorder.js';

const ISSUER = 'https://api.botframework.com';
const BOT_APP_ID = 'hostile-input-test-bot';
const TENANT = 'tenant-a';
const API_TOKEN = 'hostile-input-test-api-token';
const taskQueue = `hostile-input-${randomUUID()}`;

/** The transfer every notification row addresses: it must never record a delivery. */
const SENTINEL_CALL_ID = randomUUID();
const SENTINEL = `transfer-${SENTINEL_CALL_ID}`;
const SENTINEL_PATH = callbackPathFor(SENTINEL);
/** The call every row that could start a workflow names (incoming calls, transfer requests): it must never get one. */
const UNSTARTED_CALL_ID = randomUUID();
/** Receives the good notification sent after every row. */
const CANARY_CALL_ID = randomUUID();
const CANARY = `transfer-${CANARY_CALL_ID}`;
/** The fuzz tests' target. */
const FUZZ_CALL_ID = randomUUID();
const FUZZ = `transfer-${FUZZ_CALL_ID}`;

const meetingTarget: TransferTarget = {
  kind: 'meeting',
  chatInfo: { threadId: '19:meeting_hostile@thread.v2', messageId: '0', replyChainMessageId: '0' },
  organizer: { user: { id: '90ed37dc-d8e3-4e11-9de3-30a955dda06f', tenantId: TENANT } },
};

// ---------------------------------------------------------------------------------------------------
// Bodies: valid ones (checked below to parse), and the rows break one thing in them.

type Json = Record<string, unknown>;

function batch(...items: unknown[]): Json {
  return { '@odata.type': '#microsoft.graph.commsNotifications', value: items };
}

function item(resourceData: unknown, overrides: Json = {}): Json {
  return {
    '@odata.type': '#microsoft.graph.commsNotification',
    changeType: 'updated',
    resourceUrl: `/communications/calls/${SENTINEL_CALL_ID}`,
    resourceData,
    ...overrides,
  };
}

/** A call state change for the sentinel's call, with `overrides` in its resourceData. */
function callChange(overrides: Json = {}): Json {
  return batch(
    item({
      '@odata.type': '#microsoft.graph.call',
      state: 'established',
      direction: 'incoming',
      terminationReason: null,
      source: { '@odata.type': '#microsoft.graph.participantInfo', identity: testCaller },
      ...overrides,
    }),
  );
}

/** An invite operation's status, with `overrides` in its resourceData. */
function operationChange(overrides: Json = {}): Json {
  return batch(
    item(
      {
        '@odata.type': '#microsoft.graph.inviteParticipantsOperation',
        id: 'op-1',
        status: 'completed',
        clientContext: 'invite-1',
        participants: [{ identity: testCaller, replacesCallId: UNSTARTED_CALL_ID }],
        ...overrides,
      },
      { resourceUrl: `/communications/calls/${SENTINEL_CALL_ID}/operations/op-1` },
    ),
  );
}

function participant(overrides: Json = {}): Json {
  return {
    '@odata.type': '#microsoft.graph.participant',
    id: 'participant-1',
    info: { '@odata.type': '#microsoft.graph.participantInfo', identity: testCaller },
    mediaStreams: [{ mediaType: 'audio', sourceId: '1', direction: 'sendReceive', serverMuted: false }],
    isMuted: false,
    isInLobby: false,
    ...overrides,
  };
}

/** A full roster update whose one participant has `overrides`. */
function rosterChange(overrides: Json = {}): Json {
  return batch(
    item([participant(overrides)], {
      resourceUrl: `/communications/calls/${SENTINEL_CALL_ID}/participants`,
    }),
  );
}

/** A delta roster update with `overrides` in its resourceData. */
function deltaChange(overrides: Json = {}): Json {
  return batch(
    item(
      {
        '@odata.type': '#microsoft.graph.deltaParticipants',
        sequenceNumber: 3,
        participants: [participant()],
        ...overrides,
      },
      { resourceUrl: `/communications/calls/${SENTINEL_CALL_ID}/participants` },
    ),
  );
}

/** The first notification of `body`, for rows that change a member of the notification itself. */
function withItem(body: Json, overrides: Json, remove: string[] = []): Json {
  const [first] = body.value as Json[];
  const changed: Json = { ...first, ...overrides };
  for (const key of remove) delete changed[key];
  return { ...body, value: [changed] };
}

/** A valid transfer request for the never-started call, with `overrides`, without `remove`. */
function transfer(overrides: Json = {}, remove: string[] = []): Json {
  const body: Json = { callId: UNSTARTED_CALL_ID, target: meetingTarget, invitee: testCaller, ...overrides };
  for (const key of remove) delete body[key];
  return body;
}

function meeting(overrides: Json = {}, remove: string[] = []): Json {
  const target: Json = { ...meetingTarget, ...overrides };
  for (const key of remove) delete target[key];
  return target;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

// ---------------------------------------------------------------------------------------------------
// Requests

type TokenName =
  | 'valid'
  | 'expired'
  | 'notYetValid'
  | 'wrongIssuer'
  | 'wrongAudience'
  | 'unknownKid'
  | 'collidingKid'
  | 'otherTenant'
  | 'noTenant'
  | 'algNone'
  | 'hs256WithPublicKey'
  | 'es256'
  | 'tampered'
  | 'noExp'
  | 'noKidStranger';

/** A notification token by name, the API token, no Authorization header, or a header as given. */
type Auth = TokenName | 'api' | 'none' | { header: string };

interface HostileRequest {
  /** Default POST. */
  method?: string;
  /** Sent on the wire exactly as written (no `..` resolution). Default: the sentinel's callback. */
  path?: string;
  /** Serialised with JSON.stringify. */
  json?: unknown;
  /** Sent as is; a function for bodies too large to keep around. */
  raw?: string | Buffer | (() => string | Buffer);
  /** Default application/json when there is a body; null sends none. */
  contentType?: string | null;
  /** Default: the valid notification token, or the API token for /api/transfers. */
  auth?: Auth;
  /** fetch() for the 10 MB bodies: it reads the answer while the server refuses the upload. */
  via?: 'fetch';
  chunked?: boolean;
  /** A whole HTTP/1.1 request, for what no HTTP client sends; gets the valid Authorization header. */
  wire?: (authorization: string) => string;
}

type Category = 'body' | 'notification fields' | 'token' | 'workflow id' | 'transfer request' | 'method';

interface HostileRow {
  category: Category;
  name: string;
  request: HostileRequest;
  status: 400 | 401 | 404 | 413 | 415 | 431;
  /** A substring of error.message that names the problem. */
  message: string;
  /** A substring the server log must have for it (a refused token's reason goes there, not in the body). */
  logged?: string;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

let tokens: Record<TokenName, string>;
let webhookUrl: string;
let webhookPort: number;
let api: FastifyInstance;
/** The transfers API has its own listener (issue 9.2): /api/transfers rows go there. */
let apiPort: number;

function portFor(path: string): number {
  return path.startsWith('/api/transfers') ? apiPort : webhookPort;
}
/** The webhook's log lines (warn and up): where refused tokens' reasons go. */
const logLines: Array<Record<string, unknown>> = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
    done();
  },
});

function authorizationFor(auth: Auth): string | undefined {
  if (auth === 'none') return undefined;
  if (auth === 'api') return `Bearer ${API_TOKEN}`;
  if (typeof auth === 'object') return auth.header;
  return `Bearer ${tokens[auth]}`;
}

async function send(request: HostileRequest): Promise<Answer> {
  if (request.wire) return sendOnSocket(request.wire(`Bearer ${tokens.valid}`));
  const method = request.method ?? 'POST';
  const path = request.path ?? SENTINEL_PATH;
  const authorization = authorizationFor(
    request.auth ?? (path.startsWith('/api/transfers') ? 'api' : 'valid'),
  );
  const raw = typeof request.raw === 'function' ? request.raw() : request.raw;
  const body = 'json' in request ? JSON.stringify(request.json) : raw;
  const contentType =
    request.contentType === undefined
      ? body === undefined
        ? undefined
        : 'application/json'
      : request.contentType;
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (contentType) headers['content-type'] = contentType;

  if (request.via === 'fetch') {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const response = await fetch(`http://127.0.0.1:${portFor(path)}${path}`, {
      method,
      headers,
      ...(payload === undefined
        ? {}
        : request.chunked
          ? {
              body: new ReadableStream({
                start(controller) {
                  for (let at = 0; at < payload.length; at += 1 << 20)
                    controller.enqueue(payload.subarray(at, at + (1 << 20)));
                  controller.close();
                },
              }),
              duplex: 'half',
            }
          : { body: payload }),
    } as RequestInit);
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text: await response.text(),
    };
  }
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port: portFor(path),
        method,
        path,
        agent: false,
        headers: {
          ...headers,
          ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Writes `wire` to a fresh connection and parses the one answer the server writes before closing. */
function sendOnSocket(wire: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: webhookPort });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /^content-type:\s*(.+)$/im.exec(head)?.[1]?.trim() ?? '';
      resolve({ status, contentType, text: rest.join('\r\n\r\n') });
    });
    socket.end(wire);
  });
}

const wireRequest = (headers: string[], body = '') =>
  [`POST ${SENTINEL_PATH} HTTP/1.1`, 'Host: 127.0.0.1', ...headers, '', body].join('\r\n');

// ---------------------------------------------------------------------------------------------------
// The rows

const malformedJson = 'the request body is not valid JSON';
const notJsonType = 'Content-Type must be application/json';
const tooDeep = `more than ${MAX_JSON_DEPTH} levels deep`;
const tooLarge = `exceeds the limit of ${DEFAULT_BODY_LIMIT_BYTES} bytes`;
const badWorkflowId = 'the workflow id must be 1-200 characters';
const badToken = 'the Authorization header must be "Bearer <JWT>"';
const algorithmRefused = "the token's signing algorithm is not allowed";
const notE164 = 'invitee.phone.id: phone id must be an E.164 number';
const noIdentity = 'needs at least one identity with an id';
const apiTokenNeeded = 'the transfers API needs "Authorization: Bearer <API token>"';
const tenMegabytes = () => `{"value":["${'x'.repeat(10 * 1024 * 1024)}"]}`;

const bodyRows: HostileRow[] = (
  [
    { name: 'truncated JSON', request: { raw: '{"value": [' }, status: 400, message: malformedJson },
    { name: 'a trailing comma', request: { raw: '{"value": [],}' }, status: 400, message: malformedJson },
    { name: 'single quotes', request: { raw: "{'value': []}" }, status: 400, message: malformedJson },
    { name: 'unquoted keys', request: { raw: '{value: []}' }, status: 400, message: malformedJson },
    { name: 'NaN', request: { raw: '{"value": NaN}' }, status: 400, message: malformedJson },
    { name: 'a comment', request: { raw: '{"value": [] // no\n}' }, status: 400, message: malformedJson },
    { name: 'two documents', request: { raw: '{}{}' }, status: 400, message: malformedJson },
    { name: 'whitespace only', request: { raw: '   \n ' }, status: 400, message: malformedJson },
    {
      name: 'bytes that are not UTF-8 JSON',
      request: { raw: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x22, 0xc3]) },
      status: 400,
      message: malformedJson,
    },
    {
      name: 'a __proto__ key (prototype poisoning)',
      request: { raw: '{"__proto__": {"isAdmin": true}, "value": []}' },
      status: 400,
      message: '__proto__ are refused',
    },
    {
      name: 'a constructor.prototype key',
      request: { raw: '{"constructor": {"prototype": {"isAdmin": true}}}' },
      status: 400,
      message: '__proto__ are refused',
    },
    // Ids that name Object.prototype members (issue 9, item 4) as keys deep in a notification:
    // refused before anything reads them. As values they are ordinary ids (the fuzz below).
    {
      name: 'a __proto__ key inside resourceData',
      request: {
        raw: JSON.stringify(callChange()).replace(
          '"state":',
          '"__proto__": {"state": "terminated"}, "state":',
        ),
      },
      status: 400,
      message: '__proto__ are refused',
    },
    {
      name: 'a constructor.prototype key inside a roster participant',
      request: {
        raw: JSON.stringify(rosterChange()).replace(
          '"info":',
          '"constructor": {"prototype": {"joined": true}}, "info":',
        ),
      },
      status: 400,
      message: '__proto__ are refused',
    },
    { name: 'an empty body', request: { raw: '' }, status: 400, message: 'the request body is empty' },
    {
      name: 'Content-Type text/plain',
      request: { json: callChange(), contentType: 'text/plain' },
      status: 415,
      message: notJsonType,
    },
    {
      name: 'Content-Type application/xml',
      request: { raw: '<value/>', contentType: 'application/xml' },
      status: 415,
      message: notJsonType,
    },
    {
      name: 'Content-Type multipart/form-data',
      request: { raw: '--x\r\n\r\n{}\r\n--x--', contentType: 'multipart/form-data; boundary=x' },
      status: 415,
      message: notJsonType,
    },
    {
      name: 'Content-Type application/x-www-form-urlencoded',
      request: { raw: 'value=1', contentType: 'application/x-www-form-urlencoded' },
      status: 415,
      message: notJsonType,
    },
    {
      name: 'no Content-Type, with a JSON body',
      request: { json: callChange(), contentType: null },
      status: 415,
      message: notJsonType,
    },
    {
      name: 'no Content-Type and no body',
      request: { contentType: null },
      status: 415,
      message: 'Content-Type must be application/json, with a JSON body',
    },
    {
      name: 'a 10 MB body',
      request: { raw: tenMegabytes, via: 'fetch' },
      status: 413,
      message: tooLarge,
    },
    {
      name: 'a 10 MB body, chunked (no Content-Length)',
      request: { raw: tenMegabytes, via: 'fetch', chunked: true },
      status: 413,
      message: tooLarge,
    },
    {
      name: 'arrays nested 10,000 levels deep',
      request: { raw: nested(10_000) },
      status: 400,
      message: tooDeep,
    },
    {
      name: 'objects nested 10,000 levels deep',
      request: { raw: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}` },
      status: 400,
      message: tooDeep,
    },
    {
      // Without the limit this one was accepted and then crashed encoding the signal (500).
      name: 'a valid notification with a member nested 10,000 levels deep',
      request: {
        raw: JSON.stringify(callChange({ extra: 'NESTED' })).replace('"NESTED"', nested(10_000)),
      },
      status: 400,
      message: tooDeep,
    },
    {
      name: 'a JSON array',
      request: { json: [callChange()] },
      status: 400,
      message: '(body): Invalid input: expected object, received array',
    },
    {
      name: 'a JSON string',
      request: { json: 'notification' },
      status: 400,
      message: '(body): Invalid input: expected object, received string',
    },
    {
      name: 'a JSON number',
      request: { json: 42 },
      status: 400,
      message: '(body): Invalid input: expected object, received number',
    },
    {
      name: 'JSON null',
      request: { json: null },
      status: 400,
      message: '(body): Invalid input: expected object, received null',
    },
    {
      name: 'JSON true',
      request: { json: true },
      status: 400,
      message: '(body): Invalid input: expected object, received boolean',
    },
    {
      name: 'an empty object',
      request: { json: {} },
      status: 400,
      message: 'value: Invalid input: expected array, received undefined',
    },
    {
      name: 'Content-Length and Transfer-Encoding together (request smuggling)',
      request: {
        wire: (authorization) =>
          wireRequest(
            [
              `Authorization: ${authorization}`,
              'Content-Type: application/json',
              'Content-Length: 4',
              'Transfer-Encoding: chunked',
            ],
            '0\r\n\r\n',
          ),
      },
      status: 400,
      message: 'the HTTP request is malformed',
    },
    {
      name: 'two different Content-Length headers',
      request: {
        wire: (authorization) =>
          wireRequest([`Authorization: ${authorization}`, 'Content-Length: 2', 'Content-Length: 3'], '{} '),
      },
      status: 400,
      message: 'the HTTP request is malformed',
    },
    {
      name: 'a Content-Length that is not a number',
      request: {
        wire: (authorization) =>
          wireRequest([`Authorization: ${authorization}`, 'Content-Length: two'], '{}'),
      },
      status: 400,
      message: 'the HTTP request is malformed',
    },
    {
      name: 'headers over 16 KiB',
      request: {
        wire: (authorization) =>
          wireRequest(
            [`Authorization: ${authorization}`, `X-Padding: ${'p'.repeat(20_000)}`, 'Content-Length: 2'],
            '{}',
          ),
      },
      status: 431,
      message: 'the request headers are larger than 16 KiB',
    },
  ] satisfies Omit<HostileRow, 'category'>[]
).map((row) => ({ ...row, category: 'body' }));

/** Rows that break one member of an otherwise valid notification; the message names where. */
const fieldRows: HostileRow[] = (
  [
    ['changeType a number', withItem(callChange(), { changeType: 42 }), 'value[0].changeType'],
    [
      'changeType not a change type',
      withItem(callChange(), { changeType: 'sideways' }),
      'value[0].changeType: expected one of created, updated, deleted, got "sideways"',
    ],
    ['changeType null', withItem(callChange(), { changeType: null }), 'value[0].changeType'],
    ['changeType missing', withItem(callChange(), {}, ['changeType']), 'value[0].changeType'],
    ['resourceUrl a number', withItem(callChange(), { resourceUrl: 42 }), 'value[0].resourceUrl'],
    ['resourceUrl empty', withItem(callChange(), { resourceUrl: '' }), 'value[0].resourceUrl'],
    [
      'resource (old generation) an array',
      withItem(callChange(), { resource: ['/app/calls/x'] }, ['resourceUrl']),
      'value[0].resource',
    ],
    [
      'resourceUrl not a call',
      withItem(callChange(), { resourceUrl: '/chats/19:abc/messages/1' }),
      'is not a Graph call resource',
    ],
    [
      'neither resourceUrl nor resource',
      withItem(callChange(), {}, ['resourceUrl']),
      'value[0].resourceUrl: resourceUrl (or resource) is required',
    ],
    [
      'resourceData a string',
      withItem(callChange(), { resourceData: 'established' }),
      'value[0].resourceData: resourceData must be an object or an array of objects',
    ],
    [
      'resourceData null',
      withItem(callChange(), { resourceData: null }),
      'value[0].resourceData: resourceData must be an object',
    ],
    ['resourceData missing', withItem(callChange(), {}, ['resourceData']), 'value[0].resourceData'],
    ['state a number', callChange({ state: 7 }), 'value[0].resourceData.state'],
    [
      'state not a call state',
      callChange({ state: 'flying' }),
      'value[0].resourceData.state: expected one of incoming',
    ],
    ['direction a boolean', callChange({ direction: true }), 'value[0].resourceData.direction'],
    [
      'direction not a direction',
      callChange({ direction: 'sideways' }),
      'value[0].resourceData.direction: expected one of incoming, outgoing',
    ],
    [
      'terminationReason a number',
      callChange({ terminationReason: 5 }),
      'value[0].resourceData.terminationReason: Invalid input: expected string, received number',
    ],
    ['the call id a number', callChange({ id: 12 }), 'value[0].resourceData.id'],
    [
      'source.identity a string',
      callChange({ source: { identity: 'caller' } }),
      'value[0].resourceData.source.identity: Invalid input: expected object, received string',
    ],
    [
      'source.identity.user.id a number',
      callChange({ source: { identity: { user: { id: 5 } } } }),
      'value[0].resourceData.source.identity.user.id',
    ],
    ['callbackUri an object', callChange({ callbackUri: {} }), 'value[0].resourceData.callbackUri'],
    [
      'requestedModalities a string',
      callChange({ requestedModalities: 'audio' }),
      'value[0].resourceData.requestedModalities',
    ],
    ['operation status a number', operationChange({ status: 1 }), 'value[0].resourceData.status'],
    [
      'operation status not a status',
      operationChange({ status: 'done' }),
      'value[0].resourceData.status: expected one of notStarted, running, completed, failed',
    ],
    [
      'operation status missing',
      operationChange({ status: undefined }),
      'value[0].resourceData.status: Invalid input: expected string, received undefined',
    ],
    [
      'clientContext an object',
      operationChange({ clientContext: {} }),
      'value[0].resourceData.clientContext: Invalid input: expected string, received object',
    ],
    [
      'operation participants a string',
      operationChange({ participants: 'everyone' }),
      'value[0].resourceData.participants: Invalid input: expected array, received string',
    ],
    [
      'an operation participant without identity',
      operationChange({ participants: [{ replacesCallId: UNSTARTED_CALL_ID }] }),
      'value[0].resourceData.participants[0].identity',
    ],
    [
      'operation resultInfo.code a string',
      operationChange({ resultInfo: { code: 'two hundred' } }),
      'value[0].resourceData.resultInfo',
    ],
    [
      'a roster participant without info',
      rosterChange({ info: undefined }),
      'value[0].resourceData[0].info: Invalid input: expected object, received undefined',
    ],
    [
      'participant info.identity a string',
      rosterChange({ info: { identity: 'bob' } }),
      'value[0].resourceData[0].info.identity: Invalid input: expected object, received string',
    ],
    [
      'participant info.identity.user a number',
      rosterChange({ info: { identity: { user: 5 } } }),
      'value[0].resourceData[0].info.identity.user',
    ],
    [
      'mediaStreams an object',
      rosterChange({ mediaStreams: {} }),
      'value[0].resourceData[0].mediaStreams: Invalid input: expected array, received object',
    ],
    [
      'mediaStreams[0].mediaType a number',
      rosterChange({ mediaStreams: [{ mediaType: 3 }] }),
      'value[0].resourceData[0].mediaStreams[0].mediaType',
    ],
    [
      'mediaStreams[0].sourceId an object',
      rosterChange({ mediaStreams: [{ mediaType: 'audio', sourceId: {} }] }),
      'value[0].resourceData[0].mediaStreams[0].sourceId',
    ],
    ['isMuted a string', rosterChange({ isMuted: 'yes' }), 'value[0].resourceData[0].isMuted'],
    ['isInLobby a string', rosterChange({ isInLobby: 'no' }), 'value[0].resourceData[0].isInLobby'],
    [
      'rosterSequenceNumber a string',
      rosterChange({ rosterSequenceNumber: 'first' }),
      'value[0].resourceData[0].rosterSequenceNumber',
    ],
    [
      'sequenceNumber a string',
      deltaChange({ sequenceNumber: '3' }),
      'value[0].resourceData.sequenceNumber: Invalid input: expected number, received string',
    ],
    [
      'sequenceNumber a fraction',
      deltaChange({ sequenceNumber: 1.5 }),
      'value[0].resourceData.sequenceNumber',
    ],
    [
      'delta participants a string',
      deltaChange({ participants: 'all' }),
      'value[0].resourceData.participants: Invalid input: expected array, received string',
    ],
    [
      "the notification's @odata.type a number",
      withItem(callChange(), { '@odata.type': 42 }),
      'value[0].@odata.type',
    ],
    [
      "the batch's @odata.type a number",
      { ...callChange(), '@odata.type': 42 },
      '@odata.type: Invalid input: expected string, received number',
    ],
    [
      'an unknown batch @odata.type',
      { ...callChange(), '@odata.type': '#microsoft.graph.changeNotificationCollection' },
      '@odata.type: expected @odata.type #microsoft.graph.commsNotifications',
    ],
    [
      'an unknown notification @odata.type',
      withItem(callChange(), { '@odata.type': '#microsoft.graph.chatMessage' }),
      'value[0].@odata.type: expected @odata.type #microsoft.graph.commsNotification',
    ],
    [
      'an unknown resourceData @odata.type',
      callChange({ '@odata.type': '#microsoft.graph.teleport' }),
      'value[0].resourceData.@odata.type: unknown resource type "teleport"',
    ],
    [
      'an unknown @odata.type in a resourceData list',
      rosterChange({ '@odata.type': '#microsoft.graph.chatMessage' }),
      'value[0].resourceData[0].@odata.type: unknown resource type "chatMessage"',
    ],
    [
      'mixed @odata.types in a resourceData list',
      withItem(rosterChange(), {
        resourceData: [participant(), { '@odata.type': '#microsoft.graph.deltaParticipants' }],
      }),
      'value[0].resourceData: mixed resource types participant, deltaParticipants',
    ],
    [
      'an untyped list on a call resource',
      withItem(callChange(), { resourceData: [{ state: 'established' }] }),
      'cannot tell what this resourceData collection holds',
    ],
    ['value a string', { ...callChange(), value: 'all of them' }, 'value: Invalid input: expected array'],
    [
      'value an empty list',
      { ...callChange(), value: [] },
      'a notification batch needs at least one notification',
    ],
    ['value[0] a number', { ...callChange(), value: [42] }, 'value[0]: Invalid input: expected object'],
    ['value[0] null', { ...callChange(), value: [null] }, 'value[0]: Invalid input: expected object'],
    [
      // All or nothing: the good first notification is not signalled either.
      'a good notification followed by a bad one',
      batch(...(callChange().value as Json[]), item({ state: 'flying' })),
      'value[1].resourceData.state',
    ],
    [
      // Graph adds members over time, so unknown ones pass; the bad member is still the one named.
      'unknown members next to a bad state',
      callChange({ futureMember: { nested: true }, state: 'flying' }),
      'value[0].resourceData.state',
    ],
    [
      'a call id with a path in the resource',
      withItem(callChange(), { resourceUrl: '/communications/calls/..%2F..%2Fadmin' }),
      'the call id "..%2F..%2Fadmin" in the resource path is not a Graph call id',
    ],
    [
      'a call id with an RTL override in the resource',
      withItem(callChange(), { resourceUrl: `/communications/calls/${SENTINEL_CALL_ID}\u202Egpj` }),
      'u202e',
    ],
  ] as const
).map(([name, json, message]) => ({
  category: 'notification fields' as const,
  name,
  request: { json },
  status: 400 as const,
  message,
}));

/** Notification tokens, on the sentinel's callback and on the bot URL (where they would start a transfer). */
const incomingOnBotUrl: HostileRequest = { path: '/api/calls', json: incomingCallBody(UNSTARTED_CALL_ID) };
/** The body says only "notification refused" (issue 9.6); `reason` is what the log says. */
function tokenRow(
  name: string,
  auth: Auth,
  reason: string,
  on: 'callback' | 'bot URL' = 'callback',
): HostileRow {
  return {
    category: 'token',
    name: on === 'callback' ? name : `${name}, on the bot URL`,
    request: on === 'callback' ? { json: callChange(), auth } : { ...incomingOnBotUrl, auth },
    status: 401,
    message: 'notification refused',
    logged: reason,
  };
}

const tokenRows: HostileRow[] = [
  tokenRow('no Authorization header', 'none', 'the Authorization header is missing'),
  tokenRow('no Authorization header', 'none', 'the Authorization header is missing', 'bot URL'),
  tokenRow('an empty Authorization header', { header: '' }, 'the Authorization header is missing'),
  tokenRow('an empty Bearer', { header: 'Bearer ' }, badToken),
  tokenRow('Basic auth', { header: 'Basic dXNlcjpwYXNz' }, badToken),
  tokenRow('Basic auth', { header: 'Basic dXNlcjpwYXNz' }, badToken, 'bot URL'),
  tokenRow('a bearer that is not a JWT', { header: 'Bearer not-a-jwt' }, badToken),
  tokenRow('three segments that are not a JWT', { header: 'Bearer a.b.c' }, 'the bearer token is not a JWT'),
  tokenRow('a 10 KB bearer', { header: `Bearer ${'a'.repeat(10_000)}` }, badToken),
  tokenRow('an expired token', 'expired', 'the token has expired'),
  tokenRow('an expired token', 'expired', 'the token has expired', 'bot URL'),
  tokenRow('a token not valid yet', 'notYetValid', 'the token is not valid yet'),
  tokenRow('a token from another issuer', 'wrongIssuer', "the token's issuer is not one of"),
  tokenRow('a token for another audience', 'wrongAudience', "the token's audience is not this bot"),
  tokenRow(
    'an unknown key id',
    'unknownKid',
    "no published signing key matches the token's key id no-such-key",
  ),
  tokenRow('alg none', 'algNone', algorithmRefused),
  tokenRow('alg none', 'algNone', algorithmRefused, 'bot URL'),
  tokenRow('HS256 signed with the public key as the secret', 'hs256WithPublicKey', algorithmRefused),
  tokenRow('ES256 (an algorithm Bot Framework does not use)', 'es256', algorithmRefused),
  tokenRow(
    'a token from a tenant not allowed',
    'otherTenant',
    "the token's tenant tenant-b is not one of the allowed tenants",
  ),
  tokenRow(
    'a token from a tenant not allowed',
    'otherTenant',
    'is not one of the allowed tenants',
    'bot URL',
  ),
  tokenRow('a token without a tenant', 'noTenant', 'the token carries no tid claim'),
  tokenRow(
    'a key whose kid collides with the published one',
    'collidingKid',
    'the token signature does not verify',
  ),
  tokenRow('a payload changed after signing', 'tampered', 'the token signature does not verify'),
  tokenRow('a token without exp', 'noExp', "the token's exp claim is invalid"),
  tokenRow('no kid, signed by an unpublished key', 'noKidStranger', 'the token signature does not verify'),
];

const pathRows: HostileRow[] = (
  [
    ['..', '/api/calls/..', 400, badWorkflowId],
    ['%2e%2e', '/api/calls/%2e%2e', 400, badWorkflowId],
    ['.%2E', '/api/calls/.%2E', 400, badWorkflowId],
    ['..%2F..%2Fetc%2Fpasswd', '/api/calls/..%2F..%2Fetc%2Fpasswd', 400, badWorkflowId],
    ['the sentinel id %2F..', `/api/calls/${SENTINEL}%2F..`, 400, badWorkflowId],
    ['a%2Fb', '/api/calls/a%2Fb', 400, badWorkflowId],
    ['a/b (a callback key that is no key)', '/api/calls/a/b', 404, 'no such callback'],
    ['the sentinel without its callback key', `/api/calls/${SENTINEL}`, 404, 'no such callback'],
    ['the sentinel with an empty callback key', `/api/calls/${SENTINEL}/`, 404, 'no such callback'],
    [
      "the sentinel with the canary's callback key",
      `/api/calls/${SENTINEL}/${callbackPathFor(CANARY).split('/').pop()}`,
      404,
      'no such callback',
    ],
    [
      'the sentinel with a key made with another secret',
      callbackPathFor(SENTINEL, `${TEST_CALLBACK_SECRET}-other`),
      404,
      'no such callback',
    ],
    [
      'the sentinel with its key in upper case',
      `/api/calls/${SENTINEL}/${callbackPathFor(SENTINEL).split('/').pop()?.toUpperCase()}`,
      404,
      'no such callback',
    ],
    [
      'x/../<sentinel> (a dot-dot segment before the id)',
      `/api/calls/x/../${SENTINEL}`,
      404,
      'no route for POST',
    ],
    ['a backslash', '/api/calls/a\\b', 400, badWorkflowId],
    ['%5C (an encoded backslash)', '/api/calls/a%5Cb', 400, badWorkflowId],
    ['a null byte %00', `/api/calls/${SENTINEL}%00`, 400, badWorkflowId],
    ['a double-encoded dot-dot %252e%252e', '/api/calls/%252e%252e', 400, badWorkflowId],
    ['a space %20', `/api/calls/%20${SENTINEL}`, 400, badWorkflowId],
    ['a semicolon parameter', `/api/calls/${SENTINEL};jsessionid=1`, 400, badWorkflowId],
    ['201 characters', `/api/calls/${'w'.repeat(201)}`, 400, badWorkflowId],
    [
      '5,000 characters',
      `/api/calls/${'w'.repeat(5_000)}`,
      400,
      'the workflow id in the path is longer than',
    ],
    ['a malformed escape %zz', '/api/calls/%zz', 400, 'the request path is not valid percent-encoding'],
    [
      'a truncated UTF-8 escape',
      '/api/calls/%E0%A4%A',
      400,
      'the request path is not valid percent-encoding',
    ],
    [
      'a Cyrillic homoglyph',
      `/api/calls/${encodeURIComponent(`tr\u0430nsfer-${SENTINEL_CALL_ID}`)}`,
      400,
      badWorkflowId,
    ],
    [
      'an RTL override',
      `/api/calls/${encodeURIComponent(`transfer-\u202E${SENTINEL_CALL_ID}`)}`,
      400,
      badWorkflowId,
    ],
    ['an emoji', `/api/calls/${encodeURIComponent('transfer-\u{1F4DE}')}`, 400, badWorkflowId],
    ['a zero-width space', `/api/calls/${encodeURIComponent(`${SENTINEL}\u200B`)}`, 400, badWorkflowId],
    ['full-width letters', `/api/calls/${encodeURIComponent('\uFF54ransfer-1')}`, 400, badWorkflowId],
    ['dot-dot in a transfer status', '/api/transfers/%2e%2e', 400, badWorkflowId],
    [
      'an RTL override in a transfer cancel',
      `/api/transfers/${encodeURIComponent(`\u202E${SENTINEL}`)}/cancel`,
      400,
      badWorkflowId,
    ],
  ] as const
).map(([name, path, status, message]) => ({
  category: 'workflow id' as const,
  name,
  request: path.startsWith('/api/transfers')
    ? { method: path.endsWith('/cancel') ? 'POST' : 'GET', path }
    : { path, json: callChange() },
  status,
  message,
}));

const transferRows: HostileRow[] = (
  [
    ['no callId', transfer({}, ['callId']), 'callId: callId is required'],
    ['callId a number', transfer({ callId: 42 }), 'callId'],
    ['callId with a slash', transfer({ callId: 'a/b' }), 'callId: callId must be a Graph call id'],
    ['callId ..', transfer({ callId: '..' }), 'callId: callId must be a Graph call id'],
    [
      'callId with an RTL override',
      transfer({ callId: `\u202E${UNSTARTED_CALL_ID}` }),
      'callId: callId must be a Graph call id',
    ],
    ['no invitee', transfer({}, ['invitee']), 'invitee: Invalid input: expected object, received undefined'],
    ['invitee {}', transfer({ invitee: {} }), `invitee: ${noIdentity}`],
    [
      'an invitee user without id',
      transfer({ invitee: { user: { displayName: 'No Id' } } }),
      `invitee: ${noIdentity}`,
    ],
    [
      'an invitee user with an empty id',
      transfer({ invitee: { user: { id: '' } } }),
      `invitee: ${noIdentity}`,
    ],
    [
      'an invitee user id a number',
      transfer({ invitee: { user: { id: 42 } } }),
      'invitee.user.id: Invalid input: expected string',
    ],
    [
      'an invitee user a string',
      transfer({ invitee: { user: 'bob' } }),
      'invitee.user: Invalid input: expected object',
    ],
    [
      'only an unknown identity kind',
      transfer({ invitee: { robot: { id: 'r2d2' } } }),
      `invitee: ${noIdentity}`,
    ],
    ['an invitee user null', transfer({ invitee: { user: null } }), `invitee: ${noIdentity}`],
    ['phone 12345', transfer({ invitee: { phone: { id: '12345' } } }), notE164],
    ['phone +0123', transfer({ invitee: { phone: { id: '+0123' } } }), notE164],
    ['phone with letters', transfer({ invitee: { phone: { id: '+1555CALLNOW' } } }), notE164],
    ['phone with spaces', transfer({ invitee: { phone: { id: '+1 555 0100' } } }), notE164],
    ['phone of 16 digits', transfer({ invitee: { phone: { id: '+1234567890123456' } } }), notE164],
    [
      'phone id a number',
      transfer({ invitee: { phone: { id: 12345678901 } } }),
      'invitee.phone.id: Invalid input: expected string',
    ],
    [
      'a list of one invitee',
      transfer({ invitee: [testCaller] }),
      'invitee must be one identitySet, not a list',
    ],
    [
      'a list of 6 invitees',
      transfer({ invitee: Array.from({ length: 6 }, (_, index) => ({ user: { id: `user-${index}` } })) }),
      'invitee must be one identitySet, not a list',
    ],
    [
      'an invitees list (6) instead of invitee',
      transfer({ invitees: Array.from({ length: 6 }, () => testCaller) }, ['invitee']),
      'Unrecognized key: "invitees"',
    ],
    ['no target', transfer({}, ['target']), 'target'],
    [
      'target {}',
      transfer({ target: {} }),
      "target.kind: target.kind must be 'meeting', 'joinMeetingId' or 'groupCall'",
    ],
    [
      'an unknown target kind',
      transfer({ target: { kind: 'teleport' } }),
      "target.kind must be 'meeting', 'joinMeetingId' or 'groupCall'",
    ],
    [
      'a meeting without chatInfo',
      transfer({ target: meeting({}, ['chatInfo']) }),
      'target.chatInfo: Invalid input: expected object',
    ],
    [
      'an empty chatInfo.threadId',
      transfer({ target: meeting({ chatInfo: { threadId: '' } }) }),
      'target.chatInfo.threadId',
    ],
    [
      'chatInfo without threadId',
      transfer({ target: meeting({ chatInfo: { messageId: '0' } }) }),
      'target.chatInfo.threadId',
    ],
    [
      'a meeting without organizer',
      transfer({ target: meeting({}, ['organizer']) }),
      'target.organizer: Invalid input: expected object',
    ],
    [
      'an organizer without id',
      transfer({ target: meeting({ organizer: { user: { displayName: 'Org' } } }) }),
      `target.organizer: ${noIdentity}`,
    ],
    [
      'an empty joinMeetingId',
      transfer({ target: { kind: 'joinMeetingId', joinMeetingId: '' } }),
      'joinMeetingId must not be empty',
    ],
    [
      'no joinMeetingId',
      transfer({ target: { kind: 'joinMeetingId' } }),
      'target.joinMeetingId: Invalid input: expected string',
    ],
    [
      'joinMeetingId a number',
      transfer({ target: { kind: 'joinMeetingId', joinMeetingId: 1234567890 } }),
      'target.joinMeetingId: Invalid input: expected string',
    ],
    ['an unknown field', transfer({ callID: 'typo' }), '(body): Unrecognized key: "callID"'],
    [
      'an unknown field in the target',
      transfer({ target: meeting({ dialIn: true }) }),
      'target: Unrecognized key: "dialIn"',
    ],
    [
      'a timeout under a second',
      transfer({ timeouts: { callEstablishedMs: 5 } }),
      'timeouts.callEstablishedMs: Too small',
    ],
    ['an unknown timeout', transfer({ timeouts: { forever: 1 } }), 'timeouts: Unrecognized key: "forever"'],
    [
      '21 prompts to prefetch',
      transfer({
        preFetchMedia: Array.from({ length: 21 }, () => ({ uri: 'https://cdn.contoso.com/a.wav' })),
      }),
      'preFetchMedia: Too big',
    ],
    [
      'alreadyAnswered a string',
      transfer({ alreadyAnswered: 'yes' }),
      'alreadyAnswered: Invalid input: expected boolean',
    ],
    [
      'a 257-character subject',
      transfer({ target: meeting({ subject: 's'.repeat(257) }) }),
      'target.subject: Too big',
    ],
    ['a JSON array', [transfer()], '(body): Invalid input: expected object, received array'],
    ['JSON null', null, '(body): Invalid input: expected object, received null'],
    ['a JSON string', 'transfer please', '(body): Invalid input: expected object, received string'],
  ] as const
).map(([name, json, message]) => ({
  category: 'transfer request' as const,
  name,
  request: { path: '/api/transfers', json },
  status: 400 as const,
  message,
}));

const transferHttpRows: HostileRow[] = (
  [
    {
      name: 'a __proto__ key in the invitee',
      request: {
        path: '/api/transfers',
        raw: JSON.stringify(transfer()).replace('"invitee":{', '"invitee":{"__proto__":{"user":{"id":"x"}},'),
      },
      status: 400,
      message: '__proto__ are refused',
    },
    {
      name: 'malformed JSON',
      request: { path: '/api/transfers', raw: '{"callId":' },
      status: 400,
      message: malformedJson,
    },
    {
      name: 'objects nested 10,000 levels deep',
      request: { path: '/api/transfers', raw: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}` },
      status: 400,
      message: tooDeep,
    },
    {
      name: 'Content-Type text/plain',
      request: { path: '/api/transfers', json: transfer(), contentType: 'text/plain' },
      status: 415,
      message: notJsonType,
    },
    {
      name: 'no Content-Type',
      request: { path: '/api/transfers', json: transfer(), contentType: null },
      status: 415,
      message: notJsonType,
    },
    {
      name: 'no API token',
      request: { path: '/api/transfers', json: transfer(), auth: 'none' },
      status: 401,
      message: apiTokenNeeded,
    },
    {
      name: 'a wrong API token',
      request: { path: '/api/transfers', json: transfer(), auth: { header: 'Bearer guess' } },
      status: 401,
      message: apiTokenNeeded,
    },
    {
      name: 'Basic auth on the API',
      request: {
        path: '/api/transfers',
        json: transfer(),
        auth: { header: `Basic ${btoa(`api:${API_TOKEN}`)}` },
      },
      status: 401,
      message: apiTokenNeeded,
    },
    {
      name: 'a valid notification JWT instead of the API token',
      request: { path: '/api/transfers', json: transfer(), auth: 'valid' },
      status: 401,
      message: apiTokenNeeded,
    },
    {
      name: 'cancelling the sentinel without the API token',
      request: { path: `/api/transfers/${SENTINEL}/cancel`, auth: 'none' },
      status: 401,
      message: apiTokenNeeded,
    },
  ] satisfies Omit<HostileRow, 'category'>[]
).map((row) => ({ ...row, category: 'transfer request' }));

const methodRows: HostileRow[] = (
  [
    ['GET', '/api/calls'],
    ['PUT', '/api/calls'],
    ['DELETE', SENTINEL_PATH],
    ['PATCH', SENTINEL_PATH],
    ['GET', SENTINEL_PATH],
    ['OPTIONS', '/api/calls'],
    ['PROPFIND', '/api/calls'],
    ['PUT', '/api/transfers'],
    ['GET', '/api/transfers'],
    ['DELETE', `/api/transfers/${SENTINEL}`],
    ['GET', `/api/transfers/${SENTINEL}/cancel`],
    ['POST', '/healthz'],
    ['DELETE', '/readyz'],
  ] as const
).map(([method, path]) => ({
  category: 'method' as const,
  name: `${method} ${path.replace(SENTINEL, '<sentinel>')}`,
  // PUT/PATCH/DELETE carry a valid notification: a wrong method must not deliver it.
  request: {
    method,
    path,
    ...(method === 'GET' || method === 'OPTIONS' || method === 'PROPFIND' ? {} : { json: callChange() }),
  },
  // Consistently 404: fastify has no per-path 405, and every unknown (method, path) pair is one route it lacks.
  status: 404 as const,
  message: `no route for ${method} ${path}`,
}));

const rows: HostileRow[] = [
  ...bodyRows,
  ...fieldRows,
  ...tokenRows,
  ...pathRows,
  ...transferRows,
  ...transferHttpRows,
  ...methodRows,
];

// ---------------------------------------------------------------------------------------------------
// Servers

let temporal: LocalTemporalEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let keyServer: KeyServer;
let webhook: FastifyInstance;
/** Workflows on this file's task queue in visibility before the table, once the sentinel, canary and fuzz target are in. */
let workflowsBefore: number;

async function createTokens(key: TestSigningKey): Promise<Record<TokenName, string>> {
  const claims = { issuer: ISSUER, audience: BOT_APP_ID, tenantId: TENANT };
  const [impostor, stranger, ecKey] = await Promise.all([
    createSigningKey(key.kid),
    createSigningKey('stranger-key'),
    createSigningKey('ec-key', 'ES256'),
  ]);
  const now = Math.floor(Date.now() / 1000);
  const valid = await forgeToken(key, claims);
  const [header = '', , signature = ''] = valid.split('.');
  const forgedPayload = Buffer.from(
    JSON.stringify({ iss: ISSUER, aud: BOT_APP_ID, tid: TENANT, exp: now + 300, sub: 'admin' }),
  ).toString('base64url');
  const publicPem = await exportSPKI((await importJWK(key.publicJwk, 'RS256')) as CryptoKey);
  return {
    valid,
    expired: await forgeToken(key, { ...claims, expiresIn: -400 }),
    notYetValid: await forgeToken(key, { ...claims, notBefore: 600 }),
    wrongIssuer: await forgeToken(key, { ...claims, issuer: 'https://evil.example' }),
    wrongAudience: await forgeToken(key, { ...claims, audience: 'another-bot' }),
    unknownKid: await forgeToken(key, { ...claims, kid: 'no-such-key' }),
    collidingKid: await forgeToken(impostor, claims),
    otherTenant: await forgeToken(key, { ...claims, tenantId: 'tenant-b' }),
    noTenant: await forgeToken(key, { issuer: ISSUER, audience: BOT_APP_ID }),
    algNone: unsignedToken({ iss: ISSUER, aud: BOT_APP_ID, tid: TENANT, exp: now + 300 }),
    hs256WithPublicKey: await new SignJWT({ tid: TENANT })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(BOT_APP_ID)
      .setExpirationTime(now + 300)
      .sign(new TextEncoder().encode(publicPem)),
    es256: await forgeToken(ecKey, { ...claims, alg: 'ES256' }),
    tampered: `${header}.${forgedPayload}.${signature}`,
    noExp: await new SignJWT({ tid: TENANT })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(BOT_APP_ID)
      .setIssuedAt(now - 60)
      .sign(key.privateKey),
    noKidStranger: await new SignJWT({ tid: TENANT })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setAudience(BOT_APP_ID)
      .setExpirationTime(now + 300)
      .sign(stranger.privateKey),
  };
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

async function workflowsOnQueue(): Promise<number> {
  return (await temporal.client.workflow.count(`TaskQueue = '${taskQueue}'`)).count;
}

/** Starts a recording stand-in transfer for `callId` through the API. */
async function startRecorder(callId: string): Promise<void> {
  const started = await send({
    path: '/api/transfers',
    json: { callId, target: meetingTarget, invitee: testCaller },
  });
  expect(started.status, started.text).toBe(201);
}

/** The good request after each row: a valid notification to the canary, which must be signalled. */
async function goodNotification(): Promise<JsonBody> {
  const answer = await send({
    path: callbackPathFor(CANARY),
    json: withItem(callChange(), { resourceUrl: `/communications/calls/${CANARY_CALL_ID}` }),
  });
  expect(answer.status, answer.text).toBe(202);
  return JSON.parse(answer.text);
}

beforeAll(async () => {
  const key = await createSigningKey('published-key');
  [temporal, keyServer, tokens] = await Promise.all([
    startLocalTemporal(),
    startKeyServer([key.publicJwk]),
    createTokens(key),
  ]);
  const namespace = temporal.namespace ?? 'default';
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
    publicBaseUrl: 'https://bot.handoff.test',
    callbackSecrets: [TEST_CALLBACK_SECRET],
    botAppId: BOT_APP_ID,
    // Incoming calls start transfers here, so a hostile incoming call that got through would show.
    incomingCallPolicy: { defaultTarget: meetingTarget },
    notificationAuth: {
      jwksUrl: keyServer.jwksUrl,
      issuers: [ISSUER],
      audience: BOT_APP_ID,
      allowedTenants: [TENANT],
    },
    apiToken: API_TOKEN,
    logger: { level: 'warn', stream: logStream },
  };
  webhook = buildWebhookServer(deps);
  await webhook.listen({ host: '127.0.0.1', port: 0 });
  webhookPort = (webhook.server.address() as AddressInfo).port;
  api = buildApiServer(deps);
  await api.listen({ host: '127.0.0.1', port: 0 });
  apiPort = (api.server.address() as AddressInfo).port;
  webhookUrl = `http://127.0.0.1:${webhookPort}`;
  await Promise.all([SENTINEL_CALL_ID, CANARY_CALL_ID, FUZZ_CALL_ID].map(startRecorder));
  workflowsBefore = await eventually('the three transfers in visibility', async () => {
    const count = await workflowsOnQueue();
    return count === 3 ? count : undefined;
  });
});

afterAll(async () => {
  await webhook?.close();
  await api?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await workerRun;
  await keyServer?.stop();
  await temporal?.teardown();
});

// ---------------------------------------------------------------------------------------------------
// Tests

/** Stack frames and source locations. "at " alone would flag messages such as "at most 200 characters". */
const leaks: RegExp[] = [
  /\n\s+at /,
  /\bat (?:async )?[\w$.<>[\]]+ \(/,
  /\bat (?:file|node):/,
  /\/src\//,
  /node_modules/,
  /\.(?:ts|js|mjs):\d+/,
  /"stack"/,
];

describe('the rows themselves', () => {
  it('break bodies that are valid without the one thing each row changes', () => {
    for (const body of [
      callChange(),
      operationChange(),
      rosterChange(),
      deltaChange(),
      incomingCallBody(UNSTARTED_CALL_ID),
    ]) {
      expect(parseNotifications(body)).toHaveLength(1);
    }
    expect(parseTransferRequest(transfer()).callId).toBe(UNSTARTED_CALL_ID);
    expect(
      parseTransferRequest(transfer({ target: { kind: 'joinMeetingId', joinMeetingId: '1' } })),
    ).toBeTruthy();
  });

  it('number at least 60, in every category', () => {
    expect(rows.length).toBeGreaterThanOrEqual(60);
    const counts = new Map<Category, number>();
    for (const row of rows) counts.set(row.category, (counts.get(row.category) ?? 0) + 1);
    console.info(
      `[hostile-input] ${rows.length} rows: ${[...counts].map(([category, count]) => `${category} ${count}`).join(', ')}`,
    );
    const categories: Category[] = [
      'body',
      'notification fields',
      'token',
      'workflow id',
      'transfer request',
      'method',
    ];
    for (const category of categories) expect(counts.get(category) ?? 0, category).toBeGreaterThan(0);
  });
});

describe('hostile requests', () => {
  it.each(rows)('$category: $name → $status', async (row) => {
    const logged = logLines.length;
    const answer = await send(row.request);
    const where = `${row.category}: ${row.name} → ${answer.status} ${answer.text.slice(0, 500)}`;
    expect(answer.status, where).toBe(row.status);
    expect(answer.contentType, where).toMatch(/^application\/json/);
    const body: JsonBody = JSON.parse(answer.text);
    expect(Object.keys(body), where).toEqual(['error']);
    expect(body.error, where).toEqual({
      code: expect.stringMatching(/^[a-z_]+$/),
      message: expect.any(String),
      ...(body.error.issues ? { issues: expect.any(Array) } : {}),
    });
    expect(body.error.message, where).toContain(row.message);
    if (row.category === 'token') {
      // What was checked and against what stays in the log.
      for (const secret of [BOT_APP_ID, ISSUER, TENANT]) expect(answer.text, where).not.toContain(secret);
    }
    if (row.logged) {
      const details = logLines.slice(logged).map((line) => String(line.detail ?? ''));
      expect(details.join('\n'), where).toContain(row.logged);
    }
    for (const leak of leaks) expect(answer.text, where).not.toMatch(leak);
    expect(answer.text, where).not.toContain(process.cwd());

    // Nothing happened: no delivery to the sentinel, no transfer for the call no row may start.
    expect(await deliveriesOf(SENTINEL)).toEqual([]);
    expect(await workflowExists(`transfer-${UNSTARTED_CALL_ID}`)).toBe(false);
    // And the server still does its job.
    expect((await goodNotification()).deliveries).toEqual([
      { workflowId: CANARY, callIds: [CANARY_CALL_ID], notifications: 1, outcome: 'signalled' },
    ]);
  });

  it('started no workflow and left the sentinel running and untouched', async () => {
    // A good start after the table: once it shows in visibility, any start before it would too.
    const lastCallId = randomUUID();
    await startRecorder(lastCallId);
    const after = await eventually('the last transfer in visibility', async () => {
      const count = await workflowsOnQueue();
      return count >= workflowsBefore + 1 ? count : undefined;
    });
    expect(after).toBe(workflowsBefore + 1);
    expect(await workflowExists(`transfer-${lastCallId}`)).toBe(true);

    expect((await handle(SENTINEL).describe()).status.name).toBe('RUNNING');
    expect(await deliveriesOf(SENTINEL)).toEqual([]);
    expect(await deliveriesOf(CANARY)).toHaveLength(rows.length);
  });
});

describe('fuzzing POST /api/calls/:workflowId with a valid token', () => {
  /** 202 (signalled to the fuzz target) or 400 in the error shape; never 5xx, nothing internal. */
  async function postsCleanly(raw: string | Buffer): Promise<number> {
    const answer = await send({ path: callbackPathFor(FUZZ), raw });
    const where = `${answer.status} ${answer.text.slice(0, 300)} for ${String(raw).slice(0, 300)}`;
    expect([202, 400], where).toContain(answer.status);
    const body: JsonBody = JSON.parse(answer.text);
    if (answer.status === 202) {
      expect(body.deliveries, where).toMatchObject([{ workflowId: FUZZ, outcome: 'signalled' }]);
    } else {
      expect(body.error, where).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    for (const leak of leaks) expect(answer.text, where).not.toMatch(leak);
    return answer.status;
  }

  type Path = (string | number)[];

  function pathsIn(value: unknown, path: Path = [], out: Path[] = []): Path[] {
    if (path.length > 0) out.push(path);
    if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        pathsIn(child, [...path, Array.isArray(value) ? Number(key) : key], out);
      }
    }
    return out;
  }

  function mutate(body: unknown, path: Path, replacement: { value: unknown } | 'delete'): void {
    let parent = body as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (replacement !== 'delete') parent[last] = replacement.value;
    else if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  }

  it('answers 400 or 202 to any JSON value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        await postsCleanly(JSON.stringify(value));
      }),
      { numRuns: 80 },
    );
  });

  it('answers 400 or 202 to seed notifications with members replaced or deleted', async () => {
    const seeds = seedNotifications();
    const mutation = fc.record({
      at: fc.nat(),
      replacement: fc.oneof(
        fc.constant('delete' as const),
        fc.jsonValue({ maxDepth: 2 }).map((value) => ({ value })),
      ),
    });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(seeds.length - 1),
        fc.array(mutation, { minLength: 0, maxLength: 3 }),
        async (index, mutations) => {
          const body = structuredClone(seeds[index]!.json);
          for (const { at, replacement } of mutations) {
            const paths = pathsIn(body);
            if (paths.length === 0) break;
            mutate(body, paths[at % paths.length]!, replacement);
          }
          const status = await postsCleanly(JSON.stringify(body) ?? 'null');
          // A seed left as it is must be accepted.
          if (mutations.length === 0) {
            expect(status).toBe(202);
            accepted++;
          }
        },
      ),
      { numRuns: 80 },
    );
    // Unmutated seeds are part of the mix, so the 202 path was exercised too.
    expect(accepted).toBeGreaterThan(0);
  });

  it('answers 202 to seed notifications whose ids name Object.prototype members, and leaves Object.prototype alone', async () => {
    const seeds = seedNotifications();
    const before = prototypeSnapshot();
    const uuid = /[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[0-9A-F]{32}/g;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(seeds.length - 1),
        fc.array(fc.constantFrom(...prototypeMemberIds), { minLength: 1, maxLength: 6 }),
        async (index, names) => {
          // Every id of the seed (call, operation, participant, identity) becomes one of the names.
          let next = 0;
          const text = JSON.stringify(seeds[index]!.json).replace(uuid, () => names[next++ % names.length]!);
          expect(await postsCleanly(text)).toBe(202);
          expect(prototypeChanges(before)).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('answers 400 or 202 to random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        await postsCleanly(Buffer.from(bytes));
      }),
      { numRuns: 60 },
    );
  });

  it('still serves after the fuzzing', async () => {
    expect(await get(`${webhookUrl}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });
    expect((await goodNotification()).deliveries).toMatchObject([{ outcome: 'signalled' }]);
  });
});
