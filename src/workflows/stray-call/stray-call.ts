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
} from '../../temporal/search-attributes.js';
import { normaliseCallbackUri } from '../callback-uri.js';
import { retriedGraph, retriedGraphOptions } from '../graph-requests.js';
import { STRAY_CALL_WORKFLOW_TYPE, type StrayCallInput, type StrayCallResult } from './definitions.js';

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
  const read = await retriedGraph.getCall.executeWithOptions(
    { ...retriedGraphOptions, summary: `read stray call ${input.callId}` },
    [input.callId],
  );
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
  // A read without callbackUri (recorded before reads carried it) relies on the verified, signed
  // callback path the notification arrived on.
  if (
    read.callbackUri &&
    normaliseCallbackUri(read.callbackUri) !== normaliseCallbackUri(input.callbackUri)
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
