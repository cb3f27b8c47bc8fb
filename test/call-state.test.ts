/**
 * The call-state reducer over the seed pages' own notifications (design.md, "Ordering and
 * duplicates"): the transfer walkthroughs end where the pages say, states never move backwards,
 * duplicates change nothing, unknown calls are kept, ids are case-insensitive, operations match
 * by id or clientContext whichever arrives first, rosters follow the lobby and delta rosters.
 */
import { describe, expect, it } from 'vitest';
import {
  type CallState,
  type CommsOperation,
  commsOperationSchema,
  type GraphNotification,
  parseNotifications,
} from '../src/graph/index.js';
import {
  applyNotification,
  type CallsState,
  emptyCallsState,
  findCall,
  findInRoster,
  findOperation,
  hasEnded,
  hasReached,
  recordCallRead,
  recordOperation,
  reduceNotifications,
} from '../src/workflows/call-state.js';
import { prototypeChanges, prototypeMemberIds, prototypeSnapshot } from './support/hostile-ids.js';
import {
  notificationAt,
  seed001ReplacingSection,
  seed003InviteExamples,
  seedJsonCopy,
  seedSectionNotifications,
  seedSectionOperationResponses,
} from './support/seed-notifications.js';
import { seedNotifications } from './support/seeds.js';

// Ids as the seed pages print them.
const p2pCall = '57DAB8B1894C409AB240BD8BEAE78896'; // seeds 000, 001: the incoming P2P call
const groupCall = '90ED37DCD8E34E119DE330A955DDA06F'; // seeds 000, 001: the group call it moves into
const inviteOperation = '0FE0623FD62842EDB4BD8AC290072CC5';
const caller = '8A34A46B-3D17-4ADC-8DCE-DC4E7D572698'; // the user moved by the transfer
const bot = '1234A46B-3D17-4ADC-8DCE-DC4E7D556789';
const call003 = 'ab6233a5-20b7-4c5e-bea2-ce56c9776429'; // seed 003, examples 1, 3, 4, 5
const groupCall003 = '7531d31f-d10d-44de-802f-c569dbca451c'; // seed 003, example 2
const context003 = 'f2fa86af-3c51-4bc2-8fc0-475452d9764f';
const operation003 = 'eec3812a-fdc3-4fb4-825c-a06c9f35414e';
const lobbyMeeting004 = '2f1a1100-726f-4705-a071-30fb8f6b568f'; // seed 004, example 10 (guest join)
const deltaRosterCall004 = '421f7700-f4ad-4ea9-a3fc-c1d2195675ad'; // seed 004, examples 5 and 10
const botParticipant004 = '05491616-385f-44a8-9974-18cc5f9933c1';
const johnParticipant004 = '0d7664b6-6432-43ed-8d27-d9e7adec188c';

const walkthroughs = [
  {
    name: 'seed 000 (invite participants in an existing P2P call)',
    notifications: () => seedSectionNotifications('000'),
    clientContext: 'd45324c1-fcb5-430a-902c-f20af696537c',
  },
  {
    name: 'seed 001 (replacing an existing peer-to-peer call)',
    notifications: () => seedSectionNotifications('001', seed001ReplacingSection),
    clientContext: 'A904FBD5A31041E881E861877A3DE3CD',
  },
];

/** Everything but the delivery counter: what "changes nothing" compares. */
function withoutCounter(state: CallsState): Omit<CallsState, 'notificationsSeen'> {
  const { notificationsSeen: _, ...rest } = structuredClone(state);
  return rest;
}

/** A seed notification with its JSON changed first: for what Graph may send but the pages do not print. */
function variantOf(ref: string, change: (value: Record<string, unknown>) => void): GraphNotification {
  const body = seedJsonCopy(ref) as { value: Array<Record<string, unknown>> };
  const [notification] = body.value;
  if (!notification) throw new Error(`seed body ${ref} holds no notification`);
  change(notification);
  const parsed = parseNotifications(body);
  if (parsed.length !== 1) throw new Error(`seed body ${ref} holds ${parsed.length} notifications`);
  return parsed[0]!;
}

