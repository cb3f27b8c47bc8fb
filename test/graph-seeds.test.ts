/**
 * Every JSON body in the five Graph seed pages parses with src/graph into the internal shape.
 * Counts and expectations are written out by hand from the pages, so a body the extractor
 * silently skips, or a schema that quietly reads a seed wrong, fails here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSON5 from 'json5';
import { afterAll, describe, expect, it } from 'vitest';
import {
  answerCallRequestSchema,
  type CallState,
  type ChangeType,
  callIdFrom,
  callSchema,
  commsOperationSchema,
  createCallRequestSchema,
  type GraphNotification,
  inviteParticipantsRequestSchema,
  type OperationStatus,
  parseNotifications,
  primaryIdentity,
} from '../src/graph/index.js';
import {
  listSeedBodies,
  loadSeedCorpus,
  type SeedBody,
  type SeedBodyKind,
  seedAnswerRequests,
  seedBody,
  seedCallResponses,
  seedCreateCallRequests,
  seedInviteRequests,
  seedNotifications,
  seedOperationResponses,
} from './support/seeds.js';

// Call and operation ids as the seeds print them.
const p2pCall = '57DAB8B1894C409AB240BD8BEAE78896'; // seeds 000-002: the incoming P2P call
const groupCall = '90ED37DCD8E34E119DE330A955DDA06F'; // seeds 000, 001: the group call it moves into
const inviteOperation = '0FE0623FD62842EDB4BD8AC290072CC5';
const contextD453 = 'd45324c1-fcb5-430a-902c-f20af696537c';
const contextA904 = 'A904FBD5A31041E881E861877A3DE3CD';
const contextF2fa = 'f2fa86af-3c51-4bc2-8fc0-475452d9764f';
const call003 = 'ab6233a5-20b7-4c5e-bea2-ce56c9776429'; // seed 003, examples 1, 4, 5
const groupCall003 = '7531d31f-d10d-44de-802f-c569dbca451c'; // seed 003, example 2
const replacedCall003 = 'a7ebfb2d-871e-419c-87af-27290b22e8db'; // seed 003, example 3
const operationEec3 = 'eec3812a-fdc3-4fb4-825c-a06c9f35414e';
const operation2784 = '278405a3-f568-4b3e-b684-009193463064';
const p2pCall004 = '2e1a0b00-2db4-4022-9570-243709c565ab'; // seed 004, example 1
const p2pCall004Established = '2e1a0b00-b3c5-4b0f-99b3-c133bc1e6116'; // seed 004 prints another id there
const sharingCall004 = '421f4c00-4436-4c3a-9d9a-c4924cf98e67';
const meeting004 = '2f1a1100-b174-40a0-aba7-0b405e01ed92';
const deltaRosterCall004 = '421f7700-f4ad-4ea9-a3fc-c1d2195675ad';
const guestMeeting004 = '2f1a1100-726f-4705-a071-30fb8f6b568f';

type Count = Partial<Record<SeedBodyKind, number>>;

/** Counted by hand from the pages (see the report for the line of each). */
const expectedCounts: Record<string, Count> = {
  '000': { notification: 9, answerRequest: 1, operationResponse: 2, createCallRequest: 1, inviteRequest: 1 },
  '001': {
    notification: 13,
    answerRequest: 1,
    operationResponse: 5,
    createCallRequest: 1,
    callResponse: 1,
    inviteRequest: 4,
  },
  '002': { notification: 2, operationResponse: 1, inviteRequest: 2 },
  '003': { notification: 10, operationResponse: 5, inviteRequest: 5 },
  '004': { notification: 11, createCallRequest: 12, callResponse: 12 },
};

