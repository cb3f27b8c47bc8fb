/**
 * Deliberately incompatible workflows for test/replay.test.ts, one per workflow type with committed
 * histories: each starts like the real one (same call session with its keep-alive timer, same
 * search attributes) and then sends a different first Graph request. Replaying a committed
 * history against them must fail with a DeterminismViolationError; if it did not, the replay test
 * could not catch such a change either. Tests only.
 *
 * - `transferCall` (transfer-reordered.ts): creates the group call before answering the P2P call.
 * - `botCall`: reads a call before creating its own.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import { HandoffFlow, HandoffTransferState } from '../../../src/temporal/search-attributes.js';
import type { BotCallInput } from '../../../src/workflows/bot-call-types.js';
import { openCallSession } from '../../../src/workflows/call-session.js';
import { retriedGraph } from '../../../src/workflows/graph-requests.js';

export { transferCall } from './transfer-reordered.js';

export async function botCall(input: BotCallInput): Promise<void> {
  openCallSession(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {});
  upsertSearchAttributes([
    { key: HandoffFlow, value: 'bot-call' },
    { key: HandoffTransferState, value: 'creating' },
  ]);
  await retriedGraph.getCall('a call that is not ours yet');
}
