import { randomUUID } from 'node:crypto';
import {
  type AnswerCallRequest,
  type CreateCallRequest,
  callIdFrom,
  e164Schema,
  type IdentitySet,
  type InvitationParticipantInfo,
  type InviteParticipantsRequest,
  type Modality,
  type Participant,
  type ResultInfo,
  sameGraphId,
  sameParty,
} from '../graph/index.js';
import { GraphError } from './errors.js';
import type { Notifier } from './notifier.js';
import {
  deletedNotification,
  establishedNotification,
  establishingNotification,
  makeParticipant,
  type OutgoingNotification,
  operationNotification,
  participantInfo,
  renderCall,
  renderOperation,
  rosterNotification,
  terminatedNotification,
} from './resources.js';
import {
  type CallStore,
  findOperation,
  type SimulatedCall,
  type SimulatedOperation,
  transition,
} from './state.js';

export interface CallingDeps {
  store: CallStore;
  notifier: Notifier;
  tenantId: string;
  /** The bot as Graph names it in rosters and as the default source of calls it creates. */
  botIdentity: IdentitySet;
}

/**
 * What the Graph calling API does with each request: the state change, the HTTP answer and
 * the notifications that follow. Routes call these; scenario helpers (incoming calls) share
 * the same store and notifier.
 */
export interface Calling {
  /** POST /communications/calls. Returns the 201 body (state establishing). */
  createCall(request: CreateCallRequest): { call: SimulatedCall; body: Record<string, unknown> };
  /** POST /communications/calls/{id}/answer. */
  answer(callId: string, request: AnswerCallRequest): SimulatedCall;
  /** POST /communications/calls/{id}/participants/invite. Returns the 200 body (status running). */
  invite(
    callId: string,
    request: InviteParticipantsRequest,
  ): { operation: SimulatedOperation; body: Record<string, unknown> };
  /** DELETE /communications/calls/{id}. */
  hangUp(callId: string): void;
  /** Ends a call as if the other party hung up: terminated + deleted to the bot. */
  endByRemoteParty(callId: string, terminationReason?: string): void;
  /** POST /communications/calls/{id}/keepAlive. */
  keepAlive(callId: string): void;
  /** A call Graph still has, or a 404 GraphError. */
  liveCall(callId: string): SimulatedCall;
  operation(callId: string, operationId: string): SimulatedOperation;
}

/** Only audio and video make media streams; a bot joining "without media" (seed 001 step 2) has none. */
const CALLER_MODALITIES: Modality[] = ['audio'];