/** Where each request and response body starts, by kind. */
const expectedLines: Record<Exclude<SeedBodyKind, 'notification'>, string[]> = {
  answerRequest: ['000:69', '001:514'],
  createCallRequest: [
    '000:174',
    '001:621',
    '004:65',
    '004:297',
    '004:425',
    '004:555',
    '004:690',
    '004:1084',
    '004:1193',
    '004:1304',
    '004:1421',
    '004:1554',
    '004:1795',
    '004:1932',
  ],
  inviteRequest: [
    '000:277',
    '001:69',
    '001:134',
    '001:283',
    '001:766',
    '002:54',
    '002:104',
    '003:58',
    '003:189',
    '003:387',
    '003:522',
    '003:666',
  ],
  callResponse: [
    '001:660',
    '004:101',
    '004:353',
    '004:485',
    '004:616',
    '004:738',
    '004:1119',
    '004:1228',
    '004:1344',
    '004:1468',
    '004:1614',
    '004:1844',
    '004:1982',
  ],
  operationResponse: [
    '000:95',
    '000:299',
    '001:118',
    '001:160',
    '001:321',
    '001:540',
    '001:789',
    '002:82',
    '003:82',
    '003:222',
    '003:408',
    '003:545',
    '003:692',
  ],
};

type ExpectedNotification =
  | { kind: 'call'; callId: string; changeType: ChangeType; state: CallState | undefined }
  | {
      kind: 'operation';
      callId: string;
      changeType: ChangeType;
      status: OperationStatus;
      clientContext: string;
      operationId: string | undefined;
    }
  | {
      kind: 'participants';
      callId: string;
      changeType: ChangeType;
      participants: number;
      sequenceNumber: number | undefined;
    }
  | { kind: 'other'; callId: string; changeType: ChangeType; resourceType: string };

const call = (callId: string, changeType: ChangeType, state?: CallState): ExpectedNotification => ({
  kind: 'call',
  callId,
  changeType,
  state,
});
const completed = (callId: string, clientContext: string, operationId?: string): ExpectedNotification => ({
  kind: 'operation',
  callId,
  changeType: 'deleted',
  status: 'completed',
  clientContext,
  operationId,
});
const roster = (callId: string, participants: number, sequenceNumber?: number): ExpectedNotification => ({
  kind: 'participants',
  callId,
  changeType: 'updated',
  participants,
  sequenceNumber,
});
const sharing = (changeType: ChangeType): ExpectedNotification => ({
  kind: 'other',
  callId: sharingCall004,
  changeType,
  resourceType: 'contentSharingSession',
});

/** Every notification in the seeds, in page order, as the walkthroughs describe it. */
const expectedNotifications: Record<string, ExpectedNotification> = {
  // seed 000: P2P call answered, group call created, caller invited with replacesCallId.
  '000:22': call(p2pCall, 'created', 'incoming'),
  '000:117': call(p2pCall, 'updated', 'establishing'),
  '000:146': call(p2pCall, 'updated', 'established'),
  '000:223': call(groupCall, 'updated', 'establishing'),
  '000:253': call(groupCall, 'updated', 'established'),
  '000:321': completed(groupCall, contextD453, inviteOperation),
  '000:351': roster(p2pCall, 2),
  '000:424': call(p2pCall, 'updated', 'terminated'),
  '000:454': call(p2pCall, 'deleted'),
  // seed 001: invite one / several into a group call, then the same transfer as seed 000.
  '001:180': completed(p2pCall, contextD453, inviteOperation),
  '001:212': roster(p2pCall, 2),
  '001:341': completed(p2pCall, contextD453, inviteOperation),
  '001:373': roster(p2pCall, 2),
  '001:465': call(p2pCall, 'created', 'incoming'),
  '001:560': call(p2pCall, 'updated', 'establishing'),
  '001:591': call(p2pCall, 'updated', 'established'),
  '001:704': call(groupCall, 'updated', 'establishing'),
  '001:736': call(groupCall, 'updated', 'established'),
  '001:809': completed(groupCall, contextA904, inviteOperation),
  '001:841': roster(p2pCall, 2),
  '001:916': call(p2pCall, 'updated', 'terminated'),
  '001:948': call(p2pCall, 'deleted'),
  // seed 002: the old invite page, notifications POSTed to a bare `/callback`.
  '002:133': completed(p2pCall, contextA904, inviteOperation),
  '002:157': roster(p2pCall, 2),
  // seed 003: the current invite page, examples 1 to 5.
  '003:108': completed(call003, contextF2fa, operationEec3),
  '003:141': roster(call003, 1),
  '003:263': completed(groupCall003, contextF2fa, undefined), // `id: null` on /operations/participants
  '003:309': roster(groupCall003, 2), // a roster on /operations/participants
  '003:434': completed(call003, contextF2fa, operation2784),
  '003:467': roster(replacedCall003, 1),
  '003:577': completed(call003, contextF2fa, operationEec3),
  '003:611': roster(call003, 1),
  '003:723': completed(call003, contextF2fa, operation2784),
  '003:759': roster(call003, 1),
  // seed 004: create call, content sharing, join meeting, delta roster.
  '004:179': call(p2pCall004, 'updated', 'establishing'),
  '004:202': call(p2pCall004Established, 'updated', 'established'),
  '004:227': sharing('created'),
  '004:248': sharing('updated'),
  '004:269': sharing('deleted'),
  '004:815': call(meeting004, 'updated', 'establishing'),
  '004:856': call(meeting004, 'updated', 'established'),
  '004:898': roster(meeting004, 2),
  '004:979': roster(deltaRosterCall004, 2, 1),
  '004:1692': roster(guestMeeting004, 1),
  '004:1732': roster(deltaRosterCall004, 1, 2),
};

