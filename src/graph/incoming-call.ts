/**
 * The two answers to an incoming call other than `answer` (Graph v1.0 "call: redirect" and
 * "call: reject"): both must come within Graph's 15 s window, both are answered 202 without a
 * body, and what became of the call arrives as notifications on the callbackUri they name.
 */
import { z } from 'zod';
import { caseInsensitiveEnum } from './odata.js';
import { inviteeSchema, participantInfoSchema } from './participant.js';

/** Graph rings at most 25 targets at once (simultaneous ring). */
export const MAX_REDIRECT_TARGETS = 25;
/** The redirect's own ringing timeout: 15 to 90 s inclusive (Graph's default is 55 s, 60 s for several). */
export const MIN_REDIRECT_TIMEOUT_SECONDS = 15;
export const MAX_REDIRECT_TIMEOUT_SECONDS = 90;

/**
 * POST /communications/calls/{id}/redirect. `maskCallee`/`maskCaller` are documented on the beta
 * endpoint only; they are sent only when set, so a v1.0 request without them is the page's own.
 */
export const redirectCallRequestSchema = z.strictObject({
  targets: z
    .array(inviteeSchema)
    .min(1, 'targets must name at least one participant to redirect the call to')
    .max(MAX_REDIRECT_TARGETS, `Graph rings at most ${MAX_REDIRECT_TARGETS} targets at once`),
  timeout: z
    .number()
    .int()
    .min(
      MIN_REDIRECT_TIMEOUT_SECONDS,
      `timeout must be ${MIN_REDIRECT_TIMEOUT_SECONDS} to ${MAX_REDIRECT_TIMEOUT_SECONDS} seconds`,
    )
    .max(
      MAX_REDIRECT_TIMEOUT_SECONDS,
      `timeout must be ${MIN_REDIRECT_TIMEOUT_SECONDS} to ${MAX_REDIRECT_TIMEOUT_SECONDS} seconds`,
    )
    .optional(),
  maskCallee: z.boolean().optional(),
  maskCaller: z.boolean().optional(),
  callbackUri: z.url().optional(),
});
export type RedirectCallRequest = z.output<typeof redirectCallRequestSchema>;

export const rejectReasons = ['none', 'busy', 'forbidden'] as const;
export type RejectReason = (typeof rejectReasons)[number];

/** POST /communications/calls/{id}/reject. */
export const rejectCallRequestSchema = z.strictObject({
  reason: caseInsensitiveEnum(rejectReasons).optional(),
  callbackUri: z.url().optional(),
});
export type RejectCallRequest = z.output<typeof rejectCallRequestSchema>;

/**
 * POST /communications/calls/{id}/transfer ("call: transfer", v1.0): blind transfer of a call the
 * bot holds to `transferTarget` (a user, an application instance, or, from an application
 * instance only, a phone number in E.164); `transferee` names who is transferred out of a group
 * call and is required there. Answered 202; the call then reports `transferring`,
 * `transferAccepted` and `terminated`, or returns to `established` with `resultInfo` when the
 * transfer failed. Not in this module's title, but it shares the 202-then-notifications shape.
 */
export const transferCallRequestSchema = z.strictObject({
  transferTarget: inviteeSchema,
  transferee: participantInfoSchema.optional(),
  clientContext: z.string().max(256).optional(),
});
export type TransferCallRequest = z.output<typeof transferCallRequestSchema>;