export function createCalling(deps: CallingDeps): Calling {
  const { store, notifier, tenantId, botIdentity } = deps;

  function liveCall(callId: string): SimulatedCall {
    const call = store.live(callId);
    if (!call) {
      throw new GraphError(
        404,
        `Call ${callId} was not found: it never existed here or Graph has already deleted it.`,
        'itemNotFound',
      );
    }
    return call;
  }

  function botParticipant(call: SimulatedCall, modalities: readonly Modality[]): Participant {
    const isGuest = Boolean(call.source.identity.guest);
    // A guest joining a meeting waits in the lobby (create-call page, seed 004, example 10).
    return makeParticipant(call.myParticipantId, call.source.identity, modalities, {
      isInLobby: isGuest && call.meetingInfo !== undefined,
      firstSourceId: 10,
    });
  }

  function addParticipant(call: SimulatedCall, identity: IdentitySet): Participant {
    const existing = call.participants.find((participant) => sameParty(participant.info.identity, identity));
    if (existing) return existing;
    const participant = makeParticipant(randomUUID(), identity, CALLER_MODALITIES, {
      firstSourceId: call.participants.length + 1,
    });
    call.participants.push(participant);
    return participant;
  }

  function end(call: SimulatedCall, terminationReason: string | undefined): OutgoingNotification[] {
    if (terminationReason) call.terminationReason = terminationReason;
    transition(call, 'terminated');
    const terminated = terminatedNotification(call);
    call.deleted = true;
    call.version += 1;
    return [terminated, deletedNotification(call)];
  }

  function finish(
    operation: SimulatedOperation,
    status: 'completed' | 'failed',
    resultInfo?: ResultInfo,
  ): void {
    operation.status = status;
    operation.lastActionAt = new Date();
    if (resultInfo) operation.resultInfo = resultInfo;
  }

  function failInvite(call: SimulatedCall, operation: SimulatedOperation, code: number, message: string) {
    finish(operation, 'failed', { '@odata.type': '#microsoft.graph.resultInfo', code, subcode: 0, message });
    return [operationNotification(call, operation)];
  }

  /** The seed 000/001 transfer: the caller leaves the P2P call for the group call, which Graph then ends. */
  function replaceP2pCall(
    call: SimulatedCall,
    operation: SimulatedOperation,
    invitee: InvitationParticipantInfo,
    replaced: SimulatedCall,
  ): OutgoingNotification[] {
    if (replaced.state !== 'established') {
      return failInvite(
        call,
        operation,
        400,
        `replacesCallId ${replaced.id} names a call that is ${replaced.state}; only an established call can be replaced.`,
      );
    }
    // Graph knows the caller's name from the P2P call even when the invite names only an id.
    const identity = sameParty(replaced.source.identity, invitee.identity)
      ? { ...replaced.source.identity, ...invitee.identity }
      : invitee.identity;
    addParticipant(call, identity);
    call.version += 1;
    finish(operation, 'completed');
    replaced.replacedBy = { callId: call.id, operationId: operation.id };
    return [
      operationNotification(call, operation),
      rosterNotification(replaced.id, call.callbackUri, call.participants),
      ...end(replaced, 'AppInitiated'),
    ];
  }

  /** Seed 003 example 5: move one participant from another meeting the bot is in into this one. */
  function moveParticipant(
    call: SimulatedCall,
    operation: SimulatedOperation,
    invitee: InvitationParticipantInfo,
    source: SimulatedCall,
  ): OutgoingNotification[] {
    if (!invitee.participantId) {
      return failInvite(
        call,
        operation,
        400,
        `replacesCallId ${source.id} names a group call: participants[0].participantId must say which participant to move.`,
      );
    }
    const moving = source.participants.find((participant) =>
      sameGraphId(participant.id, invitee.participantId),
    );
    if (!moving) {
      return failInvite(
        call,
        operation,
        404,
        `participant ${invitee.participantId} is not in call ${source.id}, so it cannot be moved.`,
      );
    }
    source.participants = source.participants.filter((participant) => participant !== moving);
    source.version += 1;
    addParticipant(call, moving.info.identity);
    call.version += 1;
    finish(operation, 'completed');
    return [
      operationNotification(call, operation),
      rosterNotification(call.id, call.callbackUri, call.participants),
      rosterNotification(source.id, source.callbackUri, source.participants),
    ];
  }

  return {
    liveCall,

    operation(callId, operationId) {
      const operation = findOperation(liveCall(callId), operationId);
      if (!operation) {
        throw new GraphError(
          404,
          `Operation ${operationId} was not found on call ${callId}.`,
          'itemNotFound',
        );
      }
      return operation;
    },

    createCall(request) {
      const targets = request.targets ?? [];
      checkPhoneIdentities(targets, 'targets');
      const joinsMeeting = request.meetingInfo !== undefined;
      if (request.chatInfo && !joinsMeeting) {
        throw new GraphError(400, 'chatInfo was given without meetingInfo: joining a meeting needs both.');
      }
      if (
        request.meetingInfo?.['@odata.type'] === '#microsoft.graph.organizerMeetingInfo' &&
        !request.chatInfo
      ) {
        throw new GraphError(
          400,
          'chatInfo is required to join a meeting by its organizer (organizerMeetingInfo), as in the create-call examples.',
        );
      }
      if (!joinsMeeting && targets.length === 0) {
        throw new GraphError(
          400,
          'targets is empty and there is no meetingInfo: a call needs someone to call or a meeting to join.',
        );
      }
      const source = request.source ?? participantInfo(botIdentity);
      const call: SimulatedCall = {
        id: randomUUID(),
        kind: joinsMeeting || targets.length > 1 ? 'group' : 'p2p',
        direction: 'outgoing',
        state: 'establishing',
        deleted: false,
        callbackUri: request.callbackUri as string,
        ...(request.subject ? { subject: request.subject } : {}),
        source,
        targets,
        requestedModalities: request.requestedModalities,
        activeModalities: [],
        ...(request.mediaConfig ? { mediaConfig: request.mediaConfig } : {}),
        ...(request.chatInfo ? { chatInfo: request.chatInfo } : {}),
        ...(request.meetingInfo ? { meetingInfo: request.meetingInfo } : {}),
        tenantId: request.tenantId ?? tenantId,
        callChainId: randomUUID(),
        myParticipantId: randomUUID(),
        participants: [],
        operations: [],
        version: 1,
        createdAt: new Date(),
      };
      call.participants.push(botParticipant(call, request.requestedModalities));
      for (const target of targets) addParticipant(call, target.identity);
      store.add(call);
      const body = renderCall(call);

      const batch = [establishingNotification(call)];
      call.activeModalities = [...request.requestedModalities];
      transition(call, 'established');
      batch.push(establishedNotification(call));
      if (call.kind === 'group') batch.push(rosterNotification(call.id, call.callbackUri, call.participants));
      notifier.post(batch);
      return { call, body };
    },

    answer(callId, request) {
      const call = liveCall(callId);
      if (call.state !== 'incoming') {
        throw new GraphError(
          409,
          `Call ${call.id} is ${call.state}; only an incoming call can be answered.`,
          'Conflict',
        );
      }
      call.callbackUri = request.callbackUri as string;
      call.mediaConfig = request.mediaConfig;
      call.activeModalities = [...(request.acceptedModalities ?? call.requestedModalities)];
      transition(call, 'establishing');
      const batch = [establishingNotification(call)];
      transition(call, 'established');
      batch.push(establishedNotification(call));
      notifier.post(batch);
      return call;
    },

    invite(callId, request) {
      const call = liveCall(callId);
      if (call.kind === 'p2p') {
        throw new GraphError(
          400,
          `Call ${call.id} is a peer-to-peer call; participants can only be invited into a group call. Create one with POST /communications/calls (chatInfo + meetingInfo) and invite into it.`,
        );
      }
      if (call.state !== 'established') {
        throw new GraphError(
          409,
          `Call ${call.id} is ${call.state}; invite participants once it is established.`,
          'Conflict',
        );
      }
      // With replacesCallId Graph reads only the first participant and ignores the rest
      // (participant-invite pages, seeds 001 and 003).
      const replacing = request.participants.some((participant) => participant.replacesCallId);
      const invitees = replacing ? request.participants.slice(0, 1) : request.participants;
      checkPhoneIdentities(invitees, 'participants');
      if (invitees.length > 1 && !call.chatInfo) {
        throw new GraphError(
          400,
          `Call ${call.id} has no chatInfo; inviting several participants at once needs a group call with chatInfo (seed 003, example 2).`,
        );
      }
      const now = new Date();
      const operation: SimulatedOperation = {
        id: randomUUID(),
        callId: call.id,
        type: 'inviteParticipants',
        status: 'running',
        ...(request.clientContext !== undefined ? { clientContext: request.clientContext } : {}),
        participants: invitees,
        createdAt: now,
        lastActionAt: now,
      };
      call.operations.push(operation);
      const body = renderOperation(operation);

      const [first] = invitees as [InvitationParticipantInfo];
      let batch: OutgoingNotification[];
      if (first.replacesCallId) {
        const replacedId = callIdFrom(first.replacesCallId);
        const replaced = store.live(replacedId);
        if (!replaced) {
          batch = failInvite(
            call,
            operation,
            404,
            `replacesCallId ${replacedId}: no such call (unknown or already ended).`,
          );
        } else if (replaced === call) {
          batch = failInvite(
            call,
            operation,
            400,
            `replacesCallId ${replacedId} is the call being invited into.`,
          );
        } else if (replaced.kind === 'p2p') {
          batch = replaceP2pCall(call, operation, first, replaced);
        } else {
          batch = moveParticipant(call, operation, first, replaced);
        }
      } else {
        for (const invitee of invitees) addParticipant(call, invitee.identity);
        call.version += 1;
        finish(operation, 'completed');
        batch = [
          operationNotification(call, operation),
          rosterNotification(call.id, call.callbackUri, call.participants),
        ];
      }
      notifier.post(batch);
      return { operation, body };
    },

    hangUp(callId) {
      notifier.post(end(liveCall(callId), 'AppInitiated'));
    },

    endByRemoteParty(callId, terminationReason) {
      notifier.post(end(liveCall(callId), terminationReason));
    },

    keepAlive(callId) {
      const call = liveCall(callId);
      call.lastKeepAliveAt = new Date();
    },
  };
}

/** PSTN parties are named by an E.164 number (participant-invite page, seed 003, example 4). */
function checkPhoneIdentities(parties: readonly InvitationParticipantInfo[], field: string): void {
  parties.forEach((party, index) => {
    const phoneId = party.identity.phone?.id;
    if (phoneId != null && !e164Schema.safeParse(phoneId).success) {
      throw new GraphError(
        400,
        `${field}[${index}].identity.phone.id "${phoneId}" must be an E.164 number such as +12345678901.`,
      );
    }
  });
}
