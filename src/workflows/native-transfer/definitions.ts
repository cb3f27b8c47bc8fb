/**
 * The `nativeTransfer` workflow's type, id and input (issue 11.1-2): answer an incoming P2P call
 * and hand it on with Graph's own `call: transfer`, blind or after a consultation call. Shared by
 * the workflow, the routing rules, the HTTP API and the Temporal client; safe outside a workflow.
 *
 * This file is the contract the routing rules (src/webhook) start the workflow with: fields may
 * be added (optional), none removed or renamed.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  IdentitySet,
  InvitationParticipantInfo,
  MediaInfo,
  Modality,
  ResultInfo,
} from '../../graph/index.js';

/** The workflow type the worker registers (src/workflows/index.ts). */
export const NATIVE_TRANSFER_WORKFLOW_TYPE = 'nativeTransfer';

/** One workflow per incoming call, its id derived from the call id like a transfer's. */
export function nativeTransferWorkflowId(callId: string): string {
  return `native-transfer-${callId}`;
}

/**
 * How the call is handed on. `target` is the `transferTarget` Graph receives: a Teams user, an
 * application instance, or a phone number in E.164 (application instance bots only, as the docs
 * say).
 * - `blind`: transfer at once; Graph rings the target and the call leaves the bot.
 * - `consultative`: hold the caller, place a consultation call to the target, and once the target
 *   answered complete the transfer with the consultation call's id as `replacesCallId`: at once
 *   (`complete: 'whenTargetAnswers'`) or when an operator asks (`complete: 'onRequest'`).
 */
export type NativeTransferMode =
  | { kind: 'blind'; target: InvitationParticipantInfo }
  | {
      kind: 'consultative';
      target: InvitationParticipantInfo;
      complete: 'whenTargetAnswers' | 'onRequest';
      /** How long the target may take to answer the consultation call before it is abandoned. */
      consultationTimeoutMs?: number;
    };

export interface NativeTransferInput {
  /** The incoming P2P call (the id from its notification); the workflow answers it first. */
  callId: string;
  /** The caller, from the incoming call's `source.identity`. */
  caller: IdentitySet;
  mode: NativeTransferMode;
  /** This workflow's signed callback URL (`/api/calls/<workflowId>/<callbackKey>`). */
  callbackUri: string;
  /** The bot's application id: the consultation call's `source`. */
  botAppId: string;
  tenantId?: string;
  acceptedModalities?: Modality[];
  preFetchMedia?: MediaInfo[];
  /** Why this call went this way (a routing rule's name), for the UI's `HandoffRoute`. */
  route?: string;
  /**
   * The application instance that places a consultation call to a phone number (a PSTN call's
   * source must be an application instance with a number, create call examples 11-12). Needed
   * only for a consultative transfer to a `phone` target.
   */
  applicationInstance?: { id: string; displayName?: string };
  /** Overrides of the waits (defaults: `defaultNativeTransferTimeouts`). */
  timeouts?: Partial<NativeTransferTimeouts>;
  /** How often to keepAlive the calls the workflow holds; default 15 minutes. */
  keepAliveIntervalMs?: number;
}

export interface NativeTransferTimeouts {
  /** How long the answered call may take to report `established` before it is read from Graph. */
  answerEstablishedMs: number;
  /** How long Graph may take to report how a transfer ended before the call is read from Graph. */
  transferOutcomeMs: number;
  /**
   * How long, after `transferOutcomeMs`, a transfer still `transferring` or `transferAccepted` is
   * followed (the call read every `transferOutcomeMs`) before the bot hangs the call up.
   */
  transferSettleMs: number;
  /** Consultative: how long the target may take to answer the consultation call (mode's own value wins). */
  consultationMs: number;
  /** Consultative `onRequest`: how long an answered consultation waits for complete/abandon. */
  decisionMs: number;
}

export const defaultNativeTransferTimeouts: NativeTransferTimeouts = {
  answerEstablishedMs: 30_000,
  // Graph rings a transfer target for up to 60 s before it reports the failure.
  transferOutcomeMs: 90_000,
  transferSettleMs: 5 * 60_000,
  consultationMs: 60_000,
  decisionMs: 10 * 60_000,
};

/**
 * - `transferred`: Graph ended the bot's call after the transfer (the caller is with the target).
 * - `transferFailed`: Graph refused the transfer, or the call came back to `established` with a
 *   failure `resultInfo` (the target did not answer…); the caller was then hung up (failure policy).
 * - `abandoned`: consultative only: the consultation was abandoned (on request, the target never
 *   answered, declined or hung up); the consultation call and then the caller were hung up.
 * - `callerHungUp`: the caller left before the transfer was done; the workflow's other calls were hung up.
 * - `failed`: the call could not be answered (or was not there): nothing was transferred.
 * - `unconfirmed`: the transfer was accepted but Graph said neither end nor failure in time, nor
 *   did reads of the call for `transferSettleMs` more: the bot hung the call up (`callerCallHungUp`).
 */
export type NativeTransferOutcome =
  | 'transferred'
  | 'transferFailed'
  | 'abandoned'
  | 'callerHungUp'
  | 'failed'
  | 'unconfirmed';

export interface NativeTransferResult {
  callId: string;
  mode: NativeTransferMode['kind'];
  outcome: NativeTransferOutcome;
  /** What happened, in words an operator can act on (absent for a plain `transferred`). */
  reason?: string;
  /** Graph's resultInfo about the transfer or the consultation call, when it gave one. */
  resultInfo?: ResultInfo;
  /** Graph's terminationReason of the bot's call after the transfer. */
  terminationReason?: string;
  /** Graph reported `transferAccepted`. */
  transferAccepted?: boolean;
  /** Consultative: the consultation call to the target, and whether the target answered it. */
  consultationCallId?: string;
  targetAnswered?: boolean;
  /** Who decided to complete or abandon: `workflow` (whenTargetAnswers, timeouts) or `operator`. */
  decidedBy?: 'workflow' | 'operator';
  /** The failure policy hung up the caller's call the bot answered. */
  callerCallHungUp?: boolean;
  /** The input's `route` (the routing rule that chose this transfer), echoed for the UI. */
  route?: string;
}

export type NativeTransferPhase =
  | 'answering'
  | 'consulting'
  | 'awaitingDecision'
  | 'transferring'
  | 'abandoning'
  | NativeTransferOutcome;

export interface NativeTransferSnapshot {
  callId: string;
  mode: NativeTransferMode['kind'];
  phase: NativeTransferPhase;
  consultationCallId?: string;
  targetAnswered: boolean;
  transferring: boolean;
  transferAccepted: boolean;
  result?: NativeTransferResult;
}

export const nativeTransferStateQuery = defineQuery<NativeTransferSnapshot>('nativeTransferState');

/**
 * Consultative `onRequest`: complete the transfer to the target who answered the consultation
 * call. Refused (validator) in any other mode or phase; answers the snapshot once accepted.
 */
export const completeNativeTransferUpdate = defineUpdate<NativeTransferSnapshot, []>(
  'completeNativeTransfer',
);

/**
 * Consultative: give the consultation up (hang it up) and return to the caller, who is then
 * handled by the failure policy. Refused once the transfer was sent or the workflow finished.
 */
export const abandonNativeTransferUpdate = defineUpdate<NativeTransferSnapshot, [{ reason?: string }]>(
  'abandonNativeTransfer',
);
