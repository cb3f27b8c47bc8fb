import { randomUUID } from 'node:crypto';
import {
  type ChatInfo,
  type CreateCallRequest,
  e164Schema,
  type IdentitySet,
  type InvitationParticipantInfo,
  MAX_INVITEES,
  type MeetingInfo,
  type ParticipantInfo,
} from '../graph/index.js';
import { GraphError } from './errors.js';
import type { MeetingRegistry, RegisteredMeeting } from './meetings.js';
import { participantInfo } from './resources.js';
import type { CallFlow, SimulatedCall } from './state.js';

/**
 * What POST /communications/calls asks for, checked the way Graph documents it (create call
 * page, seed 004): which flow it is, the meeting it joins, and whether the bot waits in a lobby.
 * Throws a GraphError (400, 403, 404) naming the problem; nothing is created then.
 */
export interface CallPlan {
  kind: SimulatedCall['kind'];
  flow: CallFlow;
  source: ParticipantInfo;
  targets: InvitationParticipantInfo[];
  chatInfo?: ChatInfo;
  meetingInfo?: MeetingInfo;
  /** The registered meeting joined, whose participants the roster shows once the bot is in. */
  meeting?: RegisteredMeeting;
  /** A guest joining a meeting waits in the lobby until admitted (example 10). */
  inLobby: boolean;
}

export function planCall(
  request: CreateCallRequest,
  deps: { botIdentity: IdentitySet; meetings: MeetingRegistry },
): CallPlan {
  const targets = request.targets ?? [];
  checkPhoneIdentities(targets, 'targets');
  checkMedia(request);
  const source = request.source ?? participantInfo(deps.botIdentity);
  const meetingInfo = request.meetingInfo;

  if (meetingInfo) {
    if (meetingInfo['@odata.type'] === '#microsoft.graph.joinMeetingIdMeetingInfo') {
      // Examples 6 and 7: Graph finds the meeting (and its chat) by id, checking the passcode.
      const meeting = deps.meetings.join(meetingInfo);
      return {
        kind: 'group',
        flow: 'meeting',
        source,
        targets,
        chatInfo: request.chatInfo ?? meeting.chatInfo,
        meetingInfo,
        meeting,
        inLobby: isGuest(source),
      };
    }
    if (!request.chatInfo) {
      throw new GraphError(
        400,
        'chatInfo is required to join a meeting by its organizer (organizerMeetingInfo), as in the create-call examples.',
      );
    }
    // Examples 5, 8, 9 (a channel meeting is the same request) and 10 (as a guest).
    const meeting = deps.meetings.byThreadId(request.chatInfo.threadId);
    return {
      kind: 'group',
      flow: 'meeting',
      source,
      targets,
      chatInfo: request.chatInfo,
      meetingInfo,
      ...(meeting ? { meeting } : {}),
      inLobby: isGuest(source),
    };
  }

  if (request.chatInfo) {
    throw new GraphError(400, 'chatInfo was given without meetingInfo: joining a meeting needs both.');
  }
  if (targets.length === 0) {
    throw new GraphError(
      400,
      'targets is empty and there is no meetingInfo: a call needs someone to call or a meeting to join.',
    );
  }
  if (targets.length > MAX_INVITEES) {
    throw new GraphError(
      400,
      `targets has ${targets.length} entries; a group call supports up to ${MAX_INVITEES} (create call page, example 3). Create the call with ${MAX_INVITEES} and invite the others.`,
    );
  }
  const callsPhone = targets.some((target) => target.identity.phone != null);
  if (callsPhone && !source.identity.applicationInstance?.id) {
    throw new GraphError(
      400,
      'Calling a phone number needs an application instance with a PSTN number as the source: set source.identity.applicationInstance (create call page, examples 11 and 12).',
    );
  }
  if (targets.length > 1) {
    // Example 3 shows no chatInfo, yet inviting several participants needs one (participant-invite
    // page, example 2): the simulator gives the group call a chat thread of its own.
    return {
      kind: 'group',
      flow: 'groupCall',
      source,
      targets,
      chatInfo: {
        '@odata.type': '#microsoft.graph.chatInfo',
        threadId: `19:simulated-group-call-${randomUUID()}@thread.v2`,
        messageId: '0',
      },
      inLobby: false,
    };
  }
  return { kind: 'p2p', flow: callsPhone ? 'pstn' : 'p2p', source, targets, inLobby: false };
}

function isGuest(source: ParticipantInfo): boolean {
  return source.identity.guest != null;
}

/** App-hosted media needs the bot's serialized media session (example 2); it is kept untouched. */
function checkMedia(request: CreateCallRequest): void {
  const config = request.mediaConfig;
  if (config?.['@odata.type'] === '#microsoft.graph.appHostedMediaConfig' && config.blob.trim() === '') {
    throw new GraphError(
      400,
      'mediaConfig.blob is empty: an appHostedMediaConfig carries the serialized media session configuration of the bot (create call page, example 2).',
    );
  }
}

/** PSTN parties are named by an E.164 number (participant-invite page, seed 003, example 4). */
export function checkPhoneIdentities(parties: readonly InvitationParticipantInfo[], field: string): void {
  parties.forEach((party, index) => {
    const phone = party.identity.phone;
    if (phone == null) return;
    if (!e164Schema.safeParse(phone.id ?? '').success) {
      throw new GraphError(
        400,
        `${field}[${index}].identity.phone.id "${phone.id ?? ''}" must be an E.164 number such as +12345678901.`,
      );
    }
  });
}
