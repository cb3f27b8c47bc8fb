import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  type ChatInfo,
  chatInfoSchema,
  type IdentitySet,
  identitySetSchema,
  type Modality,
  modalitySchema,
} from '../graph/index.js';
import type { CallingDeps } from './calling.js';
import { incomingNotification, makeParticipant, participantInfo } from './resources.js';
import { SimulatorConfigError } from './settings.js';
import type { SimulatedCall } from './state.js';

export interface IncomingCallOptions {
  /** The bot's registered calling URL, where Graph posts the incoming-call notification. */
  botUrl: string;
  /** Who calls; the seeds' "Test User" when omitted. */
  caller?: IdentitySet;
  callId?: string;
  /** What the caller offers; audio and video (seeds 000/001) when omitted. */
  requestedModalities?: Modality[];
}

/** The caller in seeds 000 and 001. */
export const defaultCaller: IdentitySet = {
  user: { id: '8a34a46b-3d17-4adc-8dce-dc4e7d572698', displayName: 'Test User' },
};

const incomingCallOptionsSchema = z.strictObject({
  botUrl: z.url({ protocol: /^https?$/, error: 'botUrl must be an http(s) URL' }),
  caller: identitySetSchema.optional(),
  callId: z
    .string()
    .regex(/^[\w-]+$/, 'callId may hold only letters, digits, _ and -')
    .optional(),
  requestedModalities: z.array(modalitySchema).optional(),
});

/** A P2P call from `caller` to `callee` (the bot, or whoever answered), with both in its roster. */
function p2pCallTo(
  deps: CallingDeps,
  options: {
    callId: string;
    state: SimulatedCall['state'];
    callbackUri: string;
    caller: IdentitySet;
    callee: IdentitySet;
    requestedModalities: Modality[];
    activeModalities: Modality[];
  },
): SimulatedCall {
  const { caller, callee, requestedModalities } = options;
  const call: SimulatedCall = {
    id: options.callId,
    kind: 'p2p',
    flow: 'incoming',
    direction: 'incoming',
    state: options.state,
    deleted: false,
    callbackUri: options.callbackUri,
    source: participantInfo(caller),
    targets: [{ ...participantInfo(callee), '@odata.type': '#microsoft.graph.invitationParticipantInfo' }],
    requestedModalities,
    activeModalities: options.activeModalities,
    tenantId: deps.tenantId,
    callChainId: randomUUID(),
    myParticipantId: randomUUID(),
    participants: [],
    rosterSequenceNumber: 0,
    operations: [],
    version: 1,
    createdAt: new Date(),
  };
  call.participants.push(
    makeParticipant(randomUUID(), caller, requestedModalities),
    makeParticipant(call.myParticipantId, callee, requestedModalities, { firstSourceId: 10 }),
  );
  return call;
}

/**
 * Someone calls the bot: a P2P call in state incoming (seed 001, step 1) whose `created`
 * notification goes to botUrl. The bot has to answer it with POST /calls/{id}/answer.
 */
export function placeIncomingCall(deps: CallingDeps, options: IncomingCallOptions): { callId: string } {
  const parsed = incomingCallOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new SimulatorConfigError(`invalid incoming call:\n${z.prettifyError(parsed.error)}`);
  }
  const { botUrl, caller = defaultCaller, callId = randomUUID() } = parsed.data;
  if (deps.store.get(callId)) {
    throw new SimulatorConfigError(`invalid incoming call: callId ${callId} is already in use`);
  }
  const requestedModalities = parsed.data.requestedModalities ?? ['audio', 'video'];
  const call = p2pCallTo(deps, {
    callId,
    state: 'incoming',
    callbackUri: botUrl,
    caller,
    callee: deps.botIdentity,
    requestedModalities,
    activeModalities: [],
  });
  deps.store.add(call);
  deps.notifier.post([incomingNotification(call)]);
  return { callId };
}

export interface AnsweredCallOptions {
  /** Where Graph sends this call's notifications: the system that answered it, not Handoff. */
  callbackUri: string;
  /** Who calls; the seeds' "Test User" when omitted. */
  caller?: IdentitySet;
  callId?: string;
  /** Who answered; the simulator's bot (the same application, run by another system) when omitted. */
  answeredBy?: IdentitySet;
  /** What the call carries; audio when omitted. */
  requestedModalities?: Modality[];
}

const answeredCallOptionsSchema = z.strictObject({
  callbackUri: z.url({ protocol: /^https?$/, error: 'callbackUri must be an http(s) URL' }),
  caller: identitySetSchema.optional(),
  callId: incomingCallOptionsSchema.shape.callId,
  answeredBy: identitySetSchema.optional(),
  requestedModalities: z.array(modalitySchema).optional(),
});