function resourceData(notification: Record<string, unknown>): Record<string, unknown> {
  return notification.resourceData as Record<string, unknown>;
}

function rosterOf(notification: Record<string, unknown>): Array<Record<string, unknown>> {
  return notification.resourceData as Array<Record<string, unknown>>;
}

function fold(...refs: string[]): CallsState {
  return reduceNotifications(refs.map(notificationAt));
}

describe.each(walkthroughs)('the transfer walkthrough of $name, folded in order', (walkthrough) => {
  const notifications = walkthrough.notifications();
  const state = reduceNotifications(notifications);

  it('holds the nine notifications the page prints', () => {
    expect(notifications.map((notification) => notification.kind)).toEqual([
      'call',
      'call',
      'call',
      'call',
      'call',
      'operation',
      'participants',
      'call',
      'call',
    ]);
    expect(state.notificationsSeen).toBe(notifications.length);
  });

  it('ends with the P2P call deleted, AppInitiated, and the group call established', () => {
    expect(findCall(state, p2pCall)).toMatchObject({
      callId: p2pCall,
      state: 'deleted',
      direction: 'incoming',
      terminationReason: 'AppInitiated',
    });
    expect(hasEnded(findCall(state, p2pCall))).toBe(true);
    expect(findCall(state, groupCall)).toMatchObject({
      callId: groupCall,
      state: 'established',
      direction: 'outgoing',
    });
    expect(hasEnded(findCall(state, groupCall))).toBe(false);
    expect(Object.keys(state.calls)).toHaveLength(2);
  });

  it('has one invite operation, completed, found by operation id and by clientContext', () => {
    expect(state.operations).toEqual([
      {
        callId: groupCall,
        operationId: inviteOperation,
        clientContext: walkthrough.clientContext,
        status: 'completed',
      },
    ]);
    const byId = findOperation(state, { operationId: inviteOperation });
    expect(byId?.status).toBe('completed');
    expect(findOperation(state, { clientContext: walkthrough.clientContext })).toBe(byId);
    expect(findOperation(state, { operationId: inviteOperation.toLowerCase() })).toBe(byId);
  });

  it("holds the caller and the bot in the P2P call's roster, joined", () => {
    const p2p = findCall(state, p2pCall);
    expect(Object.keys(p2p?.roster ?? {})).toHaveLength(2);
    expect(findInRoster(p2p, { user: { id: caller } })).toMatchObject({
      joined: true,
      seenInLobby: false,
      removed: false,
    });
    expect(findInRoster(p2p, { application: { id: bot } })).toMatchObject({ joined: true, removed: false });
    expect(findInRoster(findCall(state, groupCall), { user: { id: caller } })).toBeUndefined();
  });
});

