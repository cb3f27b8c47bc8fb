/**
 * Every call flow of issue 5 as the Graph simulator plays it, driven by plain HTTP (global fetch)
 * with real MSAL tokens: create call (seed 004: P2P, app-hosted media, PSTN, group call, meetings
 * by organizer / joinMeetingId / channel, guest in the lobby), invites with full and delta rosters
 * (seed 003), invitees that never join, transfer of a call another system answered, and moving a
 * participant between group calls. Every notification must parse with src/graph.
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  callSchema,
  type GraphNotification,
  type IdentitySet,
  type Participant,
  parseNotifications,
  primaryIdentity,
} from '../src/graph/index.js';
import {
  defaultMeetings,
  type GraphSimulator,
  type MeetingRegistration,
  OTHER_APPLICATION_ID,
  REMOVED_FROM_ROSTER,
  seedAttendee,
  startSimulator,
} from '../src/simulator/index.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';
import { seedBody } from './support/seeds.js';

let sim: GraphSimulator;
let bot: BotReceiver;
/** Another system's bot: the callback of a P2P call Handoff did not answer. */
let otherSystem: BotReceiver;
let accessToken: string;

beforeAll(async () => {
  [sim, bot, otherSystem] = await Promise.all([
    startSimulator({ seed: 5 }),
    startBotReceiver(),
    startBotReceiver(),
  ]);
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      authority: sim.msal.authority,
      knownAuthorities: sim.msal.knownAuthorities,
      authorityMetadata: sim.msal.authorityMetadata,
    },
  });
  const result = await msal.acquireTokenByClientCredential({
    scopes: ['https://graph.microsoft.com/.default'],
  });
  accessToken = result?.accessToken as string;
});

afterEach(async () => {
  await sim.whenIdle();
  sim.configure({ flows: { rosterMode: 'full', lobbyAdmitAfterMs: null, decliningIdentityIds: [] } });
});

afterAll(async () => {
  await sim?.stop();
  await Promise.all([bot?.stop(), otherSystem?.stop()]);
});

