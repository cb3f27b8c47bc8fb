import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type IdentitySet, identitySetSchema, type Modality, modalitySchema } from '../graph/index.js';
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
  const call: SimulatedCall = {
    id: callId,
    kind: 'p2p',
    direction: 'incoming',
    state: 'incoming',
    deleted: false,
    callbackUri: botUrl,
    source: participantInfo(caller),
    targets: [
      { ...participantInfo(deps.botIdentity), '@odata.type': '#microsoft.graph.invitationParticipantInfo' },
    ],
    requestedModalities,
    activeModalities: [],
    tenantId: deps.tenantId,
    callChainId: randomUUID(),
    myParticipantId: randomUUID(),
    participants: [],
    operations: [],
    version: 1,
    createdAt: new Date(),
  };
  call.participants.push(
    makeParticipant(randomUUID(), caller, requestedModalities),
    makeParticipant(call.myParticipantId, deps.botIdentity, requestedModalities, { firstSourceId: 10 }),
  );
  deps.store.add(call);
  deps.notifier.post([incomingNotification(call)]);
  return { callId };
}