describe('call states never move backwards', () => {
  // Seed 000: 117 establishing, 146 established, 424 terminated, 454 deleted (all the P2P call).
  it('keeps established when establishing arrives after it (seed 004: "may arrive out of order")', () => {
    const state = fold('000:146', '000:117');
    expect(findCall(state, p2pCall)?.state).toBe('established');
    expect(hasReached(findCall(state, p2pCall), 'establishing')).toBe(true);
  });

  it('keeps terminated when established arrives after it', () => {
    const state = fold('000:424', '000:146', '000:117');
    expect(findCall(state, p2pCall)).toMatchObject({
      state: 'terminated',
      terminationReason: 'AppInitiated',
    });
    expect(hasEnded(findCall(state, p2pCall))).toBe(true);
  });

  it('treats deleted as final', () => {
    const state = fold('000:454', '000:424', '000:146', '000:117', '000:22');
    expect(findCall(state, p2pCall)?.state).toBe('deleted');
    // The terminationReason of the late terminated notification is still taken.
    expect(findCall(state, p2pCall)?.terminationReason).toBe('AppInitiated');
  });

  it('reaches the same state whichever way establishing and established arrive', () => {
    expect(withoutCounter(fold('000:117', '000:146'))).toStrictEqual(
      withoutCounter(fold('000:146', '000:117')),
    );
  });

  it('keeps the same one of two states of equal rank whichever came last (established, hold)', () => {
    const onHold = () =>
      variantOf('000:146', (notification) => {
        resourceData(notification).state = 'hold';
      });
    const holdLast = reduceNotifications([notificationAt('000:146'), onHold()]);
    const establishedLast = reduceNotifications([onHold(), notificationAt('000:146')]);
    expect(withoutCounter(holdLast)).toStrictEqual(withoutCounter(establishedLast));
    expect(hasReached(findCall(holdLast, p2pCall), 'established')).toBe(true);
    expect(hasEnded(findCall(holdLast, p2pCall))).toBe(false);
  });

  it('keeps the same terminationReason whichever report came first when two disagree', () => {
    const otherReason = () =>
      variantOf('000:424', (notification) => {
        resourceData(notification).terminationReason = 'Busy';
      });
    const seedFirst = reduceNotifications([notificationAt('000:424'), otherReason()]);
    const otherFirst = reduceNotifications([otherReason(), notificationAt('000:424')]);
    expect(withoutCounter(seedFirst)).toStrictEqual(withoutCounter(otherFirst));
  });
});

describe('duplicates', () => {
  it.each(seedNotifications().map((body) => body.ref))(
    'applying %s twice changes nothing but notificationsSeen',
    (ref) => {
      const once = fold(ref);
      const twice = fold(ref, ref);
      expect(withoutCounter(twice)).toStrictEqual(withoutCounter(once));
      expect(twice.notificationsSeen).toBe(once.notificationsSeen + 1);
    },
  );

  it.each(walkthroughs)(
    'redelivering every notification of $name after the fact changes nothing',
    (walkthrough) => {
      const notifications = walkthrough.notifications();
      const state = reduceNotifications(notifications);
      const before = withoutCounter(state);
      reduceNotifications(notifications, state);
      expect(withoutCounter(state)).toStrictEqual(before);
      expect(state.notificationsSeen).toBe(2 * notifications.length);
    },
  );
});

describe('calls the workflow has not been told about yet', () => {
  it('keeps a roster for a call no state notification named yet', () => {
    const state = fold('000:351');
    const p2p = findCall(state, p2pCall);
    expect(p2p).toBeDefined();
    expect(p2p?.state).toBeUndefined();
    expect(hasReached(p2p, 'incoming')).toBe(false);
    expect(findInRoster(p2p, { user: { id: caller } })?.joined).toBe(true);
  });

  it('keeps a call whose first notification is established (seed 004 prints no earlier one)', () => {
    const state = fold('004:202');
    expect(findCall(state, '2e1a0b00-b3c5-4b0f-99b3-c133bc1e6116')?.state).toBe('established');
  });

  it('keeps the operation of a call it has not seen, under that call', () => {
    const state = fold('003:263');
    expect(state.operations).toEqual([
      { callId: groupCall003, clientContext: context003, status: 'completed' },
    ]);
  });

  it("ignores the notifications Handoff has no use for but still counts them (seed 004's content sharing)", () => {
    const state = fold('004:227', '004:248', '004:269');
    expect(state.notificationsSeen).toBe(3);
    expect(state.operations).toEqual([]);
  });
});

