/**
 * Checks of what a `botCall` is asked to do, run in workflow code (the start input and the update
 * validators) before anything is written to history or sent to Graph. Hand-written on purpose:
 * zod would be bundled into every workflow. Each function returns the problems found, each naming
 * the field and what it must be; an empty list means the request is fine. They take `unknown`
 * because an update's payload is whatever JSON a client sent.
 */

import { bareCallId } from '../call-id.js';
import type { CallRequestKind } from './types.js';

/** E.164: a plus sign and 1 to 15 digits, the first not zero (seed 003 example 4; src/graph e164Schema). */
const E164 = /^\+[1-9]\d{1,14}$/;

/** Graph's documented limits for participants/invite (seeds 001, 003; src/graph MAX_INVITEES). */
export const MAX_INVITEES = 5;
export const MAX_CLIENT_CONTEXT_LENGTH = 256;

const identityKinds = ['user', 'application', 'applicationInstance', 'phone', 'guest', 'device'] as const;
const callRequestKinds: readonly CallRequestKind[] = ['p2p', 'pstn', 'groupCall', 'meeting', 'joinMeetingId'];
const modalities = ['unknown', 'audio', 'video', 'videoBasedScreenSharing', 'data'];

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function isE164(value: unknown): boolean {
  return typeof value === 'string' && E164.test(value);
}

/**
 * An identitySet must name a party by id (user, application, applicationInstance, phone, guest or
 * device), and a phone by its E.164 number.
 */
export function identityProblems(identity: unknown, path: string): string[] {
  if (!isObject(identity)) {
    return [`${path} must be an identitySet such as { "user": { "id": "…" } }, got ${describe(identity)}`];
  }
  const problems: string[] = [];
  let named = false;
  for (const kind of identityKinds) {
    const member = identity[kind];
    if (member === undefined || member === null) continue;
    if (!isObject(member)) {
      problems.push(`${path}.${kind} must be an identity object with an id, got ${describe(member)}`);
      continue;
    }
    if (kind === 'phone') {
      if (!isE164(member.id)) {
        problems.push(
          `${path}.phone.id must be an E.164 number such as +12345678901, got ${describe(member.id)}`,
        );
        continue;
      }
    } else if (member.id !== undefined && member.id !== null && !isNonEmptyString(member.id)) {
      problems.push(`${path}.${kind}.id must be a non-empty string, got ${describe(member.id)}`);
      continue;
    }
    if (isNonEmptyString(member.id)) named = true;
  }
  if (!named && problems.length === 0) {
    problems.push(
      `${path} names no party: give an id in one of ${identityKinds.join(', ')} (e.g. { "user": { "id": "…" } })`,
    );
  }
  return problems;
}

function mediaProblems(media: unknown, path: string): string[] {
  if (!isObject(media)) {
    return [`${path} must be { "kind": "none" | "serviceHosted" | "appHosted" }, got ${describe(media)}`];
  }
  switch (media.kind) {
    case 'none':
      return [];
    case 'serviceHosted': {
      if (media.preFetchMedia === undefined) return [];
      if (!Array.isArray(media.preFetchMedia)) {
        return [
          `${path}.preFetchMedia must be a list of { "uri": "…" }, got ${describe(media.preFetchMedia)}`,
        ];
      }
      return media.preFetchMedia.flatMap((prompt, index) =>
        isObject(prompt) && isNonEmptyString(prompt.uri)
          ? []
          : [
              `${path}.preFetchMedia[${index}] must be { "uri": "…", "resourceId"?: "…" }, got ${describe(prompt)}`,
            ],
      );
    }
    case 'appHosted':
      return isNonEmptyString(media.blob)
        ? []
        : [`${path}.blob must be the serialized media session configuration (a non-empty string)`];
    default:
      return [`${path}.kind must be "none", "serviceHosted" or "appHosted", got ${describe(media.kind)}`];
  }
}

function optionalStringProblems(fields: Fields, name: string, path: string): string[] {
  const value = fields[name];
  return value === undefined || isNonEmptyString(value)
    ? []
    : [`${path}.${name} must be a non-empty string when given, got ${describe(value)}`];
}