async function graph(method: string, path: string, body?: unknown) {
  const response = await fetch(`${sim.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${accessToken}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${sim.url}/_simulator${path}`, {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

let callbacks = 0;
/** A callback URL of its own, so that a test reads only the notifications of its calls. */
function callback(receiver: BotReceiver = bot): { url: string; path: string } {
  const path = `/api/calls/flow-${++callbacks}`;
  return { url: receiver.callbackUrl(path), path };
}

/** The notifications posted to one callback, parsed with src/graph (one per POST, as Graph sends them). */
function notificationsAt(path: string, receiver: BotReceiver = bot): GraphNotification[] {
  return receiver.received
    .filter((received) => received.path === path)
    .map((received) => {
      const parsed = parseNotifications(received.body);
      expect(parsed).toHaveLength(1);
      return parsed[0] as GraphNotification;
    });
}

/** The raw resourceData of the notifications posted to one callback. */
function resourceDataAt(path: string, receiver: BotReceiver = bot): unknown[] {
  return receiver.received
    .filter((received) => received.path === path)
    .map((received) => (received.body as { value: Array<{ resourceData: unknown }> }).value[0]?.resourceData);
}

function label(notification: GraphNotification): string {
  switch (notification.kind) {
    case 'call':
      if (notification.changeType === 'deleted') return 'deleted';
      return notification.call.state ?? notification.changeType;
    case 'operation':
      return `operation ${notification.operation.status}`;
    case 'participants':
      return 'roster';
    case 'other':
      return 'other';
  }
}

function rosters(notifications: GraphNotification[]) {
  return notifications.filter(
    (notification): notification is Extract<GraphNotification, { kind: 'participants' }> =>
      notification.kind === 'participants',
  );
}

function idOf(identity: IdentitySet | null | undefined): string | undefined {
  return primaryIdentity(identity)?.id;
}

function idsOf(participants: readonly Participant[]): string[] {
  return participants.map((participant) => idOf(participant.info.identity) ?? '?').sort();
}

/** A seed 004 create-call request, aimed at one of our callbacks. */
function seedRequest(ref: string, callbackUri: string): Record<string, unknown> {
  const request = structuredClone(seedBody(ref).json) as Record<string, unknown>;
  request.callbackUri = callbackUri;
  return request;
}

const user = (id: string, displayName = id): IdentitySet => ({ user: { id, displayName } });
const invitee = (identity: IdentitySet, extra: Record<string, unknown> = {}) => ({
  '@odata.type': '#microsoft.graph.invitationParticipantInfo',
  identity,
  ...extra,
});

/** The organizer meeting of seed 004 example 5, without media (seed 001 step 2). */
function meetingRequest(callbackUri: string, threadId = '19:meeting_flows@thread.v2') {
  return {
    callbackUri,
    requestedModalities: [],
    chatInfo: { threadId, messageId: '0' },
    meetingInfo: {
      '@odata.type': '#microsoft.graph.organizerMeetingInfo',
      organizer: { user: { id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96', displayName: 'Bob' } },
    },
  };
}

/** An established call, created over HTTP, with its notifications delivered. */
async function created(request: unknown): Promise<string> {
  const answer = await graph('POST', '/communications/calls', request);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  await sim.whenIdle();
  return answer.body.id as string;
}

describe('create call: every example of seed 004', () => {
  // Seed 004 example 7 joins 1234567 without a passcode, example 6 with psw123: one meeting
  // cannot be both, so example 7 runs against the same id registered without a passcode.
  const examples = [
    { ref: '004:65', example: 1, flow: 'p2p', labels: ['establishing', 'established'] },
    { ref: '004:297', example: 2, flow: 'p2p', labels: ['establishing', 'established'] },
    { ref: '004:425', example: 3, flow: 'groupCall', labels: ['establishing', 'established', 'roster'] },
    { ref: '004:555', example: 4, flow: 'groupCall', labels: ['establishing', 'established', 'roster'] },
    { ref: '004:690', example: 5, flow: 'meeting', labels: ['establishing', 'established', 'roster'] },
    { ref: '004:1084', example: 6, flow: 'meeting', labels: ['establishing', 'established', 'roster'] },
    { ref: '004:1193', example: 7, flow: 'meeting', labels: ['establishing', 'established', 'roster'] },
    { ref: '004:1304', example: 8, flow: 'meeting', labels: ['establishing', 'established', 'roster'] },
    { ref: '004:1421', example: 9, flow: 'meeting', labels: ['establishing', 'established', 'roster'] },
    { ref: '004:1554', example: 10, flow: 'meeting', labels: ['establishing', 'roster'] },
    { ref: '004:1795', example: 11, flow: 'pstn', labels: ['establishing', 'established'] },
    { ref: '004:1932', example: 12, flow: 'pstn', labels: ['establishing', 'established'] },
  ] as const;

  it('accepts each request as written and notifies in the order the page shows', async () => {
    const seen: string[] = [];
    for (const { ref, example } of examples) {
      if (example === 7) sim.registerMeeting({ joinMeetingId: '1234567' });
      const { url, path } = callback();
      const callId = await created(seedRequest(ref, url));
      seen.push(`${example} ${sim.getCall(callId)?.flow} ${notificationsAt(path).map(label).join(',')}`);
      if (example === 7) sim.registerMeeting(defaultMeetings[0] as MeetingRegistration);
    }
    expect(seen).toEqual(
      examples.map(({ example, flow, labels }) => `${example} ${flow} ${labels.join(',')}`),
    );
  });
});

describe('create call: P2P, app-hosted media and PSTN', () => {
  it('calls a user P2P with service-hosted media: call states only, no roster (example 1)', async () => {
    const { url, path } = callback();
    const answer = await graph('POST', '/communications/calls', seedRequest('004:65', url));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      state: 'establishing',
      direction: 'outgoing',
      source: { identity: { application: { id: sim.botAppId } } },
      targets: [{ identity: { user: { id: '112f7296-5fa4-42ca-bae8-6a692b15d4b8' } } }],
      mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
      myParticipantId: expect.any(String),
    });
    await sim.whenIdle();
    expect(notificationsAt(path).map(label)).toEqual(['establishing', 'established']);
    expect((await graph('GET', `/communications/calls/${answer.body.id}`)).body.state).toBe('established');
  });

  it('keeps an app-hosted media blob untouched in the answer and on GET (example 2)', async () => {
    const blob =
      '{"mpUri":"net.tcp://bot.contoso.com:18732/MediaProcessor","audioRenderContexts":["14778cc4-f54c-43c7-989f-9092e34ef784"],"supportedAudioFormat":"Pcm16K","callId":"1b69b141-7f1a-4033-9c34-202737190a20"}  ';
    const { url } = callback();
    const request = seedRequest('004:297', url);
    request.mediaConfig = { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob };
    const answer = await graph('POST', '/communications/calls', request);
    expect(answer.status).toBe(201);
    expect(answer.body.mediaConfig).toEqual({ '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob });
    const read = await graph('GET', `/communications/calls/${answer.body.id}`);
    expect(read.body.mediaConfig.blob).toBe(blob);
  });

  it('calls a phone number from an application instance, naming both in the call (examples 11, 12)', async () => {
    const { url, path } = callback();
    const answer = await graph('POST', '/communications/calls', seedRequest('004:1795', url));
    expect(answer.status).toBe(201);
    const call = callSchema.parse((await graph('GET', `/communications/calls/${answer.body.id}`)).body);
    expect(call.source?.identity.applicationInstance).toMatchObject({
      id: '3d913abb-aec0-4964-8fa6-3c6850c4f278',
      displayName: 'Calling Bot',
    });
    expect(call.targets?.[0]?.identity.phone?.id).toBe('+12345678901');
    expect(call.state).toBe('established');
    await sim.whenIdle();
    expect(notificationsAt(path).map(label)).toEqual(['establishing', 'established']);
    expect(sim.getCall(answer.body.id)?.flow).toBe('pstn');
  });

  it('ends a P2P call whose target never answers: terminated with resultInfo 408, then deleted', async () => {
    sim.declineInvitees(['112f7296-5fa4-42ca-bae8-6a692b15d4b8']);
    const { url, path } = callback();
    const callId = await created(seedRequest('004:65', url));
    const notifications = notificationsAt(path);
    expect(notifications.map(label)).toEqual(['establishing', 'terminated', 'deleted']);
    expect(notifications[1]).toMatchObject({ kind: 'call', call: { resultInfo: { code: 408 } } });
    expect((await graph('GET', `/communications/calls/${callId}`)).status).toBe(404);
  });
});

describe('create call: group calls and meetings', () => {
  it('creates a group call with up to 5 users, all in the roster, and gives it a chat to invite into', async () => {
    const { url, path } = callback();
    const targets = ['u1', 'u2', 'u3', 'u4', 'u5'].map((id) => invitee(user(id)));
    const answer = await graph('POST', '/communications/calls', {
      callbackUri: url,
      subject: 'five',
      targets,
      requestedModalities: ['audio'],
      mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body.chatInfo.threadId).toMatch(/@thread\.v2$/);
    await sim.whenIdle();
    const [roster] = rosters(notificationsAt(path));
    expect(idsOf(roster?.participants ?? [])).toEqual([sim.botAppId, 'u1', 'u2', 'u3', 'u4', 'u5'].sort());
    expect(roster?.participants.every((participant) => participant.isInLobby === false)).toBe(true);
  });

  it('joins a meeting by organizer + chatInfo: call states carry the meeting, the roster shows the bot', async () => {
    const { url, path } = callback();
    const callId = await created(seedRequest('004:690', url));
    const notifications = notificationsAt(path);
    expect(notifications.map(label)).toEqual(['establishing', 'established', 'roster']);
    for (const notification of notifications.slice(0, 2)) {
      expect(notification).toMatchObject({
        kind: 'call',
        call: {
          chatInfo: { threadId: '19:meeting_Win6Ydo4wsMijFjZS00ZGVjLTk5MGUtOTRjNWY2NmNkYTFm@thread.v2' },
          meetingInfo: { organizer: { user: { displayName: 'Bob' } } },
        },
      });
    }
    const [roster] = rosters(notifications);
    expect(roster?.participants.map((participant) => participant.id)).toEqual([
      sim.getCall(callId)?.myParticipantId,
    ]);
  });

  it('joins by joinMeetingId and passcode, and refuses a wrong or missing passcode and an unknown id', async () => {
    const { url, path } = callback();
    const joinById = (joinMeetingId: string, passcode?: string | null) => ({
      callbackUri: url,
      requestedModalities: ['audio'],
      mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
      meetingInfo: {
        '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
        joinMeetingId,
        ...(passcode !== undefined ? { passcode } : {}),
      },
    });
    const callsBefore = sim.calls().length;
    const wrong = await graph('POST', '/communications/calls', joinById('1234567', 'nope'));
    expect([wrong.status, wrong.body.error.code]).toEqual([403, 'Forbidden']);
    expect(wrong.body.error.message).toMatch(/passcode .* is wrong/);
    const missing = await graph('POST', '/communications/calls', joinById('1234567', null));
    expect([missing.status, missing.body.error.message]).toEqual([
      403,
      expect.stringMatching(/needs a passcode/),
    ]);
    const unknown = await graph('POST', '/communications/calls', joinById('999'));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'itemNotFound']);
    expect(unknown.body.error.message).toMatch(/joinMeetingId 999/);
    expect(sim.calls()).toHaveLength(callsBefore);

    const answer = await graph('POST', '/communications/calls', joinById('1234567', 'psw123'));
    expect(answer.status).toBe(201);
    // Graph finds the meeting's chat (seed 004 example 6's response) and who is in it.
    expect(answer.body.chatInfo.threadId).toBe(
      '19:meeting_Win6Ydo4wsMijFjZS00ZGVjLTk5MGUtOTRjNNkYTFm@thread.v2',
    );
    expect(answer.body.meetingInfo).toMatchObject({ joinMeetingId: '1234567', passcode: 'psw123' });
    await sim.whenIdle();
    const [roster] = rosters(notificationsAt(path));
    expect(idsOf(roster?.participants ?? [])).toEqual([sim.botAppId, idOf(seedAttendee)].sort());

    // A meeting without a passcode (example 7), and one registered over HTTP.
    expect((await graph('POST', '/communications/calls', joinById('7654321'))).status).toBe(201);
    const registered = await admin('POST', '/meetings', { joinMeetingId: '555000', passcode: 'abc' });
    expect(registered.status).toBe(201);
    expect(registered.body.chatInfo.threadId).toContain('555000');
    expect(
      (await admin('GET', '/meetings')).body.value.map((m: { joinMeetingId: string }) => m.joinMeetingId),
    ).toContain('555000');
    expect((await graph('POST', '/communications/calls', joinById('555000', 'abc'))).status).toBe(201);
    expect((await admin('POST', '/meetings', { joinMeetingId: '' })).status).toBe(400);
  });

  it('keeps a guest in the lobby, seeing only itself, until admitted over HTTP (example 10)', async () => {
    const request = seedRequest('004:1554', callback().url);
    const threadId = (request.chatInfo as { threadId: string }).threadId;
    sim.registerMeeting({
      joinMeetingId: '1010',
      chatInfo: { threadId, messageId: '0' },
      participants: [seedAttendee],
    });
    const { url, path } = callback();
    request.callbackUri = url;
    const answer = await graph('POST', '/communications/calls', request);
    expect(answer.status).toBe(201);
    const callId: string = answer.body.id;
    const myParticipantId: string = answer.body.myParticipantId;
    await sim.whenIdle();

    let notifications = notificationsAt(path);
    expect(notifications.map(label)).toEqual(['establishing', 'roster']);
    const [lobby] = rosters(notifications);
    expect(lobby?.participants).toEqual([expect.objectContaining({ id: myParticipantId, isInLobby: true })]);
    expect(lobby?.participants[0]?.info.identity.guest).toMatchObject({
      id: 'd7a3b999-17ac-4bca-9e77-e6a730d2ec2e',
      displayName: 'Guest User',
    });
    expect((await graph('GET', `/communications/calls/${callId}`)).body.state).toBe('establishing');
    const early = await graph('POST', `/communications/calls/${callId}/participants/invite`, {
      participants: [invitee(user('someone'))],
    });
    expect([early.status, early.body.error.message]).toEqual([409, expect.stringMatching(/lobby/)]);

    expect((await admin('POST', `/calls/${callId}/admit`)).status).toBe(204);
    await sim.whenIdle();
    notifications = notificationsAt(path);
    expect(notifications.map(label)).toEqual(['establishing', 'roster', 'established', 'roster']);
    const admitted = rosters(notifications)[1];
    expect(admitted?.participants.find((participant) => participant.id === myParticipantId)?.isInLobby).toBe(
      false,
    );
    expect(idsOf(admitted?.participants ?? [])).toEqual(
      ['d7a3b999-17ac-4bca-9e77-e6a730d2ec2e', idOf(seedAttendee)].sort(),
    );

    const again = await admin('POST', `/calls/${callId}/admit`);
    expect([again.status, again.body.error.message]).toEqual([
      400,
      expect.stringMatching(/nobody waiting in the lobby/),
    ]);
    expect((await admin('POST', '/calls/no-such-call/admit')).status).toBe(404);
  });

  it('admits from the lobby by itself after lobbyAdmitAfterMs, in delta rosters too', async () => {
    sim.configure({ flows: { lobbyAdmitAfterMs: 30, rosterMode: 'delta' } });
    const { url, path } = callback();
    const request = seedRequest('004:1554', url);
    const chatInfo = { threadId: '19:meeting_auto-admit@thread.v2', messageId: '0' };
    request.chatInfo = chatInfo;
    sim.registerMeeting({ joinMeetingId: '2020', chatInfo, participants: [seedAttendee] });
    const answer = await graph('POST', '/communications/calls', request);
    expect(answer.status).toBe(201);
    await expect
      .poll(() => notificationsAt(path).map(label), { timeout: 2_000 })
      .toEqual(['establishing', 'roster', 'established', 'roster']);
    const [inLobby, admitted] = rosters(notificationsAt(path));
    expect([inLobby?.sequenceNumber, admitted?.sequenceNumber]).toEqual([1, 2]);
    // The delta lists the bot, out of the lobby, and the meeting's attendee it can now see.
    expect(admitted?.participants).toHaveLength(2);
    expect(admitted?.participants).toContainEqual(
      expect.objectContaining({ id: answer.body.myParticipantId, isInLobby: false, rosterSequenceNumber: 2 }),
    );
    expect(idsOf(admitted?.participants ?? [])).toEqual(
      ['d7a3b999-17ac-4bca-9e77-e6a730d2ec2e', idOf(seedAttendee)].sort(),
    );
    expect(admitted?.participants.every((participant) => participant.rosterSequenceNumber === 2)).toBe(true);
  });
});

describe('create call: validation as Graph documents it', () => {
  it('refuses each bad request with 400 naming the problem, creating nothing', async () => {
    const { url } = callback();
    const callsBefore = sim.calls().length;
    const media = { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' };
    const six = await graph('POST', '/communications/calls', {
      callbackUri: url,
      targets: ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => invitee(user(id))),
      requestedModalities: ['audio'],
      mediaConfig: media,
    });
    const notE164 = seedRequest('004:1795', url);
    (notE164.targets as Array<{ identity: { phone: { id: string } } }>)[0]!.identity.phone.id = '0123 456';
    const notFromInstance = seedRequest('004:1795', url);
    notFromInstance.source = { identity: { application: { id: sim.botAppId } } };
    const noBlob = seedRequest('004:297', url);
    noBlob.mediaConfig = { '@odata.type': '#microsoft.graph.appHostedMediaConfig' };
    const emptyBlob = seedRequest('004:297', url);
    emptyBlob.mediaConfig = { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: ' ' };

    const answers = await Promise.all(
      [notE164, notFromInstance, noBlob, emptyBlob].map((request) =>
        graph('POST', '/communications/calls', request),
      ),
    );
    expect([six, ...answers].map((answer) => [answer.status, answer.body.error.code])).toEqual(
      Array.from({ length: 5 }, () => [400, 'BadRequest']),
    );
    const messages = [six, ...answers].map((answer) => answer.body.error.message as string);
    expect(messages[0]).toMatch(/targets has 6 entries; a group call supports up to 5/);
    expect(messages[1]).toMatch(/phone\.id.*E\.164/);
    expect(messages[2]).toMatch(/applicationInstance/);
    expect(messages[3]).toMatch(/blob/);
    expect(messages[4]).toMatch(/mediaConfig\.blob is empty/);
    expect(sim.calls()).toHaveLength(callsBefore);
  });
});

describe('invite into a group call (seed 003)', () => {
  it('invites users and a PSTN number: operation completed, then a roster listing everyone', async () => {
    const { url, path } = callback();
    const groupId = await created(meetingRequest(url));
    const before = notificationsAt(path).length;
    const phone: IdentitySet = { phone: { id: '+12345678901' } };
    const answer = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [
        invitee(user('7e1b4346-85a6-4bdd-abe3-d11c5d420efe')),
        invitee(user('1e126418')),
        invitee(phone),
      ],
      clientContext: 'invite-three',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'running', clientContext: 'invite-three' });
    expect(answer.body.participants).toHaveLength(3);
    await sim.whenIdle();

    const [operation, roster, ...rest] = notificationsAt(path).slice(before);
    expect(rest).toEqual([]);
    expect(operation).toMatchObject({
      kind: 'operation',
      changeType: 'deleted',
      operationId: answer.body.id,
      operation: { status: 'completed', clientContext: 'invite-three' },
    });
    expect(roster?.kind).toBe('participants');
    if (roster?.kind !== 'participants') return;
    expect(roster.sequenceNumber).toBeUndefined();
    expect(idsOf(roster.participants)).toEqual(
      [sim.botAppId, '7e1b4346-85a6-4bdd-abe3-d11c5d420efe', '1e126418', '+12345678901'].sort(),
    );
    const pstn = roster.participants.find((participant) => participant.info.identity.phone);
    expect(pstn).toMatchObject({ isInLobby: false, info: { identity: { phone: { id: '+12345678901' } } } });
    const listed = await graph('GET', `/communications/calls/${groupId}/participants`);
    expect(listed.body.value).toHaveLength(4);

    const badPhone = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [invitee({ phone: { id: '12345' } })],
    });
    expect([badPhone.status, badPhone.body.error.message]).toEqual([400, expect.stringMatching(/E\.164/)]);
  });

  it('leaves out parties that never join; an invite none of whose invitees joins fails with resultInfo', async () => {
    sim.declineInvitees(['never-joins', '+15550000000']);
    expect(sim.settings().flows.decliningIdentityIds).toEqual(['never-joins', '+15550000000']);
    const { url, path } = callback();
    const groupId = await created({
      callbackUri: url,
      targets: [invitee(user('never-joins')), invitee(user('target'))],
      requestedModalities: ['audio'],
      mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
    });
    expect(idsOf(rosters(notificationsAt(path))[0]?.participants ?? [])).toEqual(
      [sim.botAppId, 'target'].sort(),
    );
    let before = notificationsAt(path).length;
    const partly = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [invitee(user('NEVER-JOINS')), invitee(user('joins'))],
      clientContext: 'partly',
    });
    expect(partly.status).toBe(200);
    await sim.whenIdle();
    const [completed, roster] = notificationsAt(path).slice(before);
    expect(completed).toMatchObject({ kind: 'operation', operation: { status: 'completed' } });
    expect(idsOf(rosters([roster as GraphNotification])[0]?.participants ?? [])).toEqual(
      [sim.botAppId, 'joins', 'target'].sort(),
    );

    before = notificationsAt(path).length;
    const nobody = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [invitee({ phone: { id: '+15550000000' } })],
      clientContext: 'nobody',
    });
    expect(nobody.status).toBe(200);
    await sim.whenIdle();
    const outcome = notificationsAt(path).slice(before);
    expect(outcome.map(label)).toEqual(['operation failed']);
    expect(outcome[0]).toMatchObject({
      operation: {
        clientContext: 'nobody',
        resultInfo: { code: 408, message: expect.stringContaining('+15550000000') },
      },
    });
    expect(idsOf(sim.getCall(groupId)?.participants ?? [])).toEqual([sim.botAppId, 'joins', 'target'].sort());
  });

  it('sends deltaParticipants with rising sequence numbers when rosterMode is delta', async () => {
    expect((await admin('PUT', '/settings', { flows: { rosterMode: 'delta' } })).body.flows.rosterMode).toBe(
      'delta',
    );
    const { url, path } = callback();
    const groupId = await created({
      callbackUri: url,
      targets: [invitee(user('d1')), invitee(user('d2'))],
      requestedModalities: ['audio'],
      mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
    });
    await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [invitee({ phone: { id: '+441234567890' } })],
    });
    await sim.whenIdle();

    const deltas = rosters(notificationsAt(path));
    expect(deltas.map((delta) => delta.sequenceNumber)).toEqual([1, 2]);
    expect(idsOf(deltas[0]?.participants ?? [])).toEqual([sim.botAppId, 'd1', 'd2'].sort());
    // Only what changed: the PSTN invitee, numbered with the delta.
    expect(deltas[1]?.participants).toEqual([
      expect.objectContaining({
        rosterSequenceNumber: 2,
        info: expect.objectContaining({ identity: { phone: { id: '+441234567890' } } }),
      }),
    ]);
    // On the wire: the seed 004 "Delta roster enabled" shape.
    const raw = resourceDataAt(path).filter(Array.isArray).at(-1) as Array<Record<string, unknown>>;
    expect(raw).toEqual([
      {
        '@odata.type': '#microsoft.graph.deltaParticipants',
        participants: expect.any(Array),
        sequenceNumber: 2,
      },
    ]);
  });
});

