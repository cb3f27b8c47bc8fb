import { randomUUID } from 'node:crypto';
import {
  type AnswerCallRequest,
  type CreateCallRequest,
  callIdFrom,
  describeIdentity,
  type IdentitySet,
  type InvitationParticipantInfo,
  type InviteParticipantsRequest,
  type Modality,
  type Participant,
  primaryIdentity,
  type RedirectCallRequest,
  type RejectCallRequest,
  type ResultInfo,
  sameGraphId,
  sameParty,
  type TransferCallRequest,
} from '../graph/index.js';
import { checkPhoneIdentities, planCall } from './call-plans.js';
import { GraphError } from './errors.js';
import { declines, type FlowSettings, ringsForever } from './flow-settings.js';
import type { MeetingRegistry } from './meetings.js';
import type { Notifier } from './notifier.js';
import {
  deletedNotification,
  deltaRosterNotification,
  establishedNotification,
  establishingNotification,
  makeParticipant,
  type OutgoingNotification,
  operationNotification,
  redirectingNotification,
  renderCall,
  renderOperation,
  rosterNotification,
  terminatedNotification,
  transferFailedNotification,
  transferStateNotification,
} from './resources.js';
import { SimulatorConfigError } from './settings.js';
import {
  botParticipantOf,
  type CallStore,
  findOperation,
  type SimulatedCall,
  type SimulatedOperation,
  transition,
  waitsInLobby,
} from './state.js';

export interface CallingDeps {
  store: CallStore;
  notifier: Notifier;
  tenantId: string;
  /** The bot as Graph names it in rosters and as the default source of calls it creates. */
  botIdentity: IdentitySet;
  /** The application whose token creates calls: the owner of every call it creates. */
  appId: string;
  meetings: MeetingRegistry;
  flows: () => FlowSettings;
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
  /** POST /communications/calls/{id}/redirect: redirecting, then terminated + deleted. */
  redirect(callId: string, request: RedirectCallRequest): SimulatedCall;
  /** POST /communications/calls/{id}/reject: terminated + deleted. */
  reject(callId: string, request: RejectCallRequest): SimulatedCall;
  /**
   * POST /communications/calls/{id}/transfer: transferring, then transferAccepted and the bot's
   * leg terminated (P2P) or the transferee gone from the roster (group call); or, when the target
   * declines (decliningIdentityIds), back to established with resultInfo; or, when it rings
   * forever (ringingIdentityIds), `transferring` until the call is hung up.
   */
  transfer(callId: string, request: TransferCallRequest): SimulatedCall;
  /** DELETE /communications/calls/{id}. */
  hangUp(callId: string): void;
  /** Ends a call as if the other party hung up: terminated + deleted to the bot. */
  endByRemoteParty(callId: string, terminationReason?: string): void;
  /** Someone in the meeting lets the bot in from the lobby: established + roster without isInLobby. */
  admitFromLobby(callId: string): void;
  /** POST /communications/calls/{id}/keepAlive. */
  keepAlive(callId: string): void;
  /** A call Graph still has, or a 404 GraphError. */
  liveCall(callId: string): SimulatedCall;
  operation(callId: string, operationId: string): SimulatedOperation;
  /** Cancels pending lobby admissions. */
  stop(): void;
}

/** Only audio and video make media streams; a bot joining "without media" (seed 001 step 2) has none. */
const CALLER_MODALITIES: Modality[] = ['audio'];

/** Who joined, changed (left the lobby) or left a roster in one Graph event. */
interface RosterChange {
  joined?: readonly Participant[];
  changed?: readonly Participant[];
  left?: readonly Participant[];
}

/** resultInfo of a party that never answered (SIP 408, as Graph reports a ringing timeout). */
function notAnswered(parties: readonly IdentitySet[]): ResultInfo {
  return {
    '@odata.type': '#microsoft.graph.resultInfo',
    code: 408,
    subcode: 0,
    message: `${parties.map((party) => describeIdentity(party)).join(', ')} did not answer.`,
  };
}

/** `known` completed by `given`, member by member (`user: { id }` keeps the known displayName). */
function mergeIdentities(known: IdentitySet, given: IdentitySet): IdentitySet {
  const merged: Record<string, unknown> = { ...known };
  for (const [kind, identity] of Object.entries(given)) {
    const before = merged[kind];
    merged[kind] =
      identity && typeof identity === 'object' && before && typeof before === 'object'
        ? { ...before, ...identity }
        : identity;
  }
  return merged as IdentitySet;
}

