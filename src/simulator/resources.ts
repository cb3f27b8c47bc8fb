import type {
  ChangeType,
  IdentitySet,
  Modality,
  Participant,
  ParticipantInfo,
  ResultInfo,
} from '../graph/index.js';
import type { NotificationKind } from './settings.js';
import type { SimulatedCall, SimulatedOperation } from './state.js';

/**
 * The Graph JSON the simulator sends: call, operation and participant resources, and the
 * notifications that carry them. Always the current generation (design.md: accept every
 * variant, emit the current one): `/communications/calls` paths, `resourceUrl`, `callbackUri`,
 * `#microsoft.graph.commsNotifications` (seeds 001 and 003).
 */

export function callPath(callId: string): string {
  return `/communications/calls/${callId}`;
}

export function operationPath(callId: string, operationId: string): string {
  return `${callPath(callId)}/operations/${operationId}`;
}

function etag(version: number): string {
  return `W/"${version}"`;
}

export function participantInfo(identity: IdentitySet): ParticipantInfo {
  return {
    '@odata.type': '#microsoft.graph.participantInfo',
    identity,
    region: 'westus',
    languageId: 'en-US',
  };
}

/** A roster entry. Audio/video streams follow the modalities the party joined with. */
export function makeParticipant(
  id: string,
  identity: IdentitySet,
  modalities: readonly Modality[],
  options: { isInLobby?: boolean; firstSourceId?: number } = {},
): Participant {
  const firstSourceId = options.firstSourceId ?? 1;
  return {
    '@odata.type': '#microsoft.graph.participant',
    id,
    info: participantInfo(identity),
    mediaStreams: modalities
      .filter((modality) => modality === 'audio' || modality === 'video')
      .map((mediaType, index) => ({
        '@odata.type': '#microsoft.graph.mediaStream',
        mediaType,
        label: `main-${mediaType}`,
        sourceId: String(firstSourceId + index),
        direction: 'sendReceive',
        serverMuted: false,
      })),
    isMuted: false,
    isInLobby: options.isInLobby ?? false,
  };
}

/** The call resource as GET /communications/calls/{id} and POST /communications/calls return it. */
export function renderCall(call: SimulatedCall): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.call',
    '@odata.etag': etag(call.version),
    id: call.id,
    state: call.state,
    direction: call.direction,
    subject: call.subject ?? null,
    callbackUri: call.callbackUri,
    source: call.source,
    targets: call.targets,
    requestedModalities: call.requestedModalities,
    activeModalities: call.activeModalities,
    mediaConfig: call.mediaConfig ?? null,
    chatInfo: call.chatInfo ?? null,
    meetingInfo: call.meetingInfo ?? null,
    tenantId: call.tenantId,
    myParticipantId: call.myParticipantId,
    callChainId: call.callChainId,
    terminationReason: call.terminationReason ?? null,
    resultInfo: call.resultInfo ?? null,
  };
}

export function renderOperation(operation: SimulatedOperation): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.inviteParticipantsOperation',
    id: operation.id,
    status: operation.status,
    clientContext: operation.clientContext ?? null,
    resultInfo: operation.resultInfo ?? null,
    participants: operation.participants,
  };
}

/** Participants as listed under a call's path; `@odata.id` follows the path the roster is sent for. */
export function renderParticipants(
  resourceCallId: string,
  participants: readonly Participant[],
): Record<string, unknown>[] {
  return participants.map((participant) => ({
    ...participant,
    '@odata.id': `${callPath(resourceCallId)}/participants/${participant.id}`,
  }));
}

/** One notification ready to be posted: where to, what it is about, and the body. */
export interface OutgoingNotification {
  kind: NotificationKind;
  /** The call the notification's resourceUrl names. */
  callId: string;
  url: string;
  body: CommsNotifications;
}

export interface CommsNotifications {
  '@odata.type': '#microsoft.graph.commsNotifications';
  value: [
    {
      '@odata.type': '#microsoft.graph.commsNotification';
      changeType: ChangeType;
      resourceUrl: string;
      callbackUri: string;
      resourceData: Record<string, unknown> | Record<string, unknown>[];
    },
  ];
}

function notification(
  kind: NotificationKind,
  callId: string,
  url: string,
  changeType: ChangeType,
  resourceUrl: string,
  resourceData: Record<string, unknown> | Record<string, unknown>[],
): OutgoingNotification {
  return {
    kind,
    callId,
    url,
    body: {
      '@odata.type': '#microsoft.graph.commsNotifications',
      value: [
        {
          '@odata.type': '#microsoft.graph.commsNotification',
          changeType,
          resourceUrl,
          callbackUri: url,
          resourceData,
        },
      ],
    },
  };
}

function callData(call: SimulatedCall, members: Record<string, unknown>): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.call',
    '@odata.id': callPath(call.id),
    '@odata.etag': etag(call.version),
    id: call.id,
    ...members,
  };
}

/** `created` with state incoming, to the bot's registered URL (seed 001, step 1). */
export function incomingNotification(call: SimulatedCall): OutgoingNotification {
  return notification(
    'incoming',
    call.id,
    call.callbackUri,
    'created',
    callPath(call.id),
    callData(call, {
      state: 'incoming',
      direction: call.direction,
      callbackUri: call.callbackUri,
      source: call.source,
      targets: call.targets,
      requestedModalities: call.requestedModalities,
      tenantId: call.tenantId,
      callChainId: call.callChainId,
    }),
  );
}

