/**
 * Deliberately incompatible workflows for test/replay.test.ts, one per workflow type with committed
 * histories: each starts like the real one (same call session with its keep-alive timer, same
 * search attributes) and then sends a different first Graph request. Replaying a committed
 * history against them must fail with a DeterminismViolationError; if it did not, the replay test
 * could not catch such a change either. Tests only.
 *
 * - `transferCall` (transfer-reordered.ts): creates the group call before answering the P2P call.
 * - `botCall`: reads a call before creating its own.
 * - `strayCall`: hangs the call up before reading it.
 * - `groupCallOwner`: reads the group call where the real one hangs it up.
 * - `incomingCall`: reads the call before redirecting or rejecting it.
 * - `routeCall`: reads the call instead of asking the decision hook or starting the chosen flow.
 * - `nativeTransfer`: transfers the call before answering it.
 */
import { sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { HandoffFlow, HandoffTransferState } from '../../../src/temporal/search-attributes.js';
import type { BotCallInput } from '../../../src/workflows/bot-call/types.js';
import { openCallSession } from '../../../src/workflows/call-session.js';
import { retriedGraph } from '../../../src/workflows/graph-requests.js';
import type { GroupCallOwnerInput } from '../../../src/workflows/group-call-owner/group-call-owner.js';
import type { IncomingCallInput } from '../../../src/workflows/incoming-call/definitions.js';
import type { NativeTransferInput } from '../../../src/workflows/native-transfer/definitions.js';
import type { RouteCallInput } from '../../../src/workflows/route-call/definitions.js';
import type { StrayCallInput } from '../../../src/workflows/stray-call/definitions.js';

export { transferCall } from './transfer-reordered.js';

export async function botCall(input: BotCallInput): Promise<void> {
  openCallSession(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {});
  upsertSearchAttributes([
    { key: HandoffFlow, value: 'bot-call' },
    { key: HandoffTransferState, value: 'creating' },
  ]);
  await retriedGraph.getCall('a call that is not ours yet');
}

export async function strayCall(input: StrayCallInput): Promise<void> {
  upsertSearchAttributes([{ key: HandoffFlow, value: 'stray-call' }]);
  await retriedGraph.hangUp(input.callId);
}

export async function groupCallOwner(input: GroupCallOwnerInput): Promise<void> {
  openCallSession(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {});
  upsertSearchAttributes([{ key: HandoffTransferState, value: 'holdingGroupCall' }]);
  await sleep(Math.max(1, input.hangUpAt - Date.now()));
  await retriedGraph.getCall(input.groupCallId);
}

export async function incomingCall(input: IncomingCallInput): Promise<void> {
  upsertSearchAttributes([{ key: HandoffFlow, value: input.action.kind }]);
  upsertSearchAttributes([{ key: HandoffTransferState, value: 'checking' }]);
  await retriedGraph.getCall(input.callId);
}

export async function routeCall(input: RouteCallInput): Promise<void> {
  upsertSearchAttributes([{ key: HandoffFlow, value: 'route' }]);
  await retriedGraph.getCall(input.callId);
}

export async function nativeTransfer(input: NativeTransferInput): Promise<void> {
  openCallSession(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {});
  upsertSearchAttributes([{ key: HandoffFlow, value: `${input.mode.kind}-transfer` }]);
  upsertSearchAttributes([{ key: HandoffTransferState, value: 'transferring' }]);
  await retriedGraph.transferCall(input.callId, { transferTarget: input.mode.target });
}