export function createCalling(deps: CallingDeps): Calling {
  const { store, notifier, tenantId, botIdentity, appId, meetings, flows } = deps;
  const lobbyTimers = new Map<string, NodeJS.Timeout>();

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

  function neverJoins(identity: IdentitySet): boolean {
    return declines(flows(), primaryIdentity(identity)?.id);
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

  /**
   * The roster notification for a change, as the rosterMode setting says: the whole roster, or a
   * delta with the next sequence number. `resourceCallId`/`url` default to the call's own; an
   * invite with replacesCallId reports on the replaced call's path (seeds 001 step 3, 003 ex. 3).
   */
  function rosterUpdate(
    call: SimulatedCall,
    change: RosterChange,
    target: { resourceCallId: string; url: string } = { resourceCallId: call.id, url: call.callbackUri },
  ): OutgoingNotification {
    if (flows().rosterMode === 'full') {
      return rosterNotification(target.resourceCallId, target.url, call.participants);
    }
    call.rosterSequenceNumber += 1;
    return deltaRosterNotification(
      target.resourceCallId,
      target.url,
      { present: [...(change.joined ?? []), ...(change.changed ?? [])], removed: change.left ?? [] },
      call.rosterSequenceNumber,
    );
  }

  function end(call: SimulatedCall, terminationReason: string | undefined): OutgoingNotification[] {
    clearLobbyTimer(call.id);
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

  function failInvite(
    call: SimulatedCall,
    operation: SimulatedOperation,
    code: number,
    message: string,
  ): OutgoingNotification[] {
    finish(operation, 'failed', { '@odata.type': '#microsoft.graph.resultInfo', code, subcode: 0, message });
    return [operationNotification(call, operation)];
  }

  /** Participants of the registered meeting the call joined, brought into its roster. */
  function joinMeetingParticipants(call: SimulatedCall): Participant[] {
    const meeting = call.chatInfo ? meetings.byThreadId(call.chatInfo.threadId) : undefined;
    if (!meeting || call.flow !== 'meeting') return [];
    return meeting.participants.map((identity) => addParticipant(call, identity));
  }

  function clearLobbyTimer(callId: string): void {
    const key = callId.toLowerCase();
    const timer = lobbyTimers.get(key);
    if (timer) clearTimeout(timer);
    lobbyTimers.delete(key);
  }

  function admit(call: SimulatedCall): void {
    clearLobbyTimer(call.id);
    const bot = botParticipantOf(call);
    if (!bot) return;
    bot.isInLobby = false;
    call.activeModalities = [...call.requestedModalities];
    transition(call, 'established');
    // "The application doesn't receive the roster for participants in the meeting until it's
    // admitted from lobby" (seed 004, example 10): they appear now.
    const joined = joinMeetingParticipants(call);
    notifier.post([establishedNotification(call), rosterUpdate(call, { changed: [bot], joined })]);
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
      ? mergeIdentities(replaced.source.identity, invitee.identity)
      : invitee.identity;
    const joined = addParticipant(call, identity);
    call.version += 1;
    finish(operation, 'completed');
    replaced.replacedBy = { callId: call.id, operationId: operation.id };
    // The roster names the replaced call's path but goes to this call's callback; terminated and
    // deleted go to the replaced call's own callback, which may be another system's.
    return [
      operationNotification(call, operation),
      rosterUpdate(call, { joined: [joined] }, { resourceCallId: replaced.id, url: call.callbackUri }),
      ...end(replaced, 'AppInitiated'),
    ];
  }

  /** Seed 003 example 5: move one participant from another meeting of the same application into this one. */
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
    if (!source.appId || source.appId !== call.appId) {
      return failInvite(
        call,
        operation,
        403,
        `call ${source.id} was not created by the application that created call ${call.id}; a participant can only be moved between meetings created by the same application (participant-invite page, example 5).`,
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
    const joined = addParticipant(call, moving.info.identity);
    call.version += 1;
    finish(operation, 'completed');
    return [
      operationNotification(call, operation),
      rosterUpdate(call, { joined: [joined] }),
      rosterUpdate(source, { left: [moving] }),
    ];
  }

  /** Invitees join unless set never to; an invite none of whose invitees joins fails. */
  function inviteParties(
    call: SimulatedCall,
    operation: SimulatedOperation,
    invitees: readonly InvitationParticipantInfo[],
  ): OutgoingNotification[] {
    const joining = invitees.filter((invitee) => !neverJoins(invitee.identity));
    if (joining.length === 0) {
      finish(operation, 'failed', notAnswered(invitees.map((invitee) => invitee.identity)));
      return [operationNotification(call, operation)];
    }
    const joined = joining.map((invitee) => addParticipant(call, invitee.identity));
    call.version += 1;
    finish(operation, 'completed');
    return [operationNotification(call, operation), rosterUpdate(call, { joined })];
  }

  /**
   * The consultation call a transfer's `replacesCallId` names: another established call the bot
   * placed, with the transfer target in it (a P2P call to that target). Else a 400, as
   * Graph refuses a transfer whose replacesCallId it cannot use.
   */
  function consultationCall(call: SimulatedCall, replacedId: string): SimulatedCall {
    const replaced = store.live(replacedId);
    if (!replaced || replaced === call) {
      throw new GraphError(
        400,
        `transferTarget.replacesCallId ${replacedId} names no other live call (unknown, ended, or the call being transferred).`,
      );
    }
    if (replaced.state !== 'established' || replaced.appId !== appId) {
      throw new GraphError(
        400,
        `transferTarget.replacesCallId ${replacedId} must name an established call this application placed (it is ${replaced.state}).`,
      );
    }
    return replaced;
  }

  /**
   * Redirect and reject are answers to an incoming call: one that was answered, redirected or
   * rejected already is not incoming any more, and Graph refuses a second answer.
   */
  function unansweredIncomingCall(callId: string, action: 'redirected' | 'rejected'): SimulatedCall {
    const call = liveCall(callId);
    if (call.direction !== 'incoming' || call.state !== 'incoming') {
      throw new GraphError(
        409,
        `Call ${call.id} is ${call.direction === 'incoming' ? call.state : 'an outgoing call'}; only an incoming call that was neither answered, redirected nor rejected can be ${action}.`,
        'Conflict',
      );
    }
    return call;
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
      const plan = planCall(request, { botIdentity, meetings });
      const call: SimulatedCall = {
        id: randomUUID(),
        kind: plan.kind,
        flow: plan.flow,
        appId,
        direction: 'outgoing',
        state: 'establishing',
        deleted: false,
        callbackUri: request.callbackUri as string,
        ...(request.subject ? { subject: request.subject } : {}),
        source: plan.source,
        targets: plan.targets,
        requestedModalities: request.requestedModalities,
        activeModalities: [],
        ...(request.mediaConfig ? { mediaConfig: request.mediaConfig } : {}),
        ...(plan.chatInfo ? { chatInfo: plan.chatInfo } : {}),
        ...(plan.meetingInfo ? { meetingInfo: plan.meetingInfo } : {}),
        tenantId: request.tenantId ?? tenantId,
        callChainId: randomUUID(),
        myParticipantId: randomUUID(),
        participants: [],
        rosterSequenceNumber: 0,
        operations: [],
        version: 1,
        createdAt: new Date(),
      };
      // The bot joins with the modalities it asked for, on source ids from 10 as in seed 004.
      const bot = makeParticipant(call.myParticipantId, call.source.identity, request.requestedModalities, {
        isInLobby: plan.inLobby,
        firstSourceId: 10,
      });
      call.participants.push(bot);
      store.add(call);
      const body = renderCall(call);
      const batch = [establishingNotification(call)];

      if (plan.inLobby) {
        // Example 10: the guest bot sees itself in the lobby, and nobody else, until admitted.
        batch.push(rosterUpdate(call, { joined: [bot] }));
        notifier.post(batch);
        const { lobbyAdmitAfterMs } = flows();
        if (lobbyAdmitAfterMs !== null) {
          const timer = setTimeout(() => {
            lobbyTimers.delete(call.id.toLowerCase());
            if (store.live(call.id) && waitsInLobby(call)) admit(call);
          }, lobbyAdmitAfterMs);
          timer.unref();
          lobbyTimers.set(call.id.toLowerCase(), timer);
        }
        return { call, body };
      }

      if (call.kind === 'p2p') {
        const [target] = plan.targets as [InvitationParticipantInfo];
        if (neverJoins(target.identity)) {
          call.resultInfo = notAnswered([target.identity]);
          batch.push(...end(call, undefined));
          notifier.post(batch);
          return { call, body };
        }
        // Rings until the bot gives up and hangs up: the call stays establishing.
        if (ringsForever(flows(), primaryIdentity(target.identity)?.id)) {
          notifier.post(batch);
          return { call, body };
        }
      }
      // Group call targets set never to join are simply not in the roster.
      for (const target of plan.targets) {
        if (!neverJoins(target.identity)) addParticipant(call, target.identity);
      }
      joinMeetingParticipants(call);
      call.activeModalities = [...request.requestedModalities];
      transition(call, 'established');
      batch.push(establishedNotification(call));
      // P2P calls get call state notifications only (example 2's note); group calls and
      // meetings get a roster too (example 5's note).
      if (call.kind === 'group') batch.push(rosterUpdate(call, { joined: call.participants }));
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
          `Call ${call.id} is ${call.state}${waitsInLobby(call) ? ' (the bot waits in the lobby)' : ''}; invite participants once it is established.`,
          'Conflict',
        );
      }
      // With replacesCallId Graph reads only the first participant and ignores the rest
      // (participant-invite page, seed 003, examples 3 and 5).
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
        batch = inviteParties(call, operation, invitees);
      }
      notifier.post(batch);
      return { operation, body };
    },

    redirect(callId, request) {
      const call = unansweredIncomingCall(callId, 'redirected');
      checkPhoneIdentities(request.targets, 'targets');
      if (request.callbackUri) call.callbackUri = request.callbackUri;
      transition(call, 'redirecting');
      const batch = [redirectingNotification(call)];
      // Several targets ring at once and the first to pick up takes the call; when none would
      // ever answer, the redirect fails as a ringing timeout (SIP 408) and the caller's call ends.
      const answering = request.targets.find((target) => !neverJoins(target.identity));
      if (!answering) call.resultInfo = notAnswered(request.targets.map((target) => target.identity));
      batch.push(...end(call, answering ? 'Redirected' : undefined));
      notifier.post(batch);
      return call;
    },

    reject(callId, request) {
      const call = unansweredIncomingCall(callId, 'rejected');
      if (request.callbackUri) call.callbackUri = request.callbackUri;
      notifier.post(end(call, 'Rejected'));
      return call;
    },

    transfer(callId, request) {
      const call = liveCall(callId);
      if (call.state !== 'established') {
        throw new GraphError(
          409,
          `Call ${call.id} is ${call.state}; only an established call can be transferred.`,
          'Conflict',
        );
      }
      checkPhoneIdentities([request.transferTarget], 'transferTarget');
      let transferee: Participant | undefined;
      if (call.kind === 'group') {
        if (!request.transferee) {
          throw new GraphError(
            400,
            `Call ${call.id} is a group call: transferee must name the participant to transfer ("call: transfer": only needed, and required, when transferring from a group call).`,
          );
        }
        const named = request.transferee;
        transferee = call.participants.find(
          (participant) =>
            (named.participantId && sameGraphId(participant.id, named.participantId)) ||
            sameParty(participant.info.identity, named.identity),
        );
        if (!transferee || transferee.id === call.myParticipantId) {
          throw new GraphError(400, `transferee is not a participant of call ${call.id} other than the bot.`);
        }
      }
      // Consultative transfer: the target is already in the consultation call the bot placed;
      // Graph hands the caller over to it and ends both of the bot's calls.
      const replacedId = request.transferTarget.replacesCallId
        ? callIdFrom(request.transferTarget.replacesCallId)
        : undefined;
      const replaced = replacedId ? consultationCall(call, replacedId) : undefined;
      transition(call, 'transferring');
      const batch = [transferStateNotification(call, 'transferring')];
      if (replaced) {
        transition(call, 'transferAccepted');
        batch.push(transferStateNotification(call, 'transferAccepted'), ...end(call, 'Transferred'));
        batch.push(...end(replaced, 'Transferred'));
        notifier.post(batch);
        return call;
      }
      if (ringsForever(flows(), primaryIdentity(request.transferTarget.identity)?.id)) {
        // A target that neither answers nor declines, and a Graph that never gives up ringing it:
        // the call stays `transferring` until someone hangs it up.
        notifier.post(batch);
        return call;
      }
      if (neverJoins(request.transferTarget.identity)) {
        transition(call, 'established');
        batch.push(transferFailedNotification(call, notAnswered([request.transferTarget.identity])));
        notifier.post(batch);
        return call;
      }
      transition(call, 'transferAccepted');
      batch.push(transferStateNotification(call, 'transferAccepted'));
      if (transferee) {
        const left = transferee;
        call.participants = call.participants.filter((participant) => participant !== left);
        transition(call, 'established');
        batch.push(establishedNotification(call), rosterUpdate(call, { left: [left] }));
      } else {
        batch.push(...end(call, 'Transferred'));
      }
      notifier.post(batch);
      return call;
    },

    hangUp(callId) {
      notifier.post(end(liveCall(callId), 'AppInitiated'));
    },

    endByRemoteParty(callId, terminationReason) {
      notifier.post(end(liveCall(callId), terminationReason));
    },

    admitFromLobby(callId) {
      const call = liveCall(callId);
      if (!waitsInLobby(call)) {
        throw new SimulatorConfigError(
          `call ${call.id} has nobody waiting in the lobby: only a bot joining a meeting as a guest (source.identity.guest, create call example 10) waits there, until admitted once.`,
        );
      }
      admit(call);
    },

    keepAlive(callId) {
      const call = liveCall(callId);
      call.lastKeepAliveAt = new Date();
    },

    stop() {
      for (const timer of lobbyTimers.values()) clearTimeout(timer);
      lobbyTimers.clear();
    },
  };
}
