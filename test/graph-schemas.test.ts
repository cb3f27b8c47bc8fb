/**
 * What src/graph refuses, and how it says so: parseNotifications names the exact place in the
 * body, the request schemas enforce Graph's documented limits (seeds 001, 003, 004), and no
 * input at all makes parseNotifications throw anything but NotificationParseError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  answerCallRequestSchema,
  createCallRequestSchema,
  e164Schema,
  inviteParticipantsRequestSchema,
  MAX_CLIENT_CONTEXT_LENGTH,
  MAX_INVITEES,
  NotificationParseError,
  parseNotifications,
} from '../src/graph/index.js';
import { seedBody, seedNotifications } from './support/seeds.js';

/** The issues parseNotifications reports for a body it must refuse. */
function issuesOf(body: unknown): NotificationParseError['issues'] {
  try {
    parseNotifications(body);
  } catch (error) {
    if (error instanceof NotificationParseError) return error.issues;
    throw error;
  }
  throw new Error('parseNotifications accepted a body it should refuse');
}

/** A valid call notification (seed 001's "established"), with one member replaced. */
function callNotification(item: Record<string, unknown> = {}, resourceData: Record<string, unknown> = {}) {
  return {
    value: [
      {
        changeType: 'updated',
        resourceUrl: `/communications/calls/${groupCallId}`,
        resourceData: { '@odata.type': '#microsoft.graph.call', state: 'established', ...resourceData },
        ...item,
      },
    ],
  };
}

function rosterNotification(resourceData: unknown[]) {
  return {
    value: [
      {
        changeType: 'updated',
        resourceUrl: `/communications/calls/${groupCallId}/participants`,
        resourceData,
      },
    ],
  };
}

const groupCallId = '90ED37DCD8E34E119DE330A955DDA06F';
const caller = { '@odata.type': '#microsoft.graph.participant', info: { identity: { user: { id: 'u1' } } } };
const callStateList =
  'incoming, establishing, ringing, established, hold, transferring, transferAccepted, redirecting, terminating, terminated, unknownFutureValue';

