// Who is in a call now (src/workflows/roster-presence.ts): what the group call's owner (`stay`,
// issue 10.2) hangs up on when the bot is the only one left.
import { describe, expect, it } from 'vitest';
import type { GraphNotification, Participant } from '../src/graph/index.js';
import {
  applyRosterPresence,
  botIsAlone,
  emptyRosterPresence,
  othersPresent,
} from '../src/workflows/roster-presence.js';

const botAppId = 'bot-app';
const groupCallId = 'group-1';
const p2pCallId = 'p2p-1';

const bot: Participant = {
  id: 'p-bot',
  info: { identity: { application: { id: botAppId } } },
} as Participant;
const caller: Participant = { id: 'p-caller', info: { identity: { user: { id: 'caller' } } } } as Participant;
const carol: Participant = { id: 'p-carol', info: { identity: { user: { id: 'carol' } } } } as Participant;

function roster(callId: string, participants: Participant[], sequenceNumber?: number): GraphNotification {
  return {
    kind: 'participants',
    changeType: 'updated',
    callId,
    resourceUrl: `/communications/calls/${callId}/participants`,
    participants,
    ...(sequenceNumber !== undefined ? { sequenceNumber } : {}),
  };
}

const apply = (notifications: GraphNotification[]) =>
  notifications.reduce(
    (presence, notification) =>
      applyRosterPresence(presence, notification, [groupCallId, p2pCallId], botAppId),
    emptyRosterPresence(),
  );

describe('roster presence', () => {
  it('knows nothing before a roster: the bot is not alone yet', () => {
    expect(botIsAlone(emptyRosterPresence())).toBe(false);
  });

  it('full rosters replace what their path said; the invitee reported on the replaced call path counts', () => {
    const joined = apply([roster(groupCallId, [bot]), roster(p2pCallId, [caller])]);
    expect(botIsAlone(joined)).toBe(false);
    expect(othersPresent(joined)).toBe(1);
    const left = apply([roster(groupCallId, [bot]), roster(p2pCallId, [caller]), roster(p2pCallId, [])]);
    expect(botIsAlone(left)).toBe(true);
    expect(botIsAlone(apply([roster(groupCallId, [bot, carol])]))).toBe(false);
  });

  it('deltas add and remove in sequence order; an older delta is ignored', () => {
    const removedCaller = { ...caller, removedState: { reason: 'left' } } as Participant;
    const presence = apply([
      roster(groupCallId, [bot], 1),
      roster(groupCallId, [caller], 2),
      roster(groupCallId, [removedCaller], 3),
      roster(groupCallId, [caller], 2),
    ]);
    expect(botIsAlone(presence)).toBe(true);
    expect(presence.paths).toEqual([{ callId: groupCallId, present: ['p-bot'], sequenceNumber: 3 }]);
  });

  it('ignores other calls and non-roster notifications, and someone in the lobby is not present', () => {
    const lobby = { ...carol, isInLobby: true } as Participant;
    const presence = apply([
      roster('another-call', [carol]),
      { kind: 'other', changeType: 'updated', callId: groupCallId, resourceUrl: '', resourceType: 'x' },
      roster(groupCallId, [bot, lobby]),
    ]);
    expect(botIsAlone(presence)).toBe(true);
  });
});