describe('ids are case-insensitive', () => {
  const lowerCaseEstablishing = () =>
    variantOf('000:117', (notification) => {
      notification.resource = String(notification.resource).toLowerCase();
    });

  it('folds an upper-case and a lower-case spelling of one call into one record', () => {
    const state = reduceNotifications([lowerCaseEstablishing(), notificationAt('000:146')]);
    expect(Object.keys(state.calls)).toHaveLength(1);
    expect(findCall(state, p2pCall)?.state).toBe('established');
    expect(findCall(state, p2pCall.toLowerCase())).toBe(findCall(state, p2pCall));
  });

  it('spells the call id the same whichever spelling arrived first', () => {
    const lowerFirst = reduceNotifications([lowerCaseEstablishing(), notificationAt('000:146')]);
    const upperFirst = reduceNotifications([notificationAt('000:146'), lowerCaseEstablishing()]);
    expect(withoutCounter(lowerFirst)).toStrictEqual(withoutCounter(upperFirst));
  });

  it('finds operations and roster entries by any spelling', () => {
    const state = fold('000:321', '000:351');
    expect(findOperation(state, { operationId: inviteOperation.toLowerCase() })?.status).toBe('completed');
    const p2p = findCall(state, p2pCall.toLowerCase());
    expect(findInRoster(p2p, { user: { id: caller.toLowerCase() } })?.joined).toBe(true);
  });
});

