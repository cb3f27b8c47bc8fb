/**
 * The `incomingCall` workflow's type, id, messages, input and result (issue 11.3): redirect or
 * reject an incoming call without answering it. Shared by the workflow, the HTTP API and the
 * Temporal client; only define* helpers from @temporalio/workflow, safe outside a workflow.
 */
import { defineQuery } from '@temporalio/workflow';
import type { InvitationParticipantInfo, RejectReason, ResultInfo } from '../../graph/index.js';

/** The workflow type the worker registers (src/workflows/index.ts). */
export const INCOMING_CALL_WORKFLOW_TYPE = 'incomingCall';

/**
 * One workflow per incoming call, its id derived from the call id like a transfer's: a repeated
 * or concurrent request for the same call finds the running or finished one and cannot act twice.
 */
export function incomingCallWorkflowId(callId: string): string {
  return `incoming-${callId}`;
}

/** What to do with the call instead of answering it ("call: redirect", "call: reject", v1.0). */
export type IncomingCallAction =
  | {
      kind: 'redirect';
      /** Ring all at once (at most 25); the first who picks up takes the call. */
      targets: InvitationParticipantInfo[];
      /** How long Graph rings the targets: 15-90 s; Graph's default when omitted. */
      timeoutSeconds?: number;
      maskCallee?: boolean;
      maskCaller?: boolean;
    }
  | { kind: 'reject'; reason: RejectReason };

export interface IncomingCallInput {
  callId: string;
  action: IncomingCallAction;
  /** This workflow's signed callback URL: Graph reports what became of the call there. */
  callbackUri: string;
  /**
   * How long to wait for Graph's `terminated` after the request before reading the call.
   * Default: the redirect's ringing timeout (90 s when Graph's default applies) + 30 s; 30 s for reject.
   */
  outcomeTimeoutMs?: number;
}

/**
 * - `redirected`: the call left the bot for a target (terminated without a failure resultInfo).
 * - `notRedirected`: Graph ended the redirect with a failure (no target answered: resultInfo 408…).
 * - `rejected`: Graph ended the call after the reject.
 * - `refused`: Graph refused the request (the call was answered, redirected or rejected already,
 *   is gone, or the 15 s window passed): `reason` says what Graph said.
 * - `unconfirmed`: the request was accepted but no notification said how the call ended in time;
 *   `callState` is what a read of the call found (absent: Graph no longer has it).
 */
export type IncomingCallOutcome = 'redirected' | 'notRedirected' | 'rejected' | 'refused' | 'unconfirmed';

export interface IncomingCallResult {
  callId: string;
  action: IncomingCallAction['kind'];
  outcome: IncomingCallOutcome;
  reason?: string;
  resultInfo?: ResultInfo;
  terminationReason?: string;
  callState?: string;
}

export type IncomingCallPhase = 'redirecting' | 'rejecting' | 'waitingForOutcome' | IncomingCallOutcome;

export interface IncomingCallSnapshot {
  callId: string;
  action: IncomingCallAction['kind'];
  phase: IncomingCallPhase;
  /** Graph reported the call `redirecting`. */
  redirecting: boolean;
  /** Graph reported the call terminated (or deleted). */
  ended: boolean;
  result?: IncomingCallResult;
}

export const incomingCallStateQuery = defineQuery<IncomingCallSnapshot>('incomingCallState');