/** What is wrong with a call to create or a meeting to join (the `request` of BotCallInput). */
export function callRequestProblems(request: unknown, path = 'request'): string[] {
  if (!isObject(request)) return [`${path} must be an object with a kind, got ${describe(request)}`];
  const kind = request.kind as CallRequestKind;
  if (!callRequestKinds.includes(kind)) {
    return [`${path}.kind must be one of ${callRequestKinds.join(', ')}, got ${describe(request.kind)}`];
  }
  const problems = mediaProblems(request.media, `${path}.media`);
  switch (kind) {
    case 'p2p':
      problems.push(...identityProblems(request.target, `${path}.target`));
      if (
        request.modalities !== undefined &&
        !(Array.isArray(request.modalities) && request.modalities.every((m) => modalities.includes(m)))
      ) {
        problems.push(`${path}.modalities must be a list of ${modalities.join(', ')}`);
      }
      break;
    case 'pstn':
      if (!isE164(request.phoneNumber)) {
        problems.push(
          `${path}.phoneNumber must be an E.164 number such as +12345678901, got ${describe(request.phoneNumber)}`,
        );
      }
      if (!isObject(request.applicationInstance) || !isNonEmptyString(request.applicationInstance.id)) {
        problems.push(
          `${path}.applicationInstance.id must name the application instance that owns the bot's phone number`,
        );
      }
      break;
    case 'groupCall':
      // With one target Graph makes a P2P call, which cannot take invites: that is kind 'p2p'.
      if (!Array.isArray(request.targets) || request.targets.length < 2 || request.targets.length > 5) {
        problems.push(
          `${path}.targets must list 2 to 5 parties (a group call supports up to 5 VoIP users; for one, use kind 'p2p'), got ${
            Array.isArray(request.targets) ? request.targets.length : describe(request.targets)
          }`,
        );
      } else {
        request.targets.forEach((target, index) => {
          problems.push(...identityProblems(target, `${path}.targets[${index}]`));
        });
      }
      problems.push(...optionalStringProblems(request, 'subject', path));
      break;
    case 'meeting':
      if (!isObject(request.chatInfo) || !isNonEmptyString(request.chatInfo.threadId)) {
        problems.push(`${path}.chatInfo.threadId must be the meeting chat's thread id (19:…@thread.v2)`);
      }
      problems.push(...identityProblems(request.organizer, `${path}.organizer`));
      if (
        request.allowConversationWithoutHost !== undefined &&
        typeof request.allowConversationWithoutHost !== 'boolean'
      ) {
        problems.push(`${path}.allowConversationWithoutHost must be true or false`);
      }
      if (request.guest !== undefined) {
        const guest = request.guest;
        if (!isObject(guest) || !isNonEmptyString(guest.id) || !isNonEmptyString(guest.displayName)) {
          problems.push(`${path}.guest must be { "id": "…", "displayName": "…" }, got ${describe(guest)}`);
        }
      }
      problems.push(...optionalStringProblems(request, 'subject', path));
      break;
    case 'joinMeetingId':
      if (!isNonEmptyString(request.joinMeetingId)) {
        problems.push(
          `${path}.joinMeetingId must be the meeting's join id, got ${describe(request.joinMeetingId)}`,
        );
      }
      problems.push(...optionalStringProblems(request, 'passcode', path));
      problems.push(...optionalStringProblems(request, 'subject', path));
      break;
  }
  return problems;
}

/** What is wrong with a botCall's start input. */
export function botCallInputProblems(input: unknown): string[] {
  if (!isObject(input)) return [`the input must be an object, got ${describe(input)}`];
  const problems = callRequestProblems(input.request);
  if (!(typeof input.callbackUri === 'string' && /^https?:\/\/\S+$/.test(input.callbackUri))) {
    problems.push(
      `callbackUri must be an http(s) URL naming this workflow, got ${describe(input.callbackUri)}`,
    );
  }
  if (!isNonEmptyString(input.botAppId)) problems.push("botAppId must be the bot's application id");
  if (input.tenantId !== undefined && !isNonEmptyString(input.tenantId)) {
    problems.push('tenantId must be a non-empty string when given');
  }
  if (input.timeouts !== undefined) {
    if (!isObject(input.timeouts)) problems.push('timeouts must be an object of milliseconds');
    else {
      for (const [name, value] of Object.entries(input.timeouts)) {
        if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
          problems.push(`timeouts.${name} must be a positive number of milliseconds, got ${describe(value)}`);
        }
      }
    }
  }
  if (
    input.keepAliveIntervalMs !== undefined &&
    !(typeof input.keepAliveIntervalMs === 'number' && input.keepAliveIntervalMs > 0)
  ) {
    problems.push('keepAliveIntervalMs must be a positive number of milliseconds');
  }
  return problems;
}