describe('operations', () => {
  const failedInvite = () =>
    variantOf('000:321', (notification) => {
      resourceData(notification).status = 'failed';
      resourceData(notification).resultInfo = { code: 500, subcode: 0, message: 'invite failed' };
    });

  it('lets the first terminal status win: completed then failed stays completed', () => {
    const state = reduceNotifications([notificationAt('000:321'), failedInvite()]);
    expect(state.operations).toHaveLength(1);
    expect(findOperation(state, { operationId: inviteOperation })).toMatchObject({ status: 'completed' });
    expect(findOperation(state, { operationId: inviteOperation })?.resultInfo).toBeUndefined();
  });

  it('lets the first terminal status win: failed then completed stays failed, with its resultInfo', () => {
    const state = reduceNotifications([failedInvite(), notificationAt('000:321')]);
    expect(findOperation(state, { operationId: inviteOperation })).toMatchObject({
      status: 'failed',
      resultInfo: { code: 500, message: 'invite failed' },
    });
  });

  it('moves a running invite recorded from the HTTP response to completed on the notification', () => {
    const [response] = seedSectionOperationResponses('003', seed003InviteExamples[1]);
    const state = emptyCallsState();
    recordOperation(state, call003, response!);
    expect(findOperation(state, { operationId: operation003 })?.status).toBe('running');
    applyNotification(state, notificationAt('003:108'));
    expect(state.operations).toEqual([
      { callId: call003, operationId: operation003, clientContext: context003, status: 'completed' },
    ]);
  });

  it('never moves a completed operation back to running when the HTTP response is recorded late', () => {
    const state = fold('000:321');
    recordOperation(state, groupCall, {
      id: inviteOperation,
      status: 'running',
      clientContext: 'd45324c1-fcb5-430a-902c-f20af696537c',
    });
    expect(state.operations).toEqual([
      {
        callId: groupCall,
        operationId: inviteOperation,
        clientContext: 'd45324c1-fcb5-430a-902c-f20af696537c',
        status: 'completed',
      },
    ]);
  });

  // Seed 003, example 2: the completed notification says `id: null` on `/operations/participants`.
  const example2Response = () => seedSectionOperationResponses('003', seed003InviteExamples[2])[0]!;

  it('matches a notification without operation id to the operation recorded with its clientContext', () => {
    const state = emptyCallsState();
    recordOperation(state, groupCall003, example2Response());
    applyNotification(state, notificationAt('003:263'));
    expect(state.operations).toEqual([
      { callId: groupCall003, operationId: operation003, clientContext: context003, status: 'completed' },
    ]);
    expect(findOperation(state, { operationId: operation003 })?.status).toBe('completed');
    expect(findOperation(state, { clientContext: context003 })?.status).toBe('completed');
  });

  it('merges a notification without id that arrives before the response into one record', () => {
    const state = fold('003:263');
    recordOperation(state, groupCall003, example2Response());
    expect(state.operations).toEqual([
      { callId: groupCall003, operationId: operation003, clientContext: context003, status: 'completed' },
    ]);
    expect(findOperation(state, { operationId: operation003 })).toBe(
      findOperation(state, { clientContext: context003 }),
    );
  });

  it('merges a notification that arrives before the response into one record when the response has no id', () => {
    // The workflow records what the invite returned; a 202 without body gives no id (seed 002).
    const state = fold('000:321');
    const response: CommsOperation = {
      id: null,
      status: 'running',
      clientContext: 'd45324c1-fcb5-430a-902c-f20af696537c',
    };
    recordOperation(state, groupCall, response);
    expect(state.operations).toHaveLength(1);
    expect(state.operations[0]).toMatchObject({ operationId: inviteOperation, status: 'completed' });
  });

  it('merges the response and the notification into one record whichever comes first', () => {
    const responseFirst = emptyCallsState();
    recordOperation(responseFirst, groupCall003, example2Response());
    applyNotification(responseFirst, notificationAt('003:263'));
    const notificationFirst = fold('003:263');
    recordOperation(notificationFirst, groupCall003, example2Response());
    expect(withoutCounter(notificationFirst)).toStrictEqual(withoutCounter(responseFirst));
  });

  it('keeps two operations with different ids apart though they share a clientContext (seed 003 reuses one)', () => {
    // Examples 1 and 3 invite into the same call with the same clientContext.
    const state = fold('003:108', '003:434');
    expect(state.operations.map((operation) => operation.operationId).sort()).toEqual([
      '278405a3-f568-4b3e-b684-009193463064',
      operation003,
    ]);
    expect(findOperation(state, { operationId: '278405a3-f568-4b3e-b684-009193463064' })?.status).toBe(
      'completed',
    );
  });

  it('keeps operations of different calls apart though they share a clientContext', () => {
    const state = fold('003:108', '003:263');
    expect(state.operations).toHaveLength(2);
    expect(findOperation(state, { operationId: operation003 })?.callId).toBe(call003);
  });

  it('reads a response status of any case (`Running` in seed 003)', () => {
    expect(commsOperationSchema.parse({ status: 'Running' }).status).toBe('running');
  });

  it('keeps the resultInfo of the status it holds, whichever report carried it', () => {
    const withResult = () =>
      variantOf('000:321', (notification) => {
        resourceData(notification).resultInfo = { code: 200, subcode: 0, message: 'ok' };
      });
    const bare = notificationAt('000:321');
    const resultFirst = reduceNotifications([withResult(), bare]);
    const resultLast = reduceNotifications([bare, withResult()]);
    expect(withoutCounter(resultLast)).toStrictEqual(withoutCounter(resultFirst));
    expect(resultLast.operations[0]?.resultInfo).toMatchObject({ code: 200, message: 'ok' });
    // A running report's resultInfo does not describe the completed operation.
    const state = emptyCallsState();
    recordOperation(state, groupCall, {
      id: inviteOperation,
      status: 'running',
      resultInfo: { code: 100, message: 'ringing' },
    });
    applyNotification(state, bare);
    expect(state.operations).toEqual([
      {
        callId: groupCall,
        operationId: inviteOperation,
        clientContext: 'd45324c1-fcb5-430a-902c-f20af696537c',
        status: 'completed',
      },
    ]);
  });

  it('ignores an operation report with neither id nor clientContext: nothing could find it', () => {
    const state = emptyCallsState();
    recordOperation(state, groupCall, { id: null, status: 'running' });
    recordOperation(state, groupCall, { id: null, status: 'running' });
    expect(state.operations).toEqual([]);
  });

  it('finds an operation within one call when asked to', () => {
    const state = fold('003:108', '003:263');
    expect(
      findOperation(state, { clientContext: context003, callId: groupCall003.toUpperCase() })?.callId,
    ).toBe(groupCall003);
    expect(findOperation(state, { clientContext: context003, callId: call003 })?.operationId).toBe(
      operation003,
    );
    expect(findOperation(state, { operationId: operation003, callId: groupCall003 })).toBeUndefined();
  });

  it('keeps a report without id that several operations of its call could own on its own, once', () => {
    // Examples 1 and 3 of seed 003 share a clientContext in one call; example 2's notification,
    // moved to that call, cannot say which of them it is about.
    const ambiguous = () =>
      variantOf('003:263', (notification) => {
        notification.resourceUrl = String(notification.resourceUrl).replace(groupCall003, call003);
        notification.resource = notification.resourceUrl;
      });
    const state = reduceNotifications([
      notificationAt('003:108'),
      notificationAt('003:434'),
      ambiguous(),
      ambiguous(),
    ]);
    expect(state.operations).toHaveLength(3);
    expect(state.operations.filter((operation) => operation.operationId === undefined)).toHaveLength(1);
  });
});