/** The one notification a seed body carries (every seed batch has exactly one). */
function onlyNotification(body: SeedBody): GraphNotification {
  const notifications = parseNotifications(body.json);
  expect(notifications, body.ref).toHaveLength(1);
  return notifications[0]!;
}

function notificationOfKind<K extends GraphNotification['kind']>(
  ref: string,
  kind: K,
): Extract<GraphNotification, { kind: K }> {
  const notification = onlyNotification(seedBody(ref));
  if (notification.kind !== kind)
    throw new Error(`${ref}: expected a ${kind} notification, got ${notification.kind}`);
  return notification as Extract<GraphNotification, { kind: K }>;
}

/** A body's JSON as a plain record, to read what the seed itself printed. */
function printed(ref: string): Record<string, unknown> {
  return seedBody(ref).json as Record<string, unknown>;
}

/** Levenshtein distance: how far a fixture strays from the seed text it corrects. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

describe('seed extraction', () => {
  const corpus = loadSeedCorpus();

  it('reads the five seed pages', () => {
    expect(corpus.seeds).toEqual([
      '000_98e43ab290287df5.txt',
      '001_f8da1edd52c6c3d3.txt',
      '002_8b28baa44a5b39bb.txt',
      '003_5b12d826f189a678.txt',
      '004_9adb551ebba62e7d.txt',
    ]);
  });

  it('finds the hand-counted number of bodies per seed and kind', () => {
    const counts: Record<string, Count> = {};
    for (const body of corpus.bodies) {
      const seed = body.ref.split(':')[0]!;
      const count = counts[seed] ?? {};
      count[body.kind] = (count[body.kind] ?? 0) + 1;
      counts[seed] = count;
    }
    expect(counts).toEqual(expectedCounts);
    expect(corpus.bodies).toHaveLength(99);
  });

  it('finds each body at the line it starts on, with the kind its HTTP line gives it', () => {
    expect(seedNotifications().map((body) => body.ref)).toEqual(Object.keys(expectedNotifications));
    expect(seedAnswerRequests().map((body) => body.ref)).toEqual(expectedLines.answerRequest);
    expect(seedCreateCallRequests().map((body) => body.ref)).toEqual(expectedLines.createCallRequest);
    expect(seedInviteRequests().map((body) => body.ref)).toEqual(expectedLines.inviteRequest);
    expect(seedCallResponses().map((body) => body.ref)).toEqual(expectedLines.callResponse);
    expect(seedOperationResponses().map((body) => body.ref)).toEqual(expectedLines.operationResponse);
  });

  it('keeps the raw text, from the opening brace to the closing one', () => {
    for (const body of corpus.bodies) {
      expect(body.raw.startsWith('{'), body.ref).toBe(true);
      expect(body.raw.endsWith('}'), body.ref).toBe(true);
    }
    // Seed 000's answer request as printed, trailing commas included.
    expect(seedBody('000:69').raw).toContain('"resourceId": "1D6DE2D4-CD51-4309-8DAA-70768651088E",\n');
    expect(seedBody('000:69').httpLine).toBe('POST /app/calls/57DAB8B1894C409AB240BD8BEAE78896/answer');
    // Seed 004 prints the delta roster right after the full one, under the same POST.
    expect(seedBody('004:979').httpLineNumber).toBe(895);
    // Seed 001 prints a create-call response in a json block after a headers-only http block.
    expect(seedBody('001:660').httpLine).toBe('HTTP/1.1 201 Created');
  });

  it('reads trailing commas with JSON5 and nothing else with anything but JSON', () => {
    const byMethod = (method: SeedBody['parsedWith']) =>
      corpus.bodies.filter((body) => body.parsedWith === method).map((body) => body.ref);
    expect(byMethod('json5')).toEqual([
      '000:69',
      '000:117',
      '000:174',
      '000:277',
      '002:157',
      '004:101',
      '004:353',
      '004:485',
      '004:616',
      '004:738',
      '004:1119',
      '004:1228',
      '004:1304',
      '004:1344',
      '004:1421',
      '004:1468',
      '004:1554',
      '004:1614',
      '004:1844',
      '004:1982',
    ]);
    expect(byMethod('fixture')).toEqual(['002:104']);
    for (const ref of byMethod('json5')) expect(() => JSON.parse(seedBody(ref).raw), ref).toThrow();
  });

  it('uses a fixture only for an invalid body, and only one character away from the seed', () => {
    const invite = seedBody('002:104');
    expect(() => JSON5.parse(invite.raw)).toThrow(/invalid character '\]'/);
    expect(invite.fixture?.path).toMatch(/test\/fixtures\/seeds\/002_8b28baa44a5b39bb\.L104\.json$/);
    expect(editDistance(invite.raw, invite.fixture!.text.trimEnd())).toBe(1);
    expect(invite.json).toEqual({
      clientContext: contextA904,
      participants: [
        {
          '@odata.type': '#microsoft.graph.invitationParticipantInfo',
          identity: {
            '@odata.type': '#microsoft.graph.identitySet',
            user: { '@odata.type': '#microsoft.graph.identity', id: '8A34A46B-3D17-4ADC-8DCE-DC4E7D572698' },
          },
        },
      ],
    });
  });

  it('skips JSON in HTML comments and the escaped media blob line, and says so', () => {
    const skipped = (reason: string, seed: string) =>
      corpus.skipped.filter((entry) => entry.reason === reason && entry.ref.startsWith(`${seed}:`)).length;
    expect([
      skipped('htmlComment', '000'),
      skipped('htmlComment', '001'),
      skipped('htmlComment', '002'),
    ]).toEqual([9, 17, 4]);
    expect(skipped('htmlComment', '003') + skipped('htmlComment', '004')).toBe(0);
    const blobs = corpus.skipped.filter((entry) => entry.reason === 'escapedMediaBlob');
    expect(blobs.map((entry) => entry.ref)).toEqual(['004:339']);
    expect(blobs[0]?.text.startsWith('{\\"mpUri\\":')).toBe(true);
    expect(listSeedBodies().some((body) => body.ref === '004:339')).toBe(false);
  });

  it('hands out frozen bodies, so no test can change another test’s seed', () => {
    const body = seedBody('000:22').json as { value: unknown[] };
    expect(Object.isFrozen(body)).toBe(true);
    expect(Object.isFrozen(body.value[0])).toBe(true);
  });
});

describe('the extractor fails loudly instead of skipping', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'handoff-seeds-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A folder holding one seed page with the given text, and an empty fixtures folder. */
  function page(name: string, text: string): { seeds: string; fixtures: string } {
    const seeds = join(scratch, name, 'seeds');
    const fixtures = join(scratch, name, 'fixtures');
    mkdirSync(seeds, { recursive: true });
    mkdirSync(fixtures, { recursive: true });
    writeFileSync(join(seeds, '000_page.txt'), text);
    return { seeds, fixtures };
  }

  const brokenNotification = [
    'Notification - established',
    'POST https://bot.contoso.com/api/calls',
    'Content-Type: application/json',
    '{',
    '  "value": [ }',
    '}',
    '',
  ].join('\n');

  it('when the seed folder is missing', () => {
    expect(() => loadSeedCorpus(join(scratch, 'nowhere'), scratch)).toThrow(
      /Graph seed pages not found at .*nowhere\. They live beside the repository \(<repo>\/\.\.\/shared\/seeds/,
    );
  });

  it('when a body is invalid and has no fixture, naming the fixture to write', () => {
    const { seeds, fixtures } = page('broken', brokenNotification);
    expect(() => loadSeedCorpus(seeds, fixtures)).toThrow(
      /seed 000_page\.txt line 4: the body is neither JSON .* nor JSON5 .*000_page\.L4\.json/s,
    );
    writeFileSync(join(fixtures, '000_page.L4.json'), '{ "value": [ {} ] }');
    const corpus = loadSeedCorpus(seeds, fixtures);
    expect(corpus.bodies.map((body) => [body.ref, body.kind, body.parsedWith])).toEqual([
      ['000:4', 'notification', 'fixture'],
    ]);
  });

  it('when a fixture is stale or matches no body', () => {
    const valid = page('stale', brokenNotification.replace('[ }', '[ {} ]'));
    writeFileSync(join(valid.fixtures, '000_page.L4.json'), '{}');
    expect(() => loadSeedCorpus(valid.seeds, valid.fixtures)).toThrow(/is stale: seed 000_page\.txt line 4/);
    const misnamed = page('misnamed', brokenNotification.replace('[ }', '[ {} ]'));
    writeFileSync(join(misnamed.fixtures, '000_page.L5.json'), '{}');
    expect(() => loadSeedCorpus(misnamed.seeds, misnamed.fixtures)).toThrow(/match no invalid seed body/);
  });

  it('when JSON-looking text or a request line is something it does not know', () => {
    const stray = page('stray', 'POST https://bot.contoso.com/api/calls\n{"value": []}\n');
    expect(() => loadSeedCorpus(stray.seeds, stray.fixtures)).toThrow(/line 2: a line that looks like JSON/);
    const unknown = page('unknown', 'POST /communications/calls/1/mute\n\n{\n}\n');
    expect(() => loadSeedCorpus(unknown.seeds, unknown.fixtures)).toThrow(
      /cannot tell what the request line "POST \/communications\/calls\/1\/mute" is/,
    );
  });
});

