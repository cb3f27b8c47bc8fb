/**
 * The `nativeTransfer` workflow's type, id and input (issue 11.1-2): answer an incoming P2P call
 * and hand it on with Graph's own `call: transfer`, blind or after a consultation call. Shared by
 * the workflow, the routing rules, the HTTP API and the Temporal client; safe outside a workflow.
 *
 * This file is the contract the routing rules (src/webhook) start the workflow with: fields may
 * be added (optional), none removed or renamed.
 */
import type { IdentitySet, InvitationParticipantInfo, MediaInfo, Modality } from '../../graph/index.js';

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
}
