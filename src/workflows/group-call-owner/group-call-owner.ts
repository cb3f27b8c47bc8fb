/**
 * The group call's owner after a transfer with `botLegAfterTransfer: stay` (issue 10.2,
 * docs/call-ownership.md). The transfer continues as new into this workflow type: the workflow id
 * stays the same, and with it the callbackUri Graph keeps sending the group call's notifications
 * to (a workflow with another id would never hear them). It keeps the bot's leg alive, follows the
 * roster, and hangs up when the bot is the only one left, after the maximum duration, or on the
 * `hangUp` signal; it ends without a request when Graph ends the call. Long calls continue as new
 * when Temporal suggests it, carrying who is present (issue 10.6).
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  log,
  makeContinueAsNewFunc,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  HandoffCallIds,
  HandoffCallOwner,
  HandoffFlow,
  HandoffTransferState,
} from '../../temporal/search-attributes.js';
import { hangUpSignal } from '../bot-call/definitions.js';
import { openCallSession } from '../call-session.js';
import { hasEnded } from '../call-state.js';
import { transferStateQuery } from '../definitions.js';
import { reasonOf, retriedGraph, retriedGraphOptions } from '../graph-requests.js';
import { applyRosterPresence, botIsAlone, othersPresent, type RosterPresence } from '../roster-presence.js';
import type { TransferResult, TransferSnapshot } from '../transfer/types.js';

/** The workflow type the worker registers (src/workflows/index.ts). */
export const GROUP_CALL_OWNER_WORKFLOW_TYPE = 'groupCallOwner';

export interface GroupCallOwnerInput {
  groupCallId: string;
  /** The transfer's callbackUri: Graph sends the group call's notifications there. */
  callbackUri: string;
  botAppId: string;
  /** Workflow clock (ms since the Unix epoch) at which the bot hangs up at the latest. */
  hangUpAt: number;
  keepAliveIntervalMs?: number;
  /** Who was in the group call when the previous run handed it over. */
  presence: RosterPresence;
  /** The transfer that handed the call over, as it finished. */
  transfer: TransferResult;
  /** How many times the owner continued as new (0 for the first run after the transfer). */
  generation?: number;
}

export type GroupCallOwnerEnd = 'botAlone' | 'maxDuration' | 'hangUpRequested' | 'callEnded';

export interface GroupCallOwnerResult {
  /** The transfer's result, `botLeg: 'stayed'`. */
  transfer: TransferResult;
  groupCallId: string;
  endedBy: GroupCallOwnerEnd;
  /** Keep-alive rounds that failed in the last run (each retried at the next interval). */
  keepAliveFailures: number;
  generation: number;
}

/** How long to wait for the group call's end after the bot hung up, before reading it. */
const HUNG_UP_ENDED_MS = 10_000;

export async function groupCallOwner(input: GroupCallOwnerInput): Promise<GroupCallOwnerResult> {
  let presence = input.presence;
  const generation = input.generation ?? 0;
  const session = openCallSession({
    ...(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {}),
    onNotification: (notification) => {
      presence = applyRosterPresence(
        presence,
        notification,
        [input.groupCallId, input.transfer.p2pCallId],
        input.botAppId,
      );
    },
  });
  session.hold(input.groupCallId);
  let hangUpRequested = false;
  setHandler(hangUpSignal, () => {
    hangUpRequested = true;
  });
  setHandler(
    transferStateQuery,
    (): TransferSnapshot => ({
      phase: 'holdingGroupCall',
      result: input.transfer,
      calls: Object.values(session.calls.calls).map((call) => ({
        callId: call.callId,
        ...(call.state ? { state: call.state } : {}),
        ...(call.terminationReason ? { terminationReason: call.terminationReason } : {}),
        rosterSize: Object.keys(call.roster).length,
      })),
      operations: [],
      notificationsSeen: session.calls.notificationsSeen,
    }),
  );
  upsertSearchAttributes([
    { key: HandoffFlow, value: 'p2p-to-group' },
    { key: HandoffTransferState, value: 'holdingGroupCall' },
    { key: HandoffCallIds, value: [input.transfer.p2pCallId, input.groupCallId] },
    { key: HandoffCallOwner, value: GROUP_CALL_OWNER_WORKFLOW_TYPE },
  ]);
  const describePresence = () => `${othersPresent(presence)} in the roster besides the bot`;
  setCurrentDetails(
    `**holdingGroupCall**: the bot holds group call ${input.groupCallId} until it is alone or ${new Date(input.hangUpAt).toISOString()}`,
  );

  const callEnded = () => hasEnded(session.call(input.groupCallId));
  const done = () => callEnded() || hangUpRequested || botIsAlone(presence);
  const remainingMs = () => Math.max(0, input.hangUpAt - Date.now());
  for (;;) {
    if (done() || remainingMs() === 0) break;
    const settled = await condition(() => done() || workflowInfo().continueAsNewSuggested, remainingMs(), {
      summary: 'hold the group call until the bot is alone or its time is up',
    });
    if (!settled) break;
    if (!done() && workflowInfo().continueAsNewSuggested) {
      await session.close();
      log.info('group call owner continues as new', { groupCallId: input.groupCallId, generation });
      return continueAsNew<typeof groupCallOwner>({ ...input, presence, generation: generation + 1 });
    }
  }

  const endedBy: GroupCallOwnerEnd = callEnded()
    ? 'callEnded'
    : hangUpRequested
      ? 'hangUpRequested'
      : botIsAlone(presence)
        ? 'botAlone'
        : 'maxDuration';
  log.info('group call owner lets go', {
    groupCallId: input.groupCallId,
    endedBy,
    presence: describePresence(),
  });
  if (endedBy !== 'callEnded') {
    try {
      await CancellationScope.nonCancellable(() =>
        retriedGraph.hangUp.executeWithOptions(
          {
            ...retriedGraphOptions,
            summary: `hang up the bot's leg in group call ${input.groupCallId} (${endedBy})`,
          },
          [input.groupCallId],
        ),
      );
      await session.untilEnded(input.groupCallId, 'group call', HUNG_UP_ENDED_MS);
    } catch (error) {
      log.error("could not hang up the bot's leg", {
        groupCallId: input.groupCallId,
        error: reasonOf(error),
      });
    }
  }
  await session.close();
  upsertSearchAttributes([
    { key: HandoffTransferState, value: 'completed' },
    { key: HandoffCallOwner, value: 'none' },
  ]);
  setCurrentDetails(`**completed**: the bot left group call ${input.groupCallId} (${endedBy})`);
  return {
    transfer: input.transfer,
    groupCallId: input.groupCallId,
    endedBy,
    keepAliveFailures: session.keepAliveFailures.length,
    generation,
  };
}

/** How a transfer hands its group call over: continue-as-new into the owner, same workflow id. */
export function continueAsGroupCallOwner(input: GroupCallOwnerInput): Promise<never> {
  return makeContinueAsNewFunc<typeof groupCallOwner>({ workflowType: GROUP_CALL_OWNER_WORKFLOW_TYPE })(
    input,
  );
}