describe('rosters', () => {
  // Seed 004, example 10: a guest joining a channel meeting waits in the lobby.
  const admitted = () =>
    variantOf('004:1692', (notification) => {
      for (const participant of rosterOf(notification)) participant.isInLobby = false;
    });
  const guest = { guest: { id: 'd7a3b999-17ac-4bca-9e77-e6a730d2ec2e' } };

  it('marks a participant in the lobby as seen there, not joined', () => {
    const state = fold('004:1692');
    const entry = findInRoster(findCall(state, lobbyMeeting004), guest);
    expect(entry).toMatchObject({
      participantId: botParticipant004,
      seenInLobby: true,
      joined: false,
      removed: false,
    });
  });

  it('marks the participant joined once admitted, and remembers the lobby', () => {
    const state = reduceNotifications([notificationAt('004:1692'), admitted()]);
    const entry = findInRoster(findCall(state, lobbyMeeting004), guest);
    expect(entry).toMatchObject({ seenInLobby: true, joined: true });
  });

  it('reaches the same roster when the admission overtakes the lobby notification', () => {
    const inOrder = reduceNotifications([notificationAt('004:1692'), admitted()]);
    const reordered = reduceNotifications([admitted(), notificationAt('004:1692')]);
    expect(withoutCounter(reordered)).toStrictEqual(withoutCounter(inOrder));
  });

  it('applies delta rosters: sequence numbers, removedState, lobby', () => {
    // Seed 004 example 5 (sequence 1: John joined, the bot removed), example 10 (sequence 2: in the lobby).
    const state = fold('004:979', '004:1732');
    const call = findCall(state, deltaRosterCall004);
    expect(call?.rosterSequenceNumber).toBe(2);
    expect(call?.roster[johnParticipant004]).toMatchObject({
      participantId: johnParticipant004,
      joined: true,
      removed: false,
    });
    expect(call?.roster[botParticipant004]).toMatchObject({
      participantId: botParticipant004,
      removed: true,
      seenInLobby: true,
    });
  });

  it('reaches the same delta roster when sequence 2 arrives before sequence 1', () => {
    const inOrder = fold('004:979', '004:1732');
    const reordered = fold('004:1732', '004:979');
    expect(withoutCounter(reordered)).toStrictEqual(withoutCounter(inOrder));
    // The identity reported with the higher sequence number is the one kept (the pages give one
    // participant id two identities).
    expect(reordered.calls[deltaRosterCall004]?.roster[botParticipant004]?.identity.guest?.id).toBe(
      guest.guest.id,
    );
  });

  it('finds an invitee the roster reports as another kind of identity, by id in any case (seed 003)', () => {
    // Example 1 invites user 278405a3-…; the roster reports an application with that id.
    const example1 = reduceNotifications(seedSectionNotifications('003', seed003InviteExamples[1]));
    const invitee = { user: { id: '278405A3-F568-4B3E-B684-009193463064' } };
    expect(findInRoster(findCall(example1, call003), invitee)?.joined).toBe(true);
    // Example 2 invites two users; the roster reports one as an application (`id: null` on both).
    const example2 = reduceNotifications(seedSectionNotifications('003', seed003InviteExamples[2]));
    const roster = findCall(example2, groupCall003);
    expect(findInRoster(roster, { user: { id: '7e1b4346-85a6-4bdd-abe3-d11c5d420efe' } })?.joined).toBe(true);
    expect(findInRoster(roster, { user: { id: '1E126418-44A0-4A94-A6F8-0EFE1AD71ACB' } })?.joined).toBe(true);
    expect(findInRoster(roster, { user: { id: caller } })).toBeUndefined();
  });

  it('prefers the joined entry of a party reported both with and without participant id', () => {
    const admittedWithoutId = () =>
      variantOf('004:1692', (notification) => {
        for (const participant of rosterOf(notification)) {
          participant.isInLobby = false;
          participant.id = null;
        }
      });
    for (const order of [
      [notificationAt('004:1692'), admittedWithoutId()],
      [admittedWithoutId(), notificationAt('004:1692')],
    ]) {
      const call = findCall(reduceNotifications(order), lobbyMeeting004);
      expect(Object.keys(call?.roster ?? {})).toHaveLength(2);
      expect(findInRoster(call, guest)).toMatchObject({ joined: true, key: guest.guest.id });
    }
  });

  it('finds nobody for an identity without id or a call it does not know', () => {
    const state = fold('000:351');
    expect(findInRoster(findCall(state, p2pCall), { user: { displayName: 'Test User' } })).toBeUndefined();
    expect(findInRoster(undefined, { user: { id: caller } })).toBeUndefined();
  });
});