/** What the call must be for an update to be accepted: the workflow's own state. */
export interface UpdateContext {
  requestKind: CallRequestKind;
  phase: string;
  callId?: string;
  /** The workflow is hanging up or has seen the call end. */
  closing: boolean;
  /** clientContexts of earlier operations on this call: Graph's reports are matched by it. */
  usedClientContexts: readonly string[];
}

/** Why no update can run on the call now, if so. */
export function callNotReadyProblem(context: UpdateContext, what: string): string | undefined {
  if (context.requestKind === 'p2p' || context.requestKind === 'pstn') {
    return `cannot ${what}: this is a ${context.requestKind === 'p2p' ? 'peer-to-peer' : 'PSTN'} call, and participants can only be invited into a group call with chatInfo (a meeting or group call; seed 003, example 2)`;
  }
  if (context.closing || ['ended', 'failed', 'cancelled'].includes(context.phase)) {
    return `cannot ${what}: call ${context.callId ?? '(never created)'} has ended or is being hung up`;
  }
  if (context.phase !== 'established' || context.callId === undefined) {
    return `cannot ${what}: the call is not established yet (phase ${context.phase}); retry once the botCallState query says established`;
  }
  return undefined;
}

function clientContextProblems(clientContext: unknown, context: UpdateContext): string[] {
  if (clientContext === undefined) return [];
  if (typeof clientContext !== 'string' || clientContext.length === 0) {
    return ['clientContext must be a non-empty string when given'];
  }
  if (clientContext.length > MAX_CLIENT_CONTEXT_LENGTH) {
    return [`clientContext is at most ${MAX_CLIENT_CONTEXT_LENGTH} characters, got ${clientContext.length}`];
  }
  if (context.usedClientContexts.includes(clientContext)) {
    return [
      `clientContext ${describe(clientContext)} was already used on this call: give a fresh one (Graph's reports are matched by it)`,
    ];
  }
  return [];
}

function callIdProblems(value: unknown, name: string, context: UpdateContext): string[] {
  if (!isNonEmptyString(value)) return [`${name} must be a call id, got ${describe(value)}`];
  if (context.callId !== undefined && bareCallId(value).toLowerCase() === context.callId.toLowerCase()) {
    return [`${name} ${value} is this very call: name the other call`];
  }
  return [];
}

/** What is wrong with an inviteParticipants update (seed 003, examples 1, 2, 4). */
export function inviteRequestProblems(request: unknown, context: UpdateContext): string[] {
  const notReady = callNotReadyProblem(context, 'invite participants');
  if (notReady) return [notReady];
  if (!isObject(request)) return [`the invite must be { "participants": [...] }, got ${describe(request)}`];
  const { participants } = request;
  if (!Array.isArray(participants) || participants.length === 0) {
    return ['participants must list at least one party to invite'];
  }
  if (participants.length > MAX_INVITEES) {
    return [`at most ${MAX_INVITEES} participants can be invited in one request, got ${participants.length}`];
  }
  const problems: string[] = [];
  participants.forEach((participant, index) => {
    const path = `participants[${index}]`;
    if (!isObject(participant)) {
      problems.push(`${path} must be { "identity": {...} }, got ${describe(participant)}`);
      return;
    }
    problems.push(...identityProblems(participant.identity, `${path}.identity`));
    if (participant.replacesCallId !== undefined || participant.participantId !== undefined) {
      problems.push(
        `${path}: replacesCallId and participantId belong to transferIntoCall and moveParticipant, not to an invite`,
      );
    }
    for (const name of ['endpointType', 'languageId', 'region']) {
      problems.push(...optionalStringProblems(participant, name, path));
    }
  });
  problems.push(...clientContextProblems(request.clientContext, context));
  return problems;
}

