/**
 * The owner of a call nobody owns (issue 10.4, docs/call-ownership.md): a notification about an
 * establishing or established call reached a workflow that has finished, or none (a twin group
 * call created by a lost create-call response, reporting after its transfer closed). The webhook
 * starts this workflow, keyed by the call id, so that one stray call gets one owner however many
 * notifications report it. It reads the call (GET); when Graph still has it and it is ours (its
 * callbackUri is the one the notification arrived for: decisions.md #4), it hangs it up.
 */
import { log, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import {
  HandoffCallIds,
  HandoffCallOwner,
  HandoffFlow,
  HandoffTransferState,
} from '../temporal/search-attributes.js';
import { retriedGraph, retriedGraphOptions } from './graph-requests.js';

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

/** Scheme and host are case-insensitive; a trailing slash does not make another URL (decisions.md #4). */
export function normalizedCallbackUri(uri: string): string {
  // No URL class: workflow code keeps to plain string handling.
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(uri.trim());
  if (!match) return uri.trim().replace(/\/+$/, '');
  const [, origin = '', rest = ''] = match;
  return `${origin.toLowerCase()}${rest.replace(/\/+$/, '')}`;
}

export async function strayCall(input: StrayCallInput): Promise<StrayCallResult> {
  upsertSearchAttributes([
    { key: HandoffCallIds, value: [input.callId] },
    { key: HandoffFlow, value: 'stray-call' },
    { key: HandoffCallOwner, value: STRAY_CALL_WORKFLOW_TYPE },
    { key: HandoffTransferState, value: 'checking' },
  ]);
  setCurrentDetails(
    `**checking**: call ${input.callId} reported to ${input.addressedTo}, which has no running workflow`,
  );
  const read = (await retriedGraph.getCall.executeWithOptions(
    { ...retriedGraphOptions, summary: `read stray call ${input.callId}` },
    [input.callId],
  )) as { gone: boolean; state?: string; callbackUri?: string };
  const finish = (result: StrayCallResult): StrayCallResult => {
    upsertSearchAttributes([
      { key: HandoffTransferState, value: result.outcome },
      { key: HandoffCallOwner, value: 'none' },
    ]);
    setCurrentDetails(`**${result.outcome}**: call ${input.callId}`);
    log.info('stray call handled', { ...result, addressedTo: input.addressedTo });
    return result;
  };
  if (read.gone) return finish({ callId: input.callId, outcome: 'gone' });
  const reported = read.callbackUri ? { callbackUri: read.callbackUri } : {};
  // Until the read carries callbackUri (decisions.md #4), the verified notification path is the proof.
  if (
    read.callbackUri &&
    normalizedCallbackUri(read.callbackUri) !== normalizedCallbackUri(input.callbackUri)
  ) {
    return finish({ callId: input.callId, outcome: 'notOurs', ...reported });
  }
  if (read.state === 'terminating' || read.state === 'terminated') {
    return finish({ callId: input.callId, outcome: 'ended', ...reported });
  }
  await retriedGraph.hangUp.executeWithOptions(
    { ...retriedGraphOptions, summary: `hang up stray call ${input.callId}` },
    [input.callId],
  );
  return finish({ callId: input.callId, outcome: 'hungUp', ...reported });
}