describe('recordCallRead (reconciling after a timeout)', () => {
  it('marks a call Graph no longer has (404) deleted', () => {
    const state = fold('000:146');
    recordCallRead(state, p2pCall, { gone: true });
    expect(findCall(state, p2pCall)?.state).toBe('deleted');
    expect(hasEnded(findCall(state, p2pCall))).toBe(true);
  });

  it.each<[string[], CallState, string]>([
    [['000:146'], 'establishing', 'established'],
    [['000:424'], 'established', 'terminated'],
    [['000:454'], 'terminated', 'deleted'],
  ])('never moves a call backwards: after %j a read saying %s leaves %s', (refs, read, expected) => {
    const state = fold(...refs);
    recordCallRead(state, p2pCall, { gone: false, state: read });
    expect(findCall(state, p2pCall)?.state).toBe(expected);
  });

  it('moves a call forwards and takes its terminationReason when no notification came', () => {
    const state = fold('000:146');
    recordCallRead(state, p2pCall, { gone: false, state: 'terminated', terminationReason: 'AppInitiated' });
    expect(findCall(state, p2pCall)).toMatchObject({
      state: 'terminated',
      terminationReason: 'AppInitiated',
    });
  });

  it('keeps a call the workflow only read', () => {
    const state = recordCallRead(emptyCallsState(), groupCall, { gone: false, state: 'established' });
    expect(findCall(state, groupCall)).toMatchObject({ callId: groupCall, state: 'established' });
    expect(state.notificationsSeen).toBe(0);
  });
});

/**
 * Ids are chosen by whoever posts a notification. Names of Object.prototype members must be
 * ordinary ids: `constructor` as a call id used to find Object's constructor and wedge the
 * workflow, `__proto__` as a participant id wrote onto the prototype every workflow on the
 * worker shares (issue 9, item 4).
 */