describe('parseNotifications refuses what is not a Graph notification batch', () => {
  it('accepts the valid baseline used below', () => {
    expect(parseNotifications(callNotification())).toMatchObject([{ kind: 'call', callId: groupCallId }]);
  });

  it.each([
    ['a string', 'not json', 'Invalid input: expected object, received string'],
    ['null', null, 'Invalid input: expected object, received null'],
    ['an array', [callNotification()], 'Invalid input: expected object, received array'],
  ])('a body that is %s', (_name, body, message) => {
    expect(issuesOf(body)).toEqual([{ path: '', message }]);
  });

  it('a batch without `value`', () => {
    expect(issuesOf({ '@odata.type': '#microsoft.graph.commsNotifications' })).toEqual([
      { path: 'value', message: 'Invalid input: expected array, received undefined' },
    ]);
  });

  it('an empty `value`', () => {
    expect(issuesOf({ value: [] })).toEqual([
      { path: 'value', message: 'a notification batch needs at least one notification' },
    ]);
  });

  it('a batch of another @odata.type', () => {
    expect(issuesOf({ ...callNotification(), '@odata.type': '#microsoft.graph.chatMessage' })).toEqual([
      {
        path: '@odata.type',
        message: 'expected @odata.type #microsoft.graph.commsNotifications or #microsoft.graph.notifications',
      },
    ]);
  });

  it('a notification that is not an object', () => {
    expect(issuesOf({ value: [42] })).toEqual([
      { path: 'value[0]', message: 'Invalid input: expected object, received number' },
    ]);
  });

  it('an unknown changeType', () => {
    expect(issuesOf(callNotification({ changeType: 'patched' }))).toEqual([
      { path: 'value[0].changeType', message: 'expected one of created, updated, deleted, got "patched"' },
    ]);
  });

  it('neither `resource` nor `resourceUrl`', () => {
    expect(issuesOf(callNotification({ resourceUrl: undefined }))).toEqual([
      { path: 'value[0].resourceUrl', message: 'resourceUrl (or resource) is required' },
    ]);
  });

  it('a resource that is not a call', () => {
    expect(issuesOf(callNotification({ resourceUrl: '/users/8A34A46B/events' }))).toEqual([
      { path: 'value[0].resourceUrl', message: '"/users/8A34A46B/events" is not a Graph call resource' },
    ]);
    // The old generation's `resource` is named as such.
    expect(issuesOf(callNotification({ resourceUrl: undefined, resource: '/app/meetings/1' }))).toEqual([
      { path: 'value[0].resource', message: '"/app/meetings/1" is not a Graph call resource' },
    ]);
  });

  it('resourceData that is a number', () => {
    expect(issuesOf(callNotification({ resourceData: 7 }))).toEqual([
      { path: 'value[0].resourceData', message: 'resourceData must be an object or an array of objects' },
    ]);
  });

  it('resourceData of an unknown @odata.type', () => {
    expect(issuesOf(callNotification({}, { '@odata.type': '#microsoft.graph.chatMessage' }))).toEqual([
      { path: 'value[0].resourceData.@odata.type', message: 'unknown resource type "chatMessage"' },
    ]);
    expect(issuesOf(rosterNotification([{ '@odata.type': '#microsoft.graph.chatMessage' }]))).toEqual([
      { path: 'value[0].resourceData[0].@odata.type', message: 'unknown resource type "chatMessage"' },
    ]);
  });

  it('a call state Graph does not have', () => {
    expect(issuesOf(callNotification({}, { state: 'flying' }))).toEqual([
      { path: 'value[0].resourceData.state', message: `expected one of ${callStateList}, got "flying"` },
    ]);
  });

  it('an operation status Graph does not have, or none', () => {
    const operation = (resourceData: Record<string, unknown>) => ({
      value: [
        {
          changeType: 'deleted',
          resourceUrl: `/communications/calls/${groupCallId}/operations/0FE0623FD62842EDB4BD8AC290072CC5`,
          resourceData: { '@odata.type': '#microsoft.graph.inviteParticipantsOperation', ...resourceData },
        },
      ],
    });
    expect(issuesOf(operation({ status: 'exploded' }))).toEqual([
      {
        path: 'value[0].resourceData.status',
        message: 'expected one of notStarted, running, completed, failed, got "exploded"',
      },
    ]);
    expect(issuesOf(operation({}))).toEqual([
      { path: 'value[0].resourceData.status', message: 'Invalid input: expected string, received undefined' },
    ]);
  });

  it('participants of the wrong types', () => {
    expect(issuesOf(rosterNotification([{ ...caller, mediaStreams: 'audio' }]))).toEqual([
      {
        path: 'value[0].resourceData[0].mediaStreams',
        message: 'Invalid input: expected array, received string',
      },
    ]);
    expect(issuesOf(rosterNotification([caller, { '@odata.type': '#microsoft.graph.participant' }]))).toEqual(
      [
        {
          path: 'value[0].resourceData[1].info',
          message: 'Invalid input: expected object, received undefined',
        },
      ],
    );
    expect(issuesOf(rosterNotification([{ ...caller, isInLobby: 'no' }]))).toEqual([
      {
        path: 'value[0].resourceData[0].isInLobby',
        message: 'Invalid input: expected boolean, received string',
      },
    ]);
    expect(
      issuesOf(
        rosterNotification([
          {
            '@odata.type': '#microsoft.graph.deltaParticipants',
            participants: [caller],
            sequenceNumber: 'one',
          },
        ]),
      ),
    ).toEqual([
      {
        path: 'value[0].resourceData[0].sequenceNumber',
        message: 'Invalid input: expected number, received string',
      },
    ]);
  });

  it('names every bad notification in a batch, not just the first', () => {
    const good = callNotification().value[0];
    const badChange = callNotification({ changeType: 'x' }).value[0];
    const badState = callNotification({}, { state: 'y' }).value[0];
    const issues = issuesOf({ value: [good, badChange, badState] });
    expect(issues.map((issue) => issue.path)).toEqual(['value[1].changeType', 'value[2].resourceData.state']);
  });

  it('says in its message where and what', () => {
    expect(() => parseNotifications(callNotification({}, { state: 'flying' }))).toThrow(
      /^invalid Graph notification: value\[0\]\.resourceData\.state: expected one of .*got "flying"$/,
    );
    expect(() => parseNotifications('x')).toThrow(/^invalid Graph notification: \(body\): /);
  });
});