describe('every seed notification parses into the internal shape', () => {
  it.each(Object.entries(expectedNotifications))('%s', (ref, expected) => {
    const notification = onlyNotification(seedBody(ref));
    expect(notification.kind).toBe(expected.kind);
    expect(notification.callId).toBe(expected.callId);
    expect(notification.changeType).toBe(expected.changeType);
    // Whatever generation sent it, the resource comes out in the current form.
    expect(notification.resourceUrl.startsWith(`/communications/calls/${expected.callId}`)).toBe(true);
    switch (expected.kind) {
      case 'call':
        if (notification.kind !== 'call') break;
        expect(notification.call.state).toBe(expected.state);
        expect(notification.call.id).toBe(expected.callId);
        break;
      case 'operation':
        if (notification.kind !== 'operation') break;
        expect(notification.operation.status).toBe(expected.status);
        expect(notification.operation.clientContext).toBe(expected.clientContext);
        expect(notification.operationId).toBe(expected.operationId);
        break;
      case 'participants':
        if (notification.kind !== 'participants') break;
        expect(notification.participants).toHaveLength(expected.participants);
        expect(notification.sequenceNumber).toBe(expected.sequenceNumber);
        break;
      case 'other':
        if (notification.kind !== 'other') break;
        expect(notification.resourceType).toBe(expected.resourceType);
        break;
    }
  });
});