/**
 * A P2P call another system answered and holds (issue 5, item 5): established, with its
 * notifications going to that system's callbackUri. Handoff can still replace it (invite with
 * replacesCallId); its terminated/deleted notifications then go to that callback, never to
 * Handoff's. Nothing is posted when it is placed: the other system saw it ring and answered.
 */
export function placeAnsweredCall(deps: CallingDeps, options: AnsweredCallOptions): { callId: string } {
  const parsed = answeredCallOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new SimulatorConfigError(`invalid answered call:\n${z.prettifyError(parsed.error)}`);
  }
  const { callbackUri, caller = defaultCaller, callId = randomUUID() } = parsed.data;
  if (deps.store.get(callId)) {
    throw new SimulatorConfigError(`invalid answered call: callId ${callId} is already in use`);
  }
  const answeredBy = parsed.data.answeredBy ?? deps.botIdentity;
  const requestedModalities = parsed.data.requestedModalities ?? ['audio'];
  const call = p2pCallTo(deps, {
    callId,
    state: 'established',
    callbackUri,
    caller,
    callee: answeredBy,
    requestedModalities,
    activeModalities: [...requestedModalities],
  });
  deps.store.add(call);
  return { callId };
}

/** The application that holds placeGroupCall's calls unless told otherwise: not the bot. */
export const OTHER_APPLICATION_ID = 'c8f5e0d2-7a41-4b9e-9f3d-2a6b1e0c4d57';

export interface GroupCallOptions {
  /** Where Graph sends the call's notifications: its owner's callback. */
  callbackUri: string;
  /** Who is in the call besides its owner. */
  participants: IdentitySet[];
  /**
   * The application that created and holds the call: another application than the bot when
   * omitted, so that moving a participant out of it fails (participant-invite page, example 5).
   * The bot's app id makes it the bot's own.
   */
  appId?: string;
  /** A generated chat thread when omitted. */
  chatInfo?: ChatInfo;
  subject?: string;
}

const groupCallOptionsSchema = z.strictObject({
  callbackUri: z.url({ protocol: /^https?$/, error: 'callbackUri must be an http(s) URL' }),
  participants: z.array(identitySetSchema),
  appId: z
    .string()
    .regex(/^[\w.-]+$/, 'appId must be an application id of letters, digits, ., _ or -')
    .optional(),
  chatInfo: chatInfoSchema.optional(),
  subject: z.string().optional(),
});

export interface PlacedGroupCall {
  callId: string;
  /** The roster besides the owner: participant ids to move (invite with participantId). */
  participants: Array<{ id: string; identity: IdentitySet }>;
}

/**
 * An established group call (a meeting with chatInfo) that already exists, with these
 * participants in its roster. Nothing is posted when it is placed.
 */
export function placeGroupCall(deps: CallingDeps, options: GroupCallOptions): PlacedGroupCall {
  const parsed = groupCallOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new SimulatorConfigError(`invalid group call:\n${z.prettifyError(parsed.error)}`);
  }
  const { callbackUri, participants, appId = OTHER_APPLICATION_ID, chatInfo, subject } = parsed.data;
  const owner: IdentitySet =
    appId === deps.appId
      ? deps.botIdentity
      : { application: { id: appId, displayName: 'Another application' } };
  const callId = randomUUID();
  const call: SimulatedCall = {
    id: callId,
    kind: 'group',
    flow: 'groupCall',
    appId,
    direction: 'outgoing',
    state: 'established',
    deleted: false,
    callbackUri,
    ...(subject ? { subject } : {}),
    source: participantInfo(owner),
    targets: participants.map((identity) => ({
      ...participantInfo(identity),
      '@odata.type': '#microsoft.graph.invitationParticipantInfo',
    })),
    requestedModalities: ['audio'],
    activeModalities: ['audio'],
    chatInfo: chatInfo ?? {
      '@odata.type': '#microsoft.graph.chatInfo',
      threadId: `19:simulated-group-call-${callId}@thread.v2`,
      messageId: '0',
    },
    tenantId: deps.tenantId,
    callChainId: randomUUID(),
    myParticipantId: randomUUID(),
    participants: [],
    rosterSequenceNumber: 0,
    operations: [],
    version: 1,
    createdAt: new Date(),
  };
  call.participants.push(makeParticipant(call.myParticipantId, owner, ['audio'], { firstSourceId: 10 }));
  participants.forEach((identity, index) => {
    call.participants.push(makeParticipant(randomUUID(), identity, ['audio'], { firstSourceId: index + 1 }));
  });
  deps.store.add(call);
  return {
    callId,
    participants: call.participants
      .filter((participant) => participant.id !== call.myParticipantId)
      .map((participant) => ({ id: participant.id as string, identity: participant.info.identity })),
  };
}