/** What is wrong with a transferIntoCall update (seed 003, example 3). */
export function transferIntoCallProblems(request: unknown, context: UpdateContext): string[] {
  const notReady = callNotReadyProblem(context, 'transfer a call into this one');
  if (notReady) return [notReady];
  if (!isObject(request)) {
    return [
      `the transfer must be { "participant": { "identity": {...} }, "replacesCallId": "…" }, got ${describe(request)}`,
    ];
  }
  if (request.participants !== undefined) {
    return [
      'transferIntoCall takes exactly one participant, as `participant`: with replacesCallId Graph reads only the first participant and ignores the rest (seed 003, example 3)',
    ];
  }
  const problems: string[] = [];
  if (!isObject(request.participant)) {
    problems.push('participant must be exactly one party: { "identity": {...} }');
  } else {
    problems.push(...identityProblems(request.participant.identity, 'participant.identity'));
  }
  problems.push(...callIdProblems(request.replacesCallId, 'replacesCallId', context));
  return problems;
}

/** What is wrong with a moveParticipant update (seed 003, example 5). */
export function moveParticipantProblems(request: unknown, context: UpdateContext): string[] {
  const notReady = callNotReadyProblem(context, 'move a participant into this call');
  if (notReady) return [notReady];
  if (!isObject(request)) {
    return [
      `the move must be { "participantId": "…", "identity": {...}, "replacesCallId": "…" }, got ${describe(request)}`,
    ];
  }
  if (request.participants !== undefined) {
    return [
      'moveParticipant moves exactly one participant per request (seed 003, example 5): give participantId and identity, not participants',
    ];
  }
  const problems: string[] = [];
  if (!isNonEmptyString(request.participantId)) {
    problems.push(
      `participantId must be the participant's id in the source meeting, got ${describe(request.participantId)}`,
    );
  }
  problems.push(...identityProblems(request.identity, 'identity'));
  problems.push(...callIdProblems(request.replacesCallId, 'replacesCallId', context));
  return problems;
}

/** What is wrong with a transferParticipant update ("call: transfer" out of a group call, v1.0). */
export function transferParticipantProblems(
  request: unknown,
  context: UpdateContext & { transferInFlight: boolean },
): string[] {
  if (context.requestKind === 'p2p' || context.requestKind === 'pstn') {
    return [
      `cannot transfer a participant out of this call: it is a ${context.requestKind === 'p2p' ? 'peer-to-peer' : 'PSTN'} call; transferee applies to group calls (a P2P call is handed on whole: POST /api/incoming-calls/:callId/transfer)`,
    ];
  }
  const notReady = callNotReadyProblem(context, 'transfer a participant');
  if (notReady) return [notReady];
  if (context.transferInFlight) {
    return [
      'a transfer out of this call is still running: one at a time (Graph reports transferring per call)',
    ];
  }
  if (!isObject(request)) {
    return [
      `the transfer must be { "transferTarget": { "identity": {...} }, "transferee": { "identity": {...}, "participantId"? } }, got ${describe(request)}`,
    ];
  }
  const problems: string[] = [];
  if (!isObject(request.transferTarget)) {
    problems.push(`transferTarget must be { "identity": {...} }, got ${describe(request.transferTarget)}`);
  } else {
    problems.push(...identityProblems(request.transferTarget.identity, 'transferTarget.identity'));
  }
  if (!isObject(request.transferee)) {
    problems.push(
      `transferee must name the participant to transfer, { "identity": {...}, "participantId"? } (required out of a group call), got ${describe(request.transferee)}`,
    );
  } else {
    problems.push(...identityProblems(request.transferee.identity, 'transferee.identity'));
    const participantId = request.transferee.participantId;
    if (participantId !== undefined && !isNonEmptyString(participantId)) {
      problems.push(
        `transferee.participantId must be a non-empty string when given, got ${describe(participantId)}`,
      );
    }
  }
  for (const key of Object.keys(request)) {
    if (key !== 'transferTarget' && key !== 'transferee') problems.push(`unknown field ${key}`);
  }
  return problems;
}