describe('every seed request and response parses with its schema', () => {
  it.each(seedAnswerRequests().map((body) => [body.ref, body] as const))('answer %s', (_ref, body) => {
    const answer = answerCallRequestSchema.parse(body.json);
    // The walkthroughs' `callback` / `acceptModalities` come out as `callbackUri` / `acceptedModalities`.
    expect(answer).toMatchObject({
      callbackUri: 'https://bot.contoso.com/api/calls',
      acceptedModalities: ['audio', 'video'],
      mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
    });
    expect(answer).not.toHaveProperty('callback');
    expect(answer).not.toHaveProperty('acceptModalities');
  });

  it.each(seedCreateCallRequests().map((body) => [body.ref, body] as const))(
    'create call %s',
    (_ref, body) => {
      const request = createCallRequestSchema.parse(body.json);
      expect(request.callbackUri).toMatch(/^https:\/\/bot\.contoso\.com\//);
      expect(request).not.toHaveProperty('callback');
    },
  );

  it.each(seedInviteRequests().map((body) => [body.ref, body] as const))('invite %s', (_ref, body) => {
    const request = inviteParticipantsRequestSchema.parse(body.json);
    const printedParticipants = (body.json as { participants: unknown[] }).participants;
    expect(request.participants).toHaveLength(printedParticipants.length);
  });

  it.each(seedCallResponses().map((body) => [body.ref, body] as const))('call response %s', (_ref, body) => {
    const response = callSchema.parse(body.json);
    expect([undefined, 'establishing']).toContain(response.state);
    expect(response.id).toMatch(/^[0-9A-Fa-f-]{32,36}$/);
    expect(response.callbackUri).toMatch(/^https:\/\/bot\.contoso\.com\//);
  });

  it.each(seedOperationResponses().map((body) => [body.ref, body] as const))(
    'operation response %s',
    (_ref, body) => {
      // `running` in seed 000, `Running` elsewhere: always `running` inside.
      expect(commsOperationSchema.parse(body.json).status).toBe('running');
    },
  );

  it('normalises the capitalised `Running` the newer pages print', () => {
    const capitalised = seedOperationResponses()
      .filter((body) => (body.json as { status: string }).status === 'Running')
      .map((body) => body.ref);
    expect(capitalised).toEqual([
      '001:540',
      '001:789',
      '002:82',
      '003:82',
      '003:222',
      '003:408',
      '003:545',
      '003:692',
    ]);
  });
});

describe('what the seed walkthroughs say', () => {
  it('seed 000: the incoming call names the caller', () => {
    const incoming = notificationOfKind('000:22', 'call');
    expect(incoming.callId).toBe(p2pCall);
    expect(incoming.call.state).toBe('incoming');
    expect(incoming.call.direction).toBe('incoming');
    expect(primaryIdentity(incoming.call.source?.identity)).toEqual({
      kind: 'user',
      id: '8A34A46B-3D17-4ADC-8DCE-DC4E7D572698',
      displayName: 'Test User',
    });
    expect(incoming.call.requestedModalities).toEqual(['audio', 'video']);
  });

  it('seed 000: the answer request prefetches prompts spelled `url`, read as `uri`', () => {
    const answer = answerCallRequestSchema.parse(seedBody('000:69').json);
    expect(answer.mediaConfig).toEqual({
      '@odata.type': '#microsoft.graph.serviceHostedMediaConfig',
      preFetchMedia: [
        { uri: 'https://cdn.contoso.com/beep.wav', resourceId: '1D6DE2D4-CD51-4309-8DAA-70768651088E' },
        { uri: 'https://cdn.contoso.com/cool.wav', resourceId: '1D6DE2D4-CD51-4309-8DAA-70768651088F' },
      ],
    });
  });

  it.each(['000:174', '001:621'])('%s: the group call is created without media', (ref) => {
    const request = createCallRequestSchema.parse(seedBody(ref).json);
    expect(request.requestedModalities).toEqual([]);
    expect(request.mediaConfig).toBeUndefined();
    expect(request.callbackUri).toBe('https://bot.contoso.com/api/calls');
    expect(request.chatInfo?.threadId).toBe('90ED37DC-D8E3-4E11-9DE3-30A955DDA06F');
    expect(request.meetingInfo).toEqual({
      '@odata.type': '#microsoft.graph.organizerMeetingInfo',
      organizer: {
        user: {
          id: '90ED37DC-D8E3-4E11-9DE3-30A955DDA06F',
          tenantId: '49BFC225-8482-4AB8-94E7-76B48FDB9849',
        },
      },
    });
  });

  it('seed 001: the group call response says `callback`, read as `callbackUri`', () => {
    const response = callSchema.parse(seedBody('001:660').json);
    expect(printed('001:660').callback).toBe('https://bot.contoso.com/api/calls');
    expect(response.callbackUri).toBe('https://bot.contoso.com/api/calls');
    expect(response).not.toHaveProperty('callback');
    expect(response.id).toBe(groupCall);
  });

  it.each([
    ['000:277', `/app/calls/${p2pCall}`],
    ['001:766', `/communications/calls/${p2pCall}`],
  ])('%s: the invite replaces the P2P call, named by its path', (ref, replacesCallId) => {
    const request = inviteParticipantsRequestSchema.parse(seedBody(ref).json);
    expect(request.participants).toHaveLength(1);
    expect(request.participants[0]?.replacesCallId).toBe(replacesCallId);
    expect(callIdFrom(request.participants[0]?.replacesCallId ?? '')).toBe(p2pCall);
  });

  it('seed 003: a PSTN invitee is an E.164 phone identity', () => {
    const request = inviteParticipantsRequestSchema.parse(seedBody('003:522').json);
    expect(primaryIdentity(request.participants[0]?.identity)).toEqual({ kind: 'phone', id: '+12345678901' });
  });

  it('seed 003: moving a participant names it by participantId', () => {
    const request = inviteParticipantsRequestSchema.parse(seedBody('003:666').json);
    expect(request.participants[0]).toMatchObject({
      replacesCallId: replacedCall003,
      participantId: '7d501bf1-5ee4-4605-ba92-0ae4513c611c',
    });
    expect(request.clientContext).toBe(contextF2fa);
  });

  it('seed 004: joining by joinMeetingId keeps the passcode, or its absence', () => {
    expect(createCallRequestSchema.parse(seedBody('004:1084').json).meetingInfo).toEqual({
      '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
      joinMeetingId: '1234567',
      passcode: 'psw123',
    });
    expect(createCallRequestSchema.parse(seedBody('004:1193').json).meetingInfo).toEqual({
      '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
      joinMeetingId: '1234567',
      passcode: null,
    });
    expect(callSchema.parse(seedBody('004:1119').json).meetingInfo).toMatchObject({ passcode: 'psw123' });
  });

  it.each(['004:297', '004:555', '004:1304', '004:1932', '004:353', '004:616', '004:1344', '004:1982'])(
    '%s: the app-hosted media blob passes through untouched',
    (ref) => {
      const body = seedBody(ref);
      const schema = body.kind === 'callResponse' ? callSchema : createCallRequestSchema;
      const printedConfig = printed(ref).mediaConfig as { blob: string };
      expect(schema.parse(body.json).mediaConfig).toMatchObject({
        '@odata.type': '#microsoft.graph.appHostedMediaConfig',
        blob: printedConfig.blob,
      });
    },
  );

  it('seed 004: a real media session blob (the escaped example line) passes through byte for byte', () => {
    const line = loadSeedCorpus().skipped.find((entry) => entry.reason === 'escapedMediaBlob')!.text;
    // The page prints the blob as it appears inside a JSON string: unescape it the same way.
    const blob = JSON.parse(`"${line}"`) as string;
    expect(JSON.parse(blob)).toMatchObject({ mpUri: 'net.tcp://bot.contoso.com:18732/MediaProcessor' });
    const request = structuredClone(seedBody('004:297').json) as Record<string, unknown>;
    request.mediaConfig = { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob };
    const parsed = createCallRequestSchema.parse(request);
    expect(parsed.mediaConfig).toEqual({ '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob });
  });

  it('seed 004: group call, guest and PSTN requests keep their targets and source', () => {
    expect(createCallRequestSchema.parse(seedBody('004:425').json).targets).toHaveLength(2);
    const guest = createCallRequestSchema.parse(seedBody('004:1554').json);
    expect(primaryIdentity(guest.source?.identity)).toMatchObject({
      kind: 'guest',
      displayName: 'Guest User',
    });
    const pstn = createCallRequestSchema.parse(seedBody('004:1795').json);
    expect(primaryIdentity(pstn.targets?.[0]?.identity)).toEqual({ kind: 'phone', id: '+12345678901' });
    expect(primaryIdentity(pstn.source?.identity)?.kind).toBe('applicationInstance');
  });

  it('`/app/calls` and `/communications/calls` name the same call in the same current form', () => {
    const old = notificationOfKind('000:22', 'call'); // `resource: /app/calls/…`
    const current = notificationOfKind('001:465', 'call'); // `resourceUrl: /communications/calls/…`
    expect((printed('000:22').value as { resource: string }[])[0]?.resource).toBe(`/app/calls/${p2pCall}`);
    expect(old.callId).toBe(current.callId);
    expect(old.resourceUrl).toBe(`/communications/calls/${p2pCall}`);
    expect(current.resourceUrl).toBe(old.resourceUrl);
    expect(notificationOfKind('000:321', 'operation').resourceUrl).toBe(
      `/communications/calls/${groupCall}/operations/${inviteOperation}`,
    );
    expect(notificationOfKind('000:351', 'participants').resourceUrl).toBe(
      `/communications/calls/${p2pCall}/participants`,
    );
  });

  it('seed 003: with both `resource` (/app) and `resourceUrl`, the current one wins', () => {
    const roster = notificationOfKind('003:141', 'participants');
    expect(roster.resourceUrl).toBe(`/communications/calls/${call003}/participants`);
  });

  it('seed 002: a numeric `sourceId` becomes a string', () => {
    const roster = notificationOfKind('002:157', 'participants');
    const printedRoster = (
      printed('002:157').value as { resourceData: { mediaStreams: { sourceId: unknown }[] }[] }[]
    )[0];
    expect(printedRoster?.resourceData[0]?.mediaStreams[0]?.sourceId).toBe(1);
    expect(roster.participants.map((participant) => participant.mediaStreams?.[0]?.sourceId)).toEqual([
      '1',
      '2',
    ]);
  });

  it('seed 003 example 2: a roster sent on `/operations/participants` is still a roster', () => {
    const roster = notificationOfKind('003:309', 'participants');
    expect(roster.callId).toBe(groupCall003);
    expect(roster.participants.map((participant) => primaryIdentity(participant.info.identity)?.id)).toEqual([
      '7e1b4346-85a6-4bdd-abe3-d11c5d420efe',
      '1e126418-44a0-4a94-a6f8-0efe1ad71acb',
    ]);
  });

  it('seed 003 example 2: an operation with `id: null` keeps its clientContext and gets no made-up id', () => {
    const operation = notificationOfKind('003:263', 'operation');
    expect(operation.operation.id).toBeNull();
    expect(operation.operation.clientContext).toBe(contextF2fa);
    expect(operation.operation.status).toBe('completed');
    // The path ends in `/operations/participants`: a collection name, not an operation id.
    expect(operation.operationId).toBeUndefined();
    expect(operation.operation.participants).toHaveLength(2);
  });

  it('seed 004: a delta roster carries its sequence number and the removed participant', () => {
    const delta = notificationOfKind('004:979', 'participants');
    expect(delta.sequenceNumber).toBe(1);
    expect(delta.participants.map((participant) => participant.removedState?.reason ?? null)).toEqual([
      null,
      'Removed from roster',
    ]);
    const lobby = notificationOfKind('004:1732', 'participants');
    expect(lobby.sequenceNumber).toBe(2);
    expect(lobby.participants[0]?.isInLobby).toBe(true);
  });

  it('seed 004: content sharing notifications are recognised and set aside', () => {
    const sharingStarted = notificationOfKind('004:227', 'other');
    expect(sharingStarted.resourceUrl).toBe(`/communications/calls/${sharingCall004}/contentsharingsessions`);
  });
});
