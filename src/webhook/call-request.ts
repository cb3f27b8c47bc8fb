/**
 * The bodies of the bot-calls API (`/api/bot-calls`), validated with the Graph schemas from
 * src/graph so that a call or an operation that could never work (a phone number Graph would
 * refuse, six invitees, a transfer naming two parties) is refused here, before Temporal sees it.
 * The workflow's update validators check the rest: what depends on the call (its kind, its state).
 */
import { z } from 'zod';
import {
  chatInfoSchema,
  clientContextSchema,
  e164Schema,
  endpointTypes,
  MAX_INVITEES,
  mediaInfoSchema,
  modalitySchema,
} from '../graph/index.js';
import { botCallWorkflowId } from '../workflows/bot-call/definitions.js';
import type {
  BotCallTimeouts,
  CallRequest,
  InviteRequest,
  MoveParticipantRequest,
  TransferIntoCallRequest,
  TransferParticipantRequest,
} from '../workflows/bot-call/types.js';
import { bareCallId } from '../workflows/call-id.js';
import { HttpError } from './errors.js';
import { partySchema } from './transfer-request.js';
import { isValidWorkflowId } from './workflow-id.js';

const mediaChoiceSchema = z.discriminatedUnion(
  'kind',
  [
    // Joined only to facilitate transfers: no media at all (seed 001, step 2).
    z.strictObject({ kind: z.literal('none') }),
    z.strictObject({
      kind: z.literal('serviceHosted'),
      preFetchMedia: z.array(mediaInfoSchema).max(20).optional(),
    }),
    // The bot's media stack's session blob, passed to Graph untouched (create call, example 2).
    z.strictObject({
      kind: z.literal('appHosted'),
      blob: z.string().min(1, 'blob must be the media session blob of the bot, not empty'),
    }),
  ],
  { error: "media.kind must be 'none', 'serviceHosted' or 'appHosted'" },
);

/** Group calls are VoIP only (create call, examples 3 and 4): a number is called or invited instead. */
const voipPartySchema = partySchema.refine((identitySet) => identitySet.phone == null, {
  message:
    "a phone number cannot be a VoIP target: use kind 'pstn' to call it, or invite it into a group call",
});

const displayNameSchema = z.string().min(1).max(256);

export const callRequestSchema = z.discriminatedUnion(
  'kind',
  [
    // Create call, examples 1 and 2.
    z.strictObject({
      kind: z.literal('p2p'),
      target: voipPartySchema,
      media: mediaChoiceSchema,
      modalities: z.array(modalitySchema).min(1).optional(),
    }),
    // Create call, examples 11 and 12: the source is an application instance with a number.
    z.strictObject({
      kind: z.literal('pstn'),
      phoneNumber: e164Schema,
      applicationInstance: z.strictObject({
        id: z.string().min(1, 'applicationInstance.id must be the object id of the application instance'),
        displayName: displayNameSchema.optional(),
      }),
      media: mediaChoiceSchema,
    }),
    // Create call, examples 3 and 4: up to five VoIP users.
    z.strictObject({
      kind: z.literal('groupCall'),
      targets: z
        .array(voipPartySchema)
        // With one target Graph makes a P2P call, which cannot take invites: that is kind 'p2p'.
        .min(2, "a group call needs at least 2 targets (for one party, use kind 'p2p')")
        .max(MAX_INVITEES, `a group call has at most ${MAX_INVITEES} targets`),
      media: mediaChoiceSchema,
      subject: displayNameSchema.optional(),
    }),
    // Create call, examples 5, 8, 9 (a channel meeting has the same shape) and 10 (guest, lobby).
    z.strictObject({
      kind: z.literal('meeting'),
      chatInfo: chatInfoSchema,
      organizer: partySchema,
      media: mediaChoiceSchema,
      allowConversationWithoutHost: z.boolean().optional(),
      guest: z
        .strictObject({
          id: z.string().min(1, 'guest.id must name the guest identity'),
          displayName: displayNameSchema,
        })
        .optional(),
      subject: displayNameSchema.optional(),
    }),
    // Create call, examples 6 and 7.
    z.strictObject({
      kind: z.literal('joinMeetingId'),
      joinMeetingId: z.string().min(1, 'joinMeetingId must not be empty'),
      passcode: z.string().min(1).optional(),
      media: mediaChoiceSchema,
      subject: displayNameSchema.optional(),
    }),
  ],
  { error: "request.kind must be 'p2p', 'pstn', 'groupCall', 'meeting' or 'joinMeetingId'" },
);

const timeoutMsSchema = z
  .int()
  .min(1_000)
  .max(24 * 60 * 60 * 1000);

export const botCallTimeoutsSchema = z.strictObject({
  establishedMs: timeoutMsSchema.optional(),
  lobbyMs: timeoutMsSchema.optional(),
  operationMs: timeoutMsSchema.optional(),
  rosterMs: timeoutMsSchema.optional(),
  originalCallEndedMs: timeoutMsSchema.optional(),
});

