/**
 * The body of `POST /api/transfers`, validated with the Graph schemas from src/graph so that a
 * transfer that could never work (an invitee without an id, a phone number Graph would refuse)
 * is refused here, before a workflow exists.
 */
import { z } from 'zod';
import {
  chatInfoSchema,
  e164Schema,
  type IdentitySet,
  identitySetSchema,
  mediaInfoSchema,
  primaryIdentity,
} from '../graph/index.js';
import { bareCallId } from '../workflows/call-id.js';
import type { TransferPolicy, TransferTarget, TransferTimeouts } from '../workflows/transfer/types.js';
import { HttpError } from './errors.js';
import { isValidWorkflowId } from './workflow-id.js';

/** An identitySet that names somebody: at least one identity with an id; a phone id in E.164. */
export const partySchema = identitySetSchema.superRefine((identitySet, ctx) => {
  if (!primaryIdentity(identitySet)) {
    ctx.addIssue({
      code: 'custom',
      message: 'needs at least one identity with an id (user, application, phone, guest, …)',
    });
  }
  const phoneId = identitySet.phone?.id;
  if (phoneId != null) {
    const phone = e164Schema.safeParse(phoneId);
    if (!phone.success) {
      ctx.addIssue({
        code: 'custom',
        message: phone.error.issues[0]?.message ?? 'invalid',
        path: ['phone', 'id'],
      });
    }
  }
});

/**
 * The one party a transfer moves. A list is refused with a message that says why: with
 * `replacesCallId` Graph uses only the first participant (design.md), so a transfer takes one invitee.
 */
const inviteeSchema = z
  .custom<unknown>((value) => !Array.isArray(value), {
    message:
      'invitee must be one identitySet, not a list: a transfer moves the one caller of the P2P call; start one transfer per call',
  })
  .pipe(partySchema);

const subjectSchema = z.string().min(1).max(256);

export const transferTargetSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('meeting'),
      chatInfo: chatInfoSchema,
      organizer: partySchema,
      subject: subjectSchema.optional(),
      // Join as a guest, who may wait in the lobby (create call example 10).
      guest: z
        .strictObject({
          id: z.string().min(1, 'guest.id must not be empty'),
          displayName: z.string().min(1).max(256),
        })
        .optional(),
    }),
    // A new group call ringing 2 to 5 VoIP users (create call example 3); one party would make
    // it a P2P call, which cannot take the caller with replacesCallId.
    z.strictObject({
      kind: z.literal('groupCall'),
      targets: z
        .array(partySchema)
        .min(2, 'a group call target needs at least 2 parties (a P2P call cannot take the caller)')
        .max(5, 'a group call target has at most 5 parties'),
      subject: subjectSchema.optional(),
    }),
    z.strictObject({
      kind: z.literal('joinMeetingId'),
      joinMeetingId: z.string().min(1, 'joinMeetingId must not be empty'),
      passcode: z.string().min(1).optional(),
      subject: subjectSchema.optional(),
    }),
  ],
  { error: "target.kind must be 'meeting', 'joinMeetingId' or 'groupCall'" },
);

const timeoutMsSchema = z
  .int()
  .min(1_000)
  .max(24 * 60 * 60 * 1000);

export const transferTimeoutsSchema = z.strictObject({
  callEstablishedMs: timeoutMsSchema.optional(),
  inviteCompletedMs: timeoutMsSchema.optional(),
  originalCallEndedMs: timeoutMsSchema.optional(),
  endDetailsMs: timeoutMsSchema.optional(),
  lobbyMs: timeoutMsSchema.optional(),
});

// Call ownership around the transfer (issue 10, docs/call-ownership.md): what to do when the
// target fails, and with the bot's own leg once the caller is in.
export const botLegPolicySchema = z.enum(['leave', 'stay'], {
  error:
    "botLegAfterTransfer must be 'leave' (hang up the bot's leg once the caller is in) or 'stay' (keep it, as the group call's owner)",
});
export const stayMaxDurationMsSchema = z
  .int()
  .min(1_000)
  .max(7 * 24 * 60 * 60 * 1000);
const transferPolicyFields = {
  fallbackTarget: transferTargetSchema.optional(),
  botLegAfterTransfer: botLegPolicySchema.optional(),
  stayMaxDurationMs: stayMaxDurationMsSchema.optional(),
};

export const transferRequestSchema = z.strictObject({
  callId: z
    .string({ error: 'callId is required: the id of the P2P call to transfer' })
    // `/communications/calls/{id}` names the same call: notifications say the bare id.
    .transform(bareCallId)
    .refine((callId) => isValidWorkflowId(`transfer-${callId}`), {
      message:
        "callId must be a Graph call id: letters, digits, '.', '_', ':' or '-', at most 190 characters",
    }),
  target: transferTargetSchema,
  invitee: inviteeSchema,
  timeouts: transferTimeoutsSchema.optional(),
  preFetchMedia: z.array(mediaInfoSchema).max(20).optional(),
  alreadyAnswered: z.boolean().optional(),
  ...transferPolicyFields,
});

export interface TransferRequest extends TransferPolicy {
  callId: string;
  target: TransferTarget;
  invitee: IdentitySet;
  timeouts?: Partial<TransferTimeouts>;
  preFetchMedia?: z.output<typeof mediaInfoSchema>[];
  alreadyAnswered?: boolean;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
}

/** Parses a transfer request; a 400 names every field that is wrong. */
export function parseTransferRequest(body: unknown): TransferRequest {
  const parsed = transferRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data satisfies TransferRequest;
  const issues = parsed.error.issues.map((issue) => ({
    path: formatPath(issue.path) || '(body)',
    message: issue.message,
  }));
  throw new HttpError(
    400,
    'invalid_transfer_request',
    `invalid transfer request: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    { issues },
  );
}
