import { z } from 'zod';
import { e164Schema, identitySetSchema } from './identity.js';

export const endpointTypes = [
  'default',
  'voicemail',
  'skypeForBusiness',
  'skypeForBusinessVoipPhone',
  'unknownFutureValue',
] as const;

/** microsoft.graph.participantInfo: who a call leg is, as Graph reports it. */
export const participantInfoSchema = z.looseObject({
  '@odata.type': z.string().optional(),
  identity: identitySetSchema,
  endpointType: z.string().nullish(),
  region: z.string().nullish(),
  languageId: z.string().nullish(),
  countryCode: z.string().nullish(),
  participantId: z.string().nullish(),
});
export type ParticipantInfo = z.infer<typeof participantInfoSchema>;

/**
 * microsoft.graph.invitationParticipantInfo: a party to invite. `replacesCallId` names the
 * P2P call the invitee leaves (bare id or `/app/calls/{id}` path, seeds 000 and 003);
 * `participantId` names the participant to move between meetings (seed 003, example 5).
 */
export const invitationParticipantInfoSchema = participantInfoSchema.extend({
  replacesCallId: z.string().nullish(),
  hidden: z.boolean().nullish(),
});
export type InvitationParticipantInfo = z.infer<typeof invitationParticipantInfoSchema>;

/**
 * An invitee or call target as Handoff sends it. A PSTN party is named by its phone number in
 * E.164 (seed 003, participant: invite example 4; seed 004, create call example 11), so a request
 * with anything else is refused here rather than by Graph. A refinement, not a narrower shape, so
 * the output type stays InvitationParticipantInfo. What Graph sends back is parsed with
 * invitationParticipantInfoSchema and kept as it is.
 */
export const inviteeSchema = invitationParticipantInfoSchema.superRefine((invitee, ctx) => {
  const phone = invitee.identity.phone;
  if (phone == null) return;
  // A missing id fails the same way: the message then says what the id must be.
  const number = e164Schema.safeParse(phone.id ?? '');
  if (!number.success) {
    ctx.addIssue({
      code: 'custom',
      path: ['identity', 'phone', 'id'],
      message: number.error.issues[0]?.message ?? 'phone id must be an E.164 number',
    });
  }
});

/** `sourceId` is a string in most seeds and a number in seed 002's roster: keep it a string. */
const sourceIdSchema = z.union([z.string(), z.number()]).transform((value) => String(value));

export const mediaStreamSchema = z.looseObject({
  '@odata.type': z.string().optional(),
  mediaType: z.string(),
  label: z.string().nullish(),
  sourceId: sourceIdSchema.nullish(),
  direction: z.string().nullish(),
  serverMuted: z.boolean().nullish(),
});
export type MediaStream = z.infer<typeof mediaStreamSchema>;

/** microsoft.graph.participant: one entry of a call's roster. `id` can be null (seed 003). */
export const participantSchema = z.looseObject({
  '@odata.type': z.string().optional(),
  '@odata.id': z.string().optional(),
  id: z.string().nullish(),
  info: participantInfoSchema,
  mediaStreams: z.array(mediaStreamSchema).nullish(),
  isMuted: z.boolean().nullish(),
  isInLobby: z.boolean().nullish(),
  rosterSequenceNumber: z.number().int().nullish(),
  removedState: z.looseObject({ reason: z.string().nullish() }).nullish(),
});
export type Participant = z.infer<typeof participantSchema>;

/**
 * With delta roster enabled (create-call page, seed 004, example 5) a roster notification
 * carries only what changed, numbered by `sequenceNumber`; removed participants carry
 * `removedState`.
 */
export const deltaParticipantsSchema = z.looseObject({
  '@odata.type': z.string().optional(),
  participants: z.array(participantSchema),
  sequenceNumber: z.number().int(),
});
export type DeltaParticipants = z.infer<typeof deltaParticipantsSchema>;
