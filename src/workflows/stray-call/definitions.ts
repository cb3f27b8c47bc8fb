/**
 * The `strayCall` workflow's type, id, input and result (issue 10.4): shared by the workflow and
 * by the webhook that starts it. No workflow APIs here, so clients import it safely.
 */
/** The workflow type the worker registers (src/workflows/index.ts). */
export const STRAY_CALL_WORKFLOW_TYPE = 'strayCall';

/** Workflow ids say what they are: one stray-call owner per call id. */
export function strayCallWorkflowId(callId: string): string {
  return `stray-${callId.toLowerCase()}`;
}

export interface StrayCallInput {
  callId: string;
  /** The callback URL the notification arrived at: the call is ours only if Graph has this one. */
  callbackUri: string;
  /** The finished (or unknown) workflow the notification was addressed to, for the UI. */
  addressedTo: string;
}

export interface StrayCallResult {
  callId: string;
  /**
   * `hungUp`: ours and live, hung up. `gone`: Graph no longer has it. `notOurs`: Graph reports
   * another callbackUri. `ended`: it is terminating or terminated already.
   */
  outcome: 'hungUp' | 'gone' | 'notOurs' | 'ended';
  /** What Graph reported as the call's callbackUri, when it did. */
  callbackUri?: string;
}