describe('ids that name Object.prototype members', () => {
  const hostileIds = prototypeMemberIds;

  function callNotification(callId: string, state: string): GraphNotification {
    return variantOf('000:117', (notification) => {
      notification.resource = `/app/calls/${callId}`;
      resourceData(notification)['@odata.id'] = `/app/calls/${callId}`;
      resourceData(notification).state = state;
    });
  }

  function rosterNotification(callId: string, participantId: string): GraphNotification {
    return variantOf('000:351', (notification) => {
      notification.resource = `/app/calls/${callId}/participants`;
      for (const participant of rosterOf(notification)) {
        participant.id = participantId;
        (participant.info as { identity: Record<string, { id: string }> }).identity = {
          user: { id: participantId },
        };
      }
    });
  }

  function operationNotification(callId: string, operationId: string, clientContext: string) {
    return variantOf('000:321', (notification) => {
      notification.resource = `/app/calls/${callId}/operations/${operationId}`;
      Object.assign(resourceData(notification), {
        '@odata.id': `/app/calls/${callId}/operations/${operationId}`,
        clientContext,
      });
    });
  }

  const pristinePrototype = prototypeSnapshot();

  function prototypeIsUntouched(): void {
    expect(prototypeChanges(pristinePrototype)).toEqual([]);
  }

  it.each(hostileIds)('tracks a call with id %s like any other and leaves Object.prototype alone', (id) => {
    const state = reduceNotifications([
      callNotification(id, 'establishing'),
      callNotification(id, 'established'),
      rosterNotification(id, id),
      operationNotification(id, id, id),
    ]);
    expect(findCall(state, id)).toMatchObject({ callId: id, state: 'established' });
    expect(hasReached(findCall(state, id), 'established')).toBe(true);
    expect(Object.keys(state.calls)).toEqual([id.toLowerCase()]);
    const roster = Object.values(findCall(state, id)?.roster ?? {});
    expect(roster).toHaveLength(1);
    expect(roster[0]).toMatchObject({ key: id.toLowerCase(), participantId: id, joined: true });
    expect(findInRoster(findCall(state, id), { user: { id } })?.participantId).toBe(id);
    expect(findOperation(state, { callId: id, operationId: id })).toMatchObject({
      callId: id,
      operationId: id,
      clientContext: id,
      status: 'completed',
    });
    expect(findOperation(state, { callId: id, clientContext: id })?.operationId).toBe(id);
    prototypeIsUntouched();
  });

  it.each(hostileIds)('knows no call %s before one is reported', (id) => {
    const state = reduceNotifications([callNotification(p2pCall, 'established')]);
    expect(findCall(state, id)).toBeUndefined();
    expect(hasEnded(findCall(state, id))).toBe(false);
    expect(findInRoster(findCall(state, p2pCall), { user: { id } })).toBeUndefined();
    const read = recordCallRead(emptyCallsState(), id, { gone: true });
    expect(hasEnded(findCall(read, id))).toBe(true);
    prototypeIsUntouched();
  });

  it.each(hostileIds)(
    'ignores %s as a call state or operation status (a signal from another client is not parsed again)',
    (value) => {
      const state = reduceNotifications([callNotification(p2pCall, 'established')]);
      const unparsed = {
        kind: 'call',
        changeType: 'updated',
        resourceUrl: `/communications/calls/${p2pCall}`,
        callId: p2pCall,
        call: { state: value },
      } as unknown as GraphNotification;
      expect(() => applyNotification(state, unparsed)).not.toThrow();
      expect(findCall(state, p2pCall)?.state).toBe('established');
      recordOperation(state, p2pCall, { id: 'op-1', status: 'running' } as CommsOperation);
      recordOperation(state, p2pCall, { id: 'op-1', status: value } as unknown as CommsOperation);
      expect(findOperation(state, { callId: p2pCall, operationId: 'op-1' })?.status).toBe('running');
      prototypeIsUntouched();
    },
  );

  it('keeps every such id apart, in any order, and answers queries as plain JSON', () => {
    const notifications = hostileIds.flatMap((id) => [
      callNotification(id, 'established'),
      rosterNotification(id, id),
    ]);
    const forwards = reduceNotifications(notifications);
    const backwards = reduceNotifications([...notifications].reverse());
    expect(JSON.parse(JSON.stringify(backwards))).toEqual(JSON.parse(JSON.stringify(forwards)));
    expect(Object.keys(forwards.calls).sort()).toEqual(hostileIds.map((id) => id.toLowerCase()).sort());
    // What a query returns goes through JSON: every call and roster entry must survive it.
    const answered = JSON.parse(JSON.stringify(forwards)) as CallsState;
    expect(Object.keys(answered.calls)).toHaveLength(hostileIds.length);
    for (const id of hostileIds) {
      expect(Object.hasOwn(answered.calls, id.toLowerCase())).toBe(true);
      expect(Object.keys(answered.calls[id.toLowerCase()]!.roster)).toEqual([id.toLowerCase()]);
    }
    prototypeIsUntouched();
  });
});
