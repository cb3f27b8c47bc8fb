import type {
  CallDirection,
  CallState,
  ChatInfo,
  InvitationParticipantInfo,
  MediaConfig,
  MeetingInfo,
  Modality,
  OperationStatus,
  Participant,
  ParticipantInfo,
  ResultInfo,
} from '../graph/index.js';
import { normaliseGraphId } from '../graph/index.js';

/**
 * Which create-call / scenario flow made the call (create call page, seed 004):
 * - `incoming`: someone called the bot (placeIncomingCall) or another system answered (placeAnsweredCall);
 * - `p2p`: the bot called one user or application (examples 1, 2);
 * - `pstn`: the bot called a phone number from an application instance (examples 11, 12);
 * - `groupCall`: the bot called 2..5 targets (examples 3, 4), or placeGroupCall;
 * - `meeting`: the bot joined a meeting by organizer + chatInfo, by joinMeetingId, a channel
 *   meeting or as a guest (examples 5-10).
 */
export type CallFlow = 'incoming' | 'p2p' | 'pstn' | 'groupCall' | 'meeting';

/**
 * A call as the simulator holds it. `kind` says whether participants can be invited: only into
 * a group call (one created with chatInfo/meetingInfo or several targets), never into a P2P call.
 */
export interface SimulatedCall {
  id: string;
  kind: 'p2p' | 'group';
  flow: CallFlow;
  /**
   * The application that created the call (the bot for POST /communications/calls); unset for a
   * call someone placed to the bot. Moving a participant needs both calls from the same one
   * (participant-invite page, seed 003, example 5).
   */
  appId?: string;
  direction: CallDirection;
  /** Graph's state. State changes take effect at once; only their notifications are delayed. */
  state: CallState;
  /** Graph has deleted the call: GET answers 404. The record stays for assertions. */
  deleted: boolean;
  callbackUri: string;
  subject?: string;
  source: ParticipantInfo;
  targets: InvitationParticipantInfo[];
  requestedModalities: Modality[];
  activeModalities: Modality[];
  mediaConfig?: MediaConfig;
  chatInfo?: ChatInfo;
  meetingInfo?: MeetingInfo;
  tenantId: string;
  callChainId: string;
  /** The bot's own participant id in this call. */
  myParticipantId: string;
  /** The roster as Graph would report it: the bot and everyone else in the call. */
  participants: Participant[];
  terminationReason?: string;
  /** Why the call ended unanswered (a target that never joins). */
  resultInfo?: ResultInfo;
  /** The last `sequenceNumber` sent in a delta roster for this call (0: none yet). */
  rosterSequenceNumber: number;
  /** Set when an invite with replacesCallId moved the caller out of this call. */
  replacedBy?: { callId: string; operationId: string };
  operations: SimulatedOperation[];
  /** Incremented on every change; sent as `@odata.etag` W/"n". */
  version: number;
  createdAt: Date;
  lastKeepAliveAt?: Date;
}

export interface SimulatedOperation {
  id: string;
  callId: string;
  type: 'inviteParticipants';
  status: OperationStatus;
  clientContext?: string;
  participants: InvitationParticipantInfo[];
  resultInfo?: ResultInfo;
  createdAt: Date;
  lastActionAt: Date;
}

export interface CallStore {
  add(call: SimulatedCall): void;
  /** By id, case-insensitively (Graph ids appear in upper and lower case, seeds 000 vs 003). */
  get(callId: string): SimulatedCall | undefined;
  /** A call Graph still has: known and not deleted. */
  live(callId: string): SimulatedCall | undefined;
  all(): SimulatedCall[];
}

export function createCallStore(): CallStore {
  const calls = new Map<string, SimulatedCall>();
  return {
    add(call) {
      calls.set(normaliseGraphId(call.id), call);
    },
    get(callId) {
      return calls.get(normaliseGraphId(callId));
    },
    live(callId) {
      const call = calls.get(normaliseGraphId(callId));
      return call && !call.deleted ? call : undefined;
    },
    all() {
      return [...calls.values()];
    },
  };
}

export function findOperation(call: SimulatedCall, operationId: string): SimulatedOperation | undefined {
  const wanted = normaliseGraphId(operationId);
  return call.operations.find((operation) => normaliseGraphId(operation.id) === wanted);
}

/** The bot's own entry in the call's roster. */
export function botParticipantOf(call: SimulatedCall): Participant | undefined {
  return call.participants.find((participant) => participant.id === call.myParticipantId);
}

/** Whether the bot waits in the meeting's lobby (guest join, seed 004 example 10). */
export function waitsInLobby(call: SimulatedCall): boolean {
  return botParticipantOf(call)?.isInLobby === true;
}

/** Moves a call to a new state and bumps its version. */
export function transition(call: SimulatedCall, state: CallState): void {
  call.state = state;
  call.version += 1;
}