describe('request schemas enforce Graph’s limits', () => {
  const invitee = (id: string) => ({ identity: { user: { id } } });

  it(`invites at most ${MAX_INVITEES} participants at once (seeds 001, 003)`, () => {
    const five = Array.from({ length: 5 }, (_, index) => invitee(`user-${index}`));
    expect(inviteParticipantsRequestSchema.safeParse({ participants: five }).success).toBe(true);
    const six = inviteParticipantsRequestSchema.safeParse({ participants: [...five, invitee('user-5')] });
    expect(six.error?.issues).toMatchObject([
      { path: ['participants'], message: 'at most 5 participants can be invited in one request' },
    ]);
    const none = inviteParticipantsRequestSchema.safeParse({ participants: [] });
    expect(none.error?.issues).toMatchObject([
      { path: ['participants'], message: 'participants needs at least one invitee' },
    ]);
  });

  it(`keeps clientContext to ${MAX_CLIENT_CONTEXT_LENGTH} characters (seed 003)`, () => {
    const request = (clientContext: string) => ({ participants: [invitee('u1')], clientContext });
    expect(inviteParticipantsRequestSchema.safeParse(request('c'.repeat(256))).success).toBe(true);
    const tooLong = inviteParticipantsRequestSchema.safeParse(request('c'.repeat(257)));
    expect(tooLong.error?.issues).toMatchObject([
      { path: ['clientContext'], message: 'clientContext is at most 256 characters' },
    ]);
  });

  it.each(['+12345678901', '+442071838750', '+8613800138000', '+123456789012345'])(
    'E.164: %s is a number',
    (phone) => {
      expect(e164Schema.safeParse(phone).success).toBe(true);
    },
  );

  it.each([
    '12345678901', // no plus
    '+02345678901', // leading zero
    '+1 234 567 8901', // spaces
    '+1-234-567-8901', // dashes
    '+1234567890123456', // 16 digits
    '+1', // too short
    'tel:+12345678901',
    '',
  ])('E.164: %j is not', (phone) => {
    expect(e164Schema.safeParse(phone).error?.issues).toMatchObject([
      { message: 'phone id must be an E.164 number such as +12345678901' },
    ]);
  });

  it('refuses a phone invitee or call target that is not E.164, naming where', () => {
    const invite = seedBody('003:522').json as { participants: Record<string, unknown>[] };
    const badPhone = { ...invite, participants: [{ identity: { phone: { id: '555-0100' } } }] };
    expect(inviteParticipantsRequestSchema.safeParse(badPhone).error?.issues).toMatchObject([
      {
        path: ['participants', 0, 'identity', 'phone', 'id'],
        message: 'phone id must be an E.164 number such as +12345678901',
      },
    ]);
    const noNumber = { participants: [{ identity: { phone: { displayName: 'reception' } } }] };
    expect(inviteParticipantsRequestSchema.safeParse(noNumber).error?.issues).toMatchObject([
      { path: ['participants', 0, 'identity', 'phone', 'id'] },
    ]);
    const call = seedBody('004:1795').json as Record<string, unknown>;
    const badTarget = { ...call, targets: [{ identity: { phone: { id: '12345678901' } } }] };
    expect(createCallRequestSchema.safeParse(badTarget).error?.issues).toMatchObject([
      { path: ['targets', 0, 'identity', 'phone', 'id'] },
    ]);
  });

  it('needs a callbackUri (or the old `callback`) to answer or create a call', () => {
    const answer = { ...(seedBody('001:514').json as Record<string, unknown>), callback: undefined };
    expect(answerCallRequestSchema.safeParse(answer).error?.issues).toMatchObject([
      { path: ['callbackUri'], message: 'callbackUri is required' },
    ]);
    const create = { ...(seedBody('004:65').json as Record<string, unknown>), callbackUri: undefined };
    expect(createCallRequestSchema.safeParse(create).error?.issues).toMatchObject([
      { path: ['callbackUri'], message: 'callbackUri is required' },
    ]);
    const notAUrl = { ...(seedBody('004:65').json as Record<string, unknown>), callbackUri: 'bot/callback' };
    expect(createCallRequestSchema.safeParse(notAUrl).error?.issues).toMatchObject([
      { path: ['callbackUri'] },
    ]);
  });
});

describe('parseNotifications on anything', () => {
  /** Returns notifications or throws NotificationParseError; anything else is a bug. */
  function parsesOrRefuses(body: unknown): boolean {
    try {
      return Array.isArray(parseNotifications(body));
    } catch (error) {
      if (error instanceof NotificationParseError) return error.issues.length > 0;
      throw error;
    }
  }

  it('any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), parsesOrRefuses), { numRuns: 500 });
  });

  type Path = (string | number)[];

  /** Every place in a JSON tree, the root excluded. */
  function pathsIn(value: unknown, path: Path = [], out: Path[] = []): Path[] {
    if (path.length > 0) out.push(path);
    if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        pathsIn(child, [...path, Array.isArray(value) ? Number(key) : key], out);
      }
    }
    return out;
  }

  /** Replaces or deletes the member at `path` of a (cloned) body. */
  function mutate(body: unknown, path: Path, replacement: { value: unknown } | 'delete'): void {
    let parent = body as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (replacement !== 'delete') parent[last] = replacement.value;
    else if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  }

  const mutation = fc.record({
    at: fc.nat(),
    replacement: fc.oneof(
      fc.constant('delete' as const),
      fc.jsonValue({ maxDepth: 2 }).map((value) => ({ value })),
    ),
  });

  it('seed notifications with members replaced or deleted', () => {
    const seeds = seedNotifications();
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (index, mutations) => {
          const body = structuredClone(seeds[index]!.json);
          for (const { at, replacement } of mutations) {
            const paths = pathsIn(body);
            if (paths.length === 0) break;
            mutate(body, paths[at % paths.length]!, replacement);
          }
          return parsesOrRefuses(body);
        },
      ),
      { numRuns: 500 },
    );
  });
});