/** `POST /api/bot-calls`. */
export const botCallStartSchema = z.strictObject({
  request: callRequestSchema,
  timeouts: botCallTimeoutsSchema.optional(),
  id: z
    .string()
    .refine((id) => isValidWorkflowId(botCallWorkflowId(id)), {
      message:
        "id must be letters, digits, '.', '_', ':' or '-', at most 190 characters (the workflow id is call-<id>)",
    })
    .optional(),
});

/** A Graph call id, bare or as the `/app/calls/{id}` path older payloads use (seeds 000, 003). */
const callIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\w./:-]+$/, "must be a Graph call id: letters, digits, '-', '_', '.', ':' or '/'")
  // Notifications name the bare id, so a path given here is made bare before it goes anywhere.
  .transform(bareCallId);

const inviteeSchema = z.strictObject({
  identity: partySchema,
  endpointType: z.enum(endpointTypes).optional(),
  languageId: z.string().min(1).max(64).optional(),
  region: z.string().min(1).max(64).optional(),
});

/** `POST /api/bot-calls/:workflowId/invitations` (participant invite, examples 1, 2 and 4). */
export const inviteRequestSchema = z.strictObject({
  participants: z
    .array(inviteeSchema)
    .min(1, 'participants needs at least one invitee')
    .max(MAX_INVITEES, `at most ${MAX_INVITEES} participants can be invited in one request`),
  clientContext: clientContextSchema.optional(),
});

const ONE_PARTICIPANT =
  'a transfer into a call takes exactly one participant, as "participant": { "identity": … }: with replacesCallId Graph uses only the first participant of a list, so send one request per call to transfer';

/** `POST /api/bot-calls/:workflowId/transfers` (participant invite, example 3). */
export const transferIntoCallRequestSchema = z
  .strictObject({
    participant: z
      .custom<unknown>((value) => !Array.isArray(value), { message: ONE_PARTICIPANT })
      .pipe(z.strictObject({ identity: partySchema })),
    replacesCallId: callIdSchema,
    // Graph's own shape is a list; name the rule instead of "unrecognized key".
    participants: z.never({ error: ONE_PARTICIPANT }).optional(),
  })
  .transform(({ participants: _refused, ...request }) => request);

/** `POST /api/bot-calls/:workflowId/moves` (participant invite, example 5). */
export const moveParticipantRequestSchema = z.strictObject({
  participantId: z.string().min(1, 'participantId must be the id of the participant in the source meeting'),
  identity: partySchema,
  replacesCallId: callIdSchema,
});

/** `POST /api/bot-calls/:workflowId/transfers` ("call: transfer" out of a group call, v1.0). */
export const transferParticipantRequestSchema = z.strictObject({
  transferTarget: z
    .strictObject({ identity: partySchema })
    .describe('who Graph rings: a Teams user, an application instance, or a phone number in E.164'),
  transferee: z
    .strictObject({
      identity: partySchema,
      participantId: z.string().min(1, 'transferee.participantId must be non-empty when given').optional(),
    })
    .describe('the participant of this group call to transfer (required out of a group call)'),
});

export interface BotCallStartRequest {
  request: CallRequest;
  timeouts?: Partial<BotCallTimeouts>;
  id?: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
}

/** Parses `body` with `schema`; a 400 with `code` names every field that is wrong. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown, code: string, what: string): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: formatPath(issue.path) || '(body)',
    message: issue.message,
  }));
  throw new HttpError(
    400,
    code,
    `invalid ${what}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    { issues },
  );
}

export function parseBotCallStart(body: unknown): BotCallStartRequest {
  return parseBody(
    botCallStartSchema,
    body,
    'invalid_bot_call_request',
    'bot call request',
  ) satisfies BotCallStartRequest;
}

export function parseInviteRequest(body: unknown): InviteRequest {
  return parseBody(
    inviteRequestSchema,
    body,
    'invalid_invite_request',
    'invite request',
  ) satisfies InviteRequest;
}

export function parseTransferIntoCallRequest(body: unknown): TransferIntoCallRequest {
  return parseBody(
    transferIntoCallRequestSchema,
    body,
    'invalid_transfer_request',
    'transfer request',
  ) satisfies TransferIntoCallRequest;
}

export function parseMoveParticipantRequest(body: unknown): MoveParticipantRequest {
  return parseBody(
    moveParticipantRequestSchema,
    body,
    'invalid_move_request',
    'move request',
  ) satisfies MoveParticipantRequest;
}

export function parseTransferParticipantRequest(body: unknown): TransferParticipantRequest {
  return parseBody(
    transferParticipantRequestSchema,
    body,
    'invalid_transfer_request',
    'transfer request',
  ) satisfies TransferParticipantRequest;
}
