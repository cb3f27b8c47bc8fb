import { z } from 'zod';
import { mediaConfigSchema, modalitySchema } from './media.js';
import { chatInfoSchema, meetingInfoSchema } from './meeting.js';
import { caseInsensitiveEnum } from './odata.js';
import { invitationParticipantInfoSchema, inviteeSchema, participantInfoSchema } from './participant.js';
import { resultInfoSchema } from './result-info.js';

export const callStates = [
  'incoming',
  'establishing',
  'ringing',
  'established',
  'hold',
  'transferring',
  'transferAccepted',
  'redirecting',
  'terminating',
  'terminated',
  'unknownFutureValue',
] as const;
export type CallState = (typeof callStates)[number];
export const callStateSchema = caseInsensitiveEnum(callStates);

export const callDirectionSchema = caseInsensitiveEnum(['incoming', 'outgoing'] as const);
export type CallDirection = z.output<typeof callDirectionSchema>;

/**
 * The old walkthroughs (seeds 000, 001) name the notification address `callback`; the current
 * API names it `callbackUri`. Accept either, emit `callbackUri`.
 */
// A key-remapping mapped type, unlike Omit, keeps the named members of a loose object
// (which has an index signature) instead of collapsing them into it.
type WithoutCallback<T> = { [K in keyof T as K extends 'callback' | 'callbackUri' ? never : K]: T[K] };

function withCallbackUri<
  T extends { callback?: string | null | undefined; callbackUri?: string | null | undefined },
>(value: T): WithoutCallback<T> & { callbackUri?: string } {
  const { callback, callbackUri, ...rest } = value;
  const uri = callbackUri ?? callback;
  const withoutCallback = rest as unknown as WithoutCallback<T>;
  return uri ? { ...withoutCallback, callbackUri: uri } : withoutCallback;
}

/**
 * microsoft.graph.call as Graph returns it and as notifications carry it. Notifications carry
 * only what changed, so every member is optional; unknown members are kept.
 */
export const callSchema = z
  .looseObject({
    '@odata.type': z.string().optional(),
    '@odata.id': z.string().optional(),
    id: z.string().nullish(),
    state: callStateSchema.nullish(),
    direction: callDirectionSchema.nullish(),
    subject: z.string().nullish(),
    callback: z.string().nullish(),
    callbackUri: z.string().nullish(),
    source: participantInfoSchema.nullish(),
    targets: z.array(invitationParticipantInfoSchema).nullish(),
    requestedModalities: z.array(modalitySchema).nullish(),
    activeModalities: z.array(modalitySchema).nullish(),
    mediaConfig: mediaConfigSchema.nullish(),
    chatInfo: chatInfoSchema.nullish(),
    meetingInfo: meetingInfoSchema.nullish(),
    tenantId: z.string().nullish(),
    myParticipantId: z.string().nullish(),
    callChainId: z.string().nullish(),
    terminationReason: z.string().nullish(),
    resultInfo: resultInfoSchema.nullish(),
  })
  .transform(withCallbackUri);
export type Call = z.output<typeof callSchema>;

const callbackFields = {
  callback: z.url().optional(),
  callbackUri: z.url().optional(),
};

function requireCallbackUri(
  value: { callback?: string | undefined; callbackUri?: string | undefined },
  ctx: z.RefinementCtx,
) {
  if (!value.callbackUri && !value.callback) {
    ctx.addIssue({ code: 'custom', message: 'callbackUri is required', path: ['callbackUri'] });
  }
}

/**
 * POST /communications/calls/{id}/answer. The walkthroughs (seeds 000, 001) send
 * `acceptModalities`; the reference names it `acceptedModalities`. Normalised to the latter.
 */
export const answerCallRequestSchema = z
  .looseObject({
    ...callbackFields,
    acceptedModalities: z.array(modalitySchema).optional(),
    acceptModalities: z.array(modalitySchema).optional(),
    mediaConfig: mediaConfigSchema,
    participantCapacity: z.number().int().positive().optional(),
  })
  .superRefine(requireCallbackUri)
  .transform(({ acceptModalities, acceptedModalities, ...rest }) => {
    const modalities = acceptedModalities ?? acceptModalities;
    return { ...withCallbackUri(rest), ...(modalities ? { acceptedModalities: modalities } : {}) };
  });
export type AnswerCallRequest = z.output<typeof answerCallRequestSchema>;

/** POST /communications/calls: create a P2P or group call, or join a meeting (seed 004). */
export const createCallRequestSchema = z
  .looseObject({
    '@odata.type': z.string().optional(),
    ...callbackFields,
    subject: z.string().nullish(),
    direction: callDirectionSchema.optional(),
    source: participantInfoSchema.optional(),
    // PSTN targets must be E.164 numbers (seed 004, example 11): see inviteeSchema.
    targets: z.array(inviteeSchema).optional(),
    targetDisposition: z.string().optional(),
    requestedModalities: z.array(modalitySchema),
    mediaConfig: mediaConfigSchema.optional(),
    chatInfo: chatInfoSchema.optional(),
    meetingInfo: meetingInfoSchema.optional(),
    tenantId: z.string().optional(),
    callOptions: z.looseObject({}).optional(),
  })
  .superRefine(requireCallbackUri)
  .transform(withCallbackUri);
export type CreateCallRequest = z.output<typeof createCallRequestSchema>;