describe('transfer into an existing group call (seed 003, example 3)', () => {
  it('replaces a P2P call another system answered: the roster reaches the bot, terminated and deleted that system', async () => {
    const theirs = callback(otherSystem);
    const placed = await admin('POST', '/answered-calls', {
      callbackUri: theirs.url,
      caller: user('caller-1', 'Caller'),
    });
    expect(placed.status).toBe(201);
    const p2pId: string = placed.body.callId;
    expect((await graph('GET', `/communications/calls/${p2pId}`)).body).toMatchObject({
      state: 'established',
      callbackUri: theirs.url,
    });

    const ours = callback();
    const groupId = await created(meetingRequest(ours.url));
    const before = notificationsAt(ours.path).length;
    const answer = await graph('POST', `/communications/calls/${groupId}/participants/invite`, {
      participants: [
        invitee({ user: { id: 'caller-1' } }, { replacesCallId: p2pId }),
        invitee(user('ignored')),
      ],
      clientContext: 'transfer-in',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.participants).toHaveLength(1);
    await sim.whenIdle();

    const mine = notificationsAt(ours.path).slice(before);
    expect(mine.map((notification) => `${label(notification)} ${notification.callId}`)).toEqual([
      `operation completed ${groupId}`,
      `roster ${p2pId}`,
    ]);
    const roster = rosters(mine)[0];
    expect(idsOf(roster?.participants ?? [])).toEqual([sim.botAppId, 'caller-1'].sort());
    // Graph knows the caller's name from the P2P call.
    expect(
      roster?.participants.find((participant) => idOf(participant.info.identity) === 'caller-1')?.info
        .identity.user?.displayName,
    ).toBe('Caller');
    expect(
      notificationsAt(theirs.path, otherSystem).map(
        (notification) => `${label(notification)} ${notification.callId}`,
      ),
    ).toEqual([`terminated ${p2pId}`, `deleted ${p2pId}`]);
    expect((await graph('GET', `/communications/calls/${p2pId}`)).status).toBe(404);
  });
});

describe('move a participant between group calls (seed 003, example 5)', () => {
  async function twoGroupCalls() {
    const source = callback();
    const target = callback();
    const media = { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' };
    const sourceId = await created({
      callbackUri: source.url,
      targets: [invitee(user('mover')), invitee(user('stayer'))],
      requestedModalities: ['audio'],
      mediaConfig: media,
    });
    const targetId = await created(meetingRequest(target.url, '19:meeting_move-target@thread.v2'));
    const listed = await graph('GET', `/communications/calls/${sourceId}/participants`);
    const mover = (listed.body.value as Participant[]).find(
      (participant) => idOf(participant.info.identity) === 'mover',
    );
    return { source, target, sourceId, targetId, moverId: mover?.id as string };
  }

  function moveRequest(moverId: string, sourceId: string) {
    return {
      participants: [
        invitee(
          { user: { id: 'mover', identityProvider: 'AAD' } },
          { replacesCallId: sourceId, participantId: moverId },
        ),
        invitee(user('stayer'), { replacesCallId: sourceId }),
      ],
      clientContext: 'move',
    };
  }

  it('moves only the first participant: out of the source roster, into the target roster', async () => {
    const { source, target, sourceId, targetId, moverId } = await twoGroupCalls();
    const [sourceBefore, targetBefore] = [
      notificationsAt(source.path).length,
      notificationsAt(target.path).length,
    ];
    const answer = await graph(
      'POST',
      `/communications/calls/${targetId}/participants/invite`,
      moveRequest(moverId, sourceId),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.participants).toEqual([
      expect.objectContaining({ participantId: moverId, replacesCallId: sourceId }),
    ]);
    await sim.whenIdle();

    const atTarget = notificationsAt(target.path).slice(targetBefore);
    expect(atTarget.map(label)).toEqual(['operation completed', 'roster']);
    expect(idsOf(rosters(atTarget)[0]?.participants ?? [])).toEqual([sim.botAppId, 'mover'].sort());
    const atSource = notificationsAt(source.path).slice(sourceBefore);
    expect(atSource.map((notification) => `${label(notification)} ${notification.callId}`)).toEqual([
      `roster ${sourceId}`,
    ]);
    expect(idsOf(rosters(atSource)[0]?.participants ?? [])).toEqual([sim.botAppId, 'stayer'].sort());
    expect(idsOf(sim.getCall(sourceId)?.participants ?? [])).toEqual([sim.botAppId, 'stayer'].sort());
  });

  it('reports the move in delta rosters: removedState in the source, added in the target', async () => {
    sim.configure({ flows: { rosterMode: 'delta' } });
    const { source, target, sourceId, targetId, moverId } = await twoGroupCalls();
    await graph(
      'POST',
      `/communications/calls/${targetId}/participants/invite`,
      moveRequest(moverId, sourceId),
    );
    await sim.whenIdle();

    const [created, removed] = rosters(notificationsAt(source.path));
    expect([created?.sequenceNumber, removed?.sequenceNumber]).toEqual([1, 2]);
    expect(removed?.participants).toEqual([
      expect.objectContaining({
        id: moverId,
        rosterSequenceNumber: 2,
        removedState: { reason: REMOVED_FROM_ROSTER },
      }),
    ]);
    const [, added] = rosters(notificationsAt(target.path));
    expect(added?.sequenceNumber).toBe(2);
    expect(added?.participants).toHaveLength(1);
    expect(added?.participants[0]).toMatchObject({ rosterSequenceNumber: 2, isInLobby: false });
    expect(added?.participants[0]?.removedState).toBeUndefined();
    expect(idOf(added?.participants[0]?.info.identity)).toBe('mover');
  });

  it("fails the operation with resultInfo when the source call is another application's", async () => {
    const theirs = callback(otherSystem);
    const placed = await admin('POST', '/group-calls', {
      callbackUri: theirs.url,
      participants: [user('mover')],
    });
    expect(placed.status).toBe(201);
    const { callId: sourceId, participants } = placed.body as {
      callId: string;
      participants: Array<{ id: string }>;
    };
    expect(sim.getCall(sourceId)?.appId).toBe(OTHER_APPLICATION_ID);
    const target = callback();
    const targetId = await created(meetingRequest(target.url));
    const before = notificationsAt(target.path).length;
    const answer = await graph(
      'POST',
      `/communications/calls/${targetId}/participants/invite`,
      moveRequest(participants[0]?.id as string, sourceId),
    );
    expect(answer.status).toBe(200);
    await sim.whenIdle();

    const outcome = notificationsAt(target.path).slice(before);
    expect(outcome.map(label)).toEqual(['operation failed']);
    expect(outcome[0]).toMatchObject({
      operation: { resultInfo: { code: 403, message: expect.stringMatching(/same application/) } },
    });
    expect(sim.getCall(sourceId)?.participants).toHaveLength(2);
    expect(notificationsAt(theirs.path, otherSystem)).toEqual([]);
  });
});

describe('settings and admin routes', () => {
  it('refuses bad flow settings naming each field, with the other knobs, changing nothing', async () => {
    const before = sim.settings();
    expect(() =>
      sim.configure({
        flows: { rosterMode: 'sometimes' as 'full', lobbyAdmitAfterMs: -1 },
        notifications: { dropRate: 2 },
      }),
    ).toThrow(/dropRate[\s\S]*rosterMode[\s\S]*lobbyAdmitAfterMs/);
    const refused = await admin('PUT', '/settings', { flows: { decliningIdentityIds: [''], extra: true } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(
      /decliningIdentityIds[\s\S]*extra|extra[\s\S]*decliningIdentityIds/,
    );
    expect(sim.settings()).toEqual(before);
    await expect(startSimulator({ flows: { rosterMode: 'partial' as 'full' } })).rejects.toThrow(
      /rosterMode/,
    );
  });

  it('posts only notifications that parse with src/graph', () => {
    expect(sim.deliveries.length).toBeGreaterThan(50);
    for (const delivery of sim.deliveries) expect(() => parseNotifications(delivery.body)).not.toThrow();
    for (const received of [...bot.received, ...otherSystem.received]) {
      expect(() => parseNotifications(received.body)).not.toThrow();
    }
  });
});