/** A meeting's call notifications repeat its chatInfo and meetingInfo (seed 004, example 5). */
function meetingData(call: SimulatedCall): Record<string, unknown> {
  return {
    ...(call.chatInfo ? { chatInfo: call.chatInfo } : {}),
    ...(call.meetingInfo ? { meetingInfo: call.meetingInfo } : {}),
  };
}

export function establishingNotification(call: SimulatedCall): OutgoingNotification {
  return notification(
    'establishing',
    call.id,
    call.callbackUri,
    'updated',
    callPath(call.id),
    callData(call, { state: 'establishing', direction: call.direction, ...meetingData(call) }),
  );
}

export function establishedNotification(call: SimulatedCall): OutgoingNotification {
  return notification(
    'established',
    call.id,
    call.callbackUri,
    'updated',
    callPath(call.id),
    callData(call, {
      state: 'established',
      direction: call.direction,
      activeModalities: call.activeModalities,
      requestedModalities: call.requestedModalities,
      tenantId: call.tenantId,
      ...meetingData(call),
    }),
  );
}

/** State redirecting: Graph rings the redirect's targets ("call: redirect", v1.0). */
export function redirectingNotification(call: SimulatedCall): OutgoingNotification {
  return notification(
    'redirecting',
    call.id,
    call.callbackUri,
    'updated',
    callPath(call.id),
    callData(call, { state: 'redirecting', direction: call.direction }),
  );
}

/** A call state change the transfer page shows on its own: `transferring`, `transferAccepted`. */
export function transferStateNotification(
  call: SimulatedCall,
  state: 'transferring' | 'transferAccepted',
): OutgoingNotification {
  return notification(
    state,
    call.id,
    call.callbackUri,
    'updated',
    callPath(call.id),
    callData(call, { state, direction: call.direction }),
  );
}

/** Back to established after a failed transfer, with Graph's resultInfo ("call: transfer", v1.0). */
export function transferFailedNotification(
  call: SimulatedCall,
  resultInfo: ResultInfo,
): OutgoingNotification {
  return notification(
    'established',
    call.id,
    call.callbackUri,
    'updated',
    callPath(call.id),
    callData(call, { state: 'established', direction: call.direction, resultInfo }),
  );
}

/** State terminated with terminationReason (seed 001, "Terminated the original peer-to-peer call"). */
export function terminatedNotification(call: SimulatedCall): OutgoingNotification {
  return notification(
    'terminated',
    call.id,
    call.callbackUri,
    'updated',
    callPath(call.id),
    callData(call, {
      state: 'terminated',
      ...(call.terminationReason ? { terminationReason: call.terminationReason } : {}),
      ...(call.resultInfo ? { resultInfo: call.resultInfo } : {}),
    }),
  );
}

/** changeType deleted, no state (seed 001, "Deleted the original peer-to-peer call"). */
export function deletedNotification(call: SimulatedCall): OutgoingNotification {
  return notification('deleted', call.id, call.callbackUri, 'deleted', callPath(call.id), callData(call, {}));
}

/**
 * The operation's outcome: changeType deleted on /operations/{id} with its final status
 * (seeds 001 and 003, "Notification - operation completed").
 */
export function operationNotification(
  call: SimulatedCall,
  operation: SimulatedOperation,
): OutgoingNotification {
  const path = operationPath(call.id, operation.id);
  return notification('operation', call.id, call.callbackUri, 'deleted', path, {
    ...renderOperation(operation),
    '@odata.id': path,
    '@odata.etag': etag(call.version),
  });
}

/**
 * A full roster. `resourceCallId` is the call the roster is reported for: for an invite with
 * replacesCallId the seeds (001 step 3, 003 example 3) name the replaced call's /participants
 * while posting to the callback of the call the invite was made on.
 */
export function rosterNotification(
  resourceCallId: string,
  url: string,
  participants: readonly Participant[],
): OutgoingNotification {
  return notification(
    'roster',
    resourceCallId,
    url,
    'updated',
    `${callPath(resourceCallId)}/participants`,
    renderParticipants(resourceCallId, participants),
  );
}

/** Why a delta roster lists a participant who left (seed 004, example 5, "Delta roster enabled"). */
export const REMOVED_FROM_ROSTER = 'Removed from roster';

/**
 * A delta roster: only the participants that joined, changed or left (those with
 * `removedState`), each with the batch's `rosterSequenceNumber`, in one `deltaParticipants`
 * numbered by `sequenceNumber` (create call page, seed 004, examples 5 and 10).
 */
export function deltaRosterNotification(
  resourceCallId: string,
  url: string,
  change: { present: readonly Participant[]; removed: readonly Participant[] },
  sequenceNumber: number,
): OutgoingNotification {
  const participants = [
    ...renderParticipants(resourceCallId, change.present).map((participant) => ({
      ...participant,
      rosterSequenceNumber: sequenceNumber,
    })),
    ...renderParticipants(resourceCallId, change.removed).map((participant) => ({
      ...participant,
      rosterSequenceNumber: sequenceNumber,
      removedState: { reason: REMOVED_FROM_ROSTER },
    })),
  ];
  return notification('roster', resourceCallId, url, 'updated', `${callPath(resourceCallId)}/participants`, [
    { '@odata.type': '#microsoft.graph.deltaParticipants', participants, sequenceNumber },
  ]);
}
