import { z } from 'zod';
import { caseInsensitiveEnum } from './odata.js';
import { invitationParticipantInfoSchema, inviteeSchema } from './participant.js';
import { resultInfoSchema } from './result-info.js';

export const operationStatuses = ['notStarted', 'running', 'completed', 'failed'] as const;
export type OperationStatus = (typeof operationStatuses)[number];

/** `running` in seed 000, `Running` in seeds 001 and 003: any case, canonical spelling out. */
export const operationStatusSchema = caseInsensitiveEnum(operationStatuses);

export function isTerminalOperationStatus(status: OperationStatus): boolean {
  return status === 'completed' || status === 'failed';
}

/**
 * microsoft.graph.commsOperation and its subtypes (inviteParticipantsOperation carries the
 * invitees). `id` may be null in a notification (seed 003, example 2): such an operation can
 * only be matched by its clientContext.
 */
export const commsOperationSchema = z.looseObject({
  '@odata.type': z.string().optional(),
  '@odata.id': z.string().optional(),
  id: z.string().nullish(),
  status: operationStatusSchema,
  clientContext: z.string().nullish(),
  resultInfo: resultInfoSchema.nullish(),
  createdDateTime: z.string().nullish(),
  lastActionDateTime: z.string().nullish(),
  participants: z.array(invitationParticipantInfoSchema).nullish(),
});
export type CommsOperation = z.output<typeof commsOperationSchema>;

/** Graph's documented limits for participants/invite (seeds 001, 003). */
export const MAX_INVITEES = 5;
export const MAX_CLIENT_CONTEXT_LENGTH = 256;

export const clientContextSchema = z
  .string()
  .max(MAX_CLIENT_CONTEXT_LENGTH, `clientContext is at most ${MAX_CLIENT_CONTEXT_LENGTH} characters`);

/** POST /communications/calls/{id}/participants/invite. Phone invitees must be E.164 (inviteeSchema). */
export const inviteParticipantsRequestSchema = z.looseObject({
  participants: z
    .array(inviteeSchema)
    .min(1, 'participants needs at least one invitee')
    .max(MAX_INVITEES, `at most ${MAX_INVITEES} participants can be invited in one request`),
  clientContext: clientContextSchema.optional(),
});
export type InviteParticipantsRequest = z.output<typeof inviteParticipantsRequestSchema>;
