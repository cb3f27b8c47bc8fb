/**
 * A deliberately incompatible `transferCall` for test/replay.test.ts: it starts like the real one
 * (same call session with its keep-alive timer, same search attributes) but sends its first two Graph requests in the
 * other order, creating the group call before answering the P2P call. Replaying a committed
 * transfer history against it must fail with a DeterminismViolationError; if it did not, the
 * replay test could not catch a reordering either. Tests only.
 */
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import {
  HandoffCallIds,
  HandoffFlow,
  HandoffTransferState,
} from '../../../src/temporal/search-attributes.js';
import { LOCAL_ANSWER_PATCH } from '../../../src/workflows/answer.js';
import { openCallSession } from '../../../src/workflows/call-session.js';
import { singleAttemptGraph } from '../../../src/workflows/graph-requests.js';
import { FEWER_UPSERTS_PATCH } from '../../../src/workflows/transfer/transfer.js';
import type { TransferInput } from '../../../src/workflows/transfer/types.js';

export async function transferCall(input: TransferInput): Promise<void> {
  openCallSession();
  // As the real one: with the patch, the start's search attributes stand for `answering`.
  if (!patched(FEWER_UPSERTS_PATCH)) {
    upsertSearchAttributes([
      { key: HandoffTransferState, value: 'answering' },
      { key: HandoffCallIds, value: [input.p2pCallId] },
      { key: HandoffFlow, value: 'p2p-to-group' },
    ]);
  }
  // As the real one before its answer; the group call is then created where the answer was sent.
  patched(LOCAL_ANSWER_PATCH);
  await singleAttemptGraph.createCall({
    '@odata.type': '#microsoft.graph.call',
    callbackUri: input.callbackUri,
    source: { identity: { application: { id: input.botAppId } } },
    requestedModalities: [],
  });
  await singleAttemptGraph.answerCall(input.p2pCallId, {
    callbackUri: input.callbackUri,
    acceptedModalities: ['audio'],
    mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
  });
}
