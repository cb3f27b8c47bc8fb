/**
 * Transfer a P2P call into a group call (seed 000; seed 001, "replacing an existing
 * peer-to-peer call"): answer the P2P call, create a group call without media, invite the
 * caller into it with `replacesCallId`, and wait until Graph has torn the original call down.
 *
 * Graph's notifications arrive as signals and are folded by the call-state reducer; every
 * wait is a condition on that state with a timeout, after which the workflow reads the call
 * from Graph instead of hanging (design.md, "Routing notifications to workflows").
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { AnswerCallRequest, CreateCallRequest, MeetingInfo } from '../graph/index.js';
import { HandoffCallIds, HandoffFlow, HandoffTransferState } from '../temporal/search-attributes.js';
import {
  applyNotification,
  type CallsState,
  emptyCallsState,
  findCall,
  findInRoster,
  findOperation,
  hasEnded,
  hasReached,
  isTerminal,
  recordCallRead,
  recordOperation,
} from './call-state.js';
import { graphNotificationsSignal, transferStateQuery } from './definitions.js';
import { retriedGraph, retriedGraphOptions, sendOnce, singleAttemptGraph, singleAttemptGraphOptions } from './graph-requests.js';
import {
  defaultTransferTimeouts,
  type TransferInput,
  type TransferPhase,
  type TransferResult,
  type TransferSnapshot,
  type TransferTimeouts,
} from './types.js';

/** A transfer that cannot complete: the workflow fails with this type after compensating. */
export const TRANSFER_FAILED = 'TransferFailed';

class TransferStepFailed extends Error {}

export async function transferCall(input: TransferInput): Promise<TransferResult> {
  const timeouts: TransferTimeouts = { ...defaultTransferTimeouts, ...input.timeouts };
  const calls: CallsState = emptyCallsState();
  // Date.now() inside a workflow is Temporal's deterministic workflow clock.
  const result: TransferResult = {
    outcome: 'completed',
    p2pCallId: input.p2pCallId,
    inviteeSeenInRoster: false,
    timings: { startedAt: Date.now() },
  };
  let phase: TransferPhase = 'answering';
  /** Undo steps, pushed as each step succeeds and run in reverse on failure (saga). */
  const compensations: Array<{ summary: string; undo: () => Promise<void> }> = [];

  setHandler(graphNotificationsSignal, ({ notifications }) => {
    for (const notification of notifications) applyNotification(calls, notification);
  });
  setHandler(transferStateQuery, (): TransferSnapshot => snapshot(phase, result, calls));

  function enterPhase(next: TransferPhase, details: string): void {
    phase = next;
    const callIds = [result.p2pCallId, ...(result.groupCallId ? [result.groupCallId] : [])];
    upsertSearchAttributes([
      { key: HandoffTransferState, value: next },
      { key: HandoffCallIds, value: callIds },
      { key: HandoffFlow, value: 'p2p-to-group' },
    ]);
    setCurrentDetails(`**${next}**: ${details}`);
    log.info('transfer phase', { phase: next, details });
  }

  /** Waits until a call is established; after the timeout, asks Graph. Fails if the call ends first. */
  async function untilEstablished(callId: string, what: string): Promise<void> {
    const reached = () => hasReached(findCall(calls, callId), 'established') || hasEnded(findCall(calls, callId));
    if (!(await condition(reached, timeouts.callEstablishedMs, { summary: `wait for ${what} established` }))) {
      const read = await retriedGraph.getCall.executeWithOptions(
        { ...retriedGraphOptions, summary: `read ${what} (no established notification)` },
        [callId],
      );
      recordCallRead(calls, callId, read);
    }
    const call = findCall(calls, callId);
    if (hasEnded(call)) throw new TransferStepFailed(`${what} ${callId} ended before it was established (${call?.terminationReason ?? 'gone'})`);
    if (!hasReached(call, 'established')) {
      throw new TransferStepFailed(`${what} ${callId} was not established within ${timeouts.callEstablishedMs} ms (state ${call?.state ?? 'unknown'})`);
    }
  }

  try {
    enterPhase('answering', `answering P2P call ${input.p2pCallId}`);
    const alreadyAnswered = input.alreadyAnswered || hasReached(findCall(calls, input.p2pCallId), 'establishing');
    if (!alreadyAnswered) {
      await sendOnce({
        what: `answer P2P call ${input.p2pCallId}`,
        send: () =>
          singleAttemptGraph.answerCall.executeWithOptions(
            { ...singleAttemptGraphOptions, summary: `answer P2P call ${input.p2pCallId}` },
            [input.p2pCallId, answerRequest(input)],
          ),
        applied: () => hasReached(findCall(calls, input.p2pCallId), 'establishing'),
      });
    }
    await untilEstablished(input.p2pCallId, 'P2P call');
    result.timings.p2pEstablishedAt = Date.now();

    enterPhase('creatingGroupCall', 'creating the group call without media');
    const created = await sendOnce({
      what: 'create group call',
      send: () =>
        singleAttemptGraph.createCall.executeWithOptions(
          { ...singleAttemptGraphOptions, summary: 'create group call without media' },
          [groupCallRequest(input)],
        ),
      // Our callbackUri names this workflow: any other call reporting to it is the group call
      // a request whose response was lost created (design.md, "Failure and retries").
      applied: () => unclaimedCallIds(calls, [input.p2pCallId]).length > 0,
    });
    const groupCallId = created.sent ? created.value.callId : unclaimedCallIds(calls, [input.p2pCallId])[0]!;
    const groupCall = { callId: groupCallId };
    result.groupCallId = groupCall.callId;
    compensations.push({
      summary: `hang up group call ${groupCall.callId}`,
      undo: () =>
        retriedGraph.hangUp.executeWithOptions({ ...retriedGraphOptions, summary: `hang up group call ${groupCall.callId}` }, [
          groupCall.callId,
        ]),
    });
    await untilEstablished(groupCall.callId, 'group call');
    result.timings.groupCallEstablishedAt = Date.now();

    enterPhase('inviting', `inviting the caller into group call ${groupCall.callId}, replacing ${input.p2pCallId}`);
    const clientContext = uuid4();
    result.inviteClientContext = clientContext;
    result.timings.inviteSentAt = Date.now();
    const invited = await sendOnce({
      what: `invite caller into group call ${groupCall.callId}`,
      send: () =>
        singleAttemptGraph.inviteParticipants.executeWithOptions(
          { ...singleAttemptGraphOptions, summary: `invite caller with replacesCallId ${input.p2pCallId}` },
          [groupCall.callId, { participants: [{ identity: input.invitee, replacesCallId: input.p2pCallId }], clientContext }],
        ),
      applied: () => findOperation(calls, { clientContext }) !== undefined || hasEnded(findCall(calls, input.p2pCallId)),
    });
    if (invited.sent) {
      if (invited.value.operationId) result.inviteOperationId = invited.value.operationId;
      recordOperation(calls, groupCall.callId, { id: invited.value.operationId ?? null, status: invited.value.status, clientContext });
    }
    const inviteOperation = () => findOperation(calls, { operationId: result.inviteOperationId, clientContext });
    if (!(await condition(() => isTerminal(inviteOperation()?.status), timeouts.inviteCompletedMs, { summary: 'wait for invite operation' }))) {
      if (result.inviteOperationId) {
        const read = await retriedGraph.getOperation.executeWithOptions({ ...retriedGraphOptions, summary: 'read invite operation (no notification)' }, [
          groupCall.callId,
          result.inviteOperationId,
        ]);
        if (!read.gone) recordOperation(calls, groupCall.callId, { id: result.inviteOperationId, status: read.status, clientContext, resultInfo: read.resultInfo ?? null });
      }
    }
    const operation = inviteOperation();
    if (operation?.status === 'failed') {
      throw new TransferStepFailed(`invite operation failed: ${operation.resultInfo?.message ?? `code ${operation.resultInfo?.code ?? 'unknown'}`}`);
    }
    // A missing terminal status is not yet a failure: Graph may have deleted the operation
    // after completing it. Whether the original call ends decides.
    if (operation?.status === 'completed') result.timings.inviteCompletedAt = Date.now();
    if (!result.inviteOperationId && operation?.operationId) result.inviteOperationId = operation.operationId;

    enterPhase('awaitingOriginalCallEnd', `waiting for Graph to end P2P call ${input.p2pCallId}`);
    const originalEnded = () => hasEnded(findCall(calls, input.p2pCallId));
    if (!(await condition(originalEnded, timeouts.originalCallEndedMs, { summary: 'wait for original call to end' }))) {
      const read = await retriedGraph.getCall.executeWithOptions(
        { ...retriedGraphOptions, summary: 'read original call (no terminated notification)' },
        [input.p2pCallId],
      );
      recordCallRead(calls, input.p2pCallId, read);
    }
    if (!originalEnded()) {
      throw new TransferStepFailed(`the original call ${input.p2pCallId} was still active ${timeouts.originalCallEndedMs} ms after the invite`);
    }
    result.timings.originalCallEndedAt = Date.now();
    const original = findCall(calls, input.p2pCallId);
    if (original?.terminationReason) result.originalCallTerminationReason = original.terminationReason;
    result.inviteeSeenInRoster = inviteeSeen(calls, input, groupCall.callId);
    result.timings.finishedAt = Date.now();
    enterPhase('completed', `caller moved into group call ${groupCall.callId}`);
    return result;
  } catch (error) {
    const cancelled = isCancellation(error);
    result.outcome = cancelled ? 'cancelled' : 'failed';
    result.reason = cancelled ? 'cancelled by request' : error instanceof Error ? error.message : String(error);
    result.timings.finishedAt = Date.now();
    enterPhase(result.outcome, result.reason);
    // Compensation must run even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      for (const step of [...compensations].reverse()) {
        try {
          await step.undo();
        } catch (undoError) {
          log.error('compensation failed', { step: step.summary, error: String(undoError) });
        }
      }
    });
    if (cancelled) throw error;
    throw ApplicationFailure.create({ message: result.reason, type: TRANSFER_FAILED, nonRetryable: true, details: [result], cause: error instanceof Error ? error : undefined });
  }
}

function answerRequest(input: TransferInput): AnswerCallRequest {
  return {
    callbackUri: input.callbackUri,
    acceptedModalities: input.acceptedModalities ?? ['audio'],
    mediaConfig: {
      '@odata.type': '#microsoft.graph.serviceHostedMediaConfig',
      ...(input.preFetchMedia?.length ? { preFetchMedia: input.preFetchMedia } : {}),
    },
  };
}

/** Calls reporting to this workflow that it did not start with: see the create-call step. */
function unclaimedCallIds(calls: CallsState, claimed: string[]): string[] {
  const claimedKeys = new Set(claimed.map((callId) => callId.toLowerCase()));
  return Object.values(calls.calls)
    .map((call) => call.callId)
    .filter((callId) => !claimedKeys.has(callId.toLowerCase()));
}

function groupCallRequest(input: TransferInput): CreateCallRequest {
  const target = input.target;
  const meetingInfo: MeetingInfo =
    target.kind === 'meeting'
      ? { '@odata.type': '#microsoft.graph.organizerMeetingInfo', organizer: target.organizer }
      : {
          '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
          joinMeetingId: target.joinMeetingId,
          ...(target.passcode ? { passcode: target.passcode } : {}),
        };
  // Without requestedModalities or mediaConfig: a bot that joins only to facilitate the
  // transfer should avoid media negotiation (seed 000, "Join Channel Meeting without media").
  return {
    '@odata.type': '#microsoft.graph.call',
    callbackUri: input.callbackUri,
    ...(target.subject ? { subject: target.subject } : {}),
    source: { identity: { application: { id: input.botAppId } } },
    requestedModalities: [],
    ...(target.kind === 'meeting' ? { chatInfo: target.chatInfo } : {}),
    meetingInfo,
    ...(input.tenantId ? { tenantId: input.tenantId } : {}),
  };
}

/**
 * The seeds report the roster of a `replacesCallId` invite on the replaced call's resource
 * (seeds 000, 001, 003 example 3); a plain invite on the group call's. Look at both.
 */
function inviteeSeen(calls: CallsState, input: TransferInput, groupCallId: string): boolean {
  return [groupCallId, input.p2pCallId].some((callId) => findInRoster(findCall(calls, callId), input.invitee)?.joined === true);
}

function snapshot(phase: TransferPhase, result: TransferResult, calls: CallsState): TransferSnapshot {
  return {
    phase,
    result,
    calls: Object.values(calls.calls).map((call) => ({
      callId: call.callId,
      ...(call.state ? { state: call.state } : {}),
      ...(call.terminationReason ? { terminationReason: call.terminationReason } : {}),
      rosterSize: Object.keys(call.roster).length,
    })),
    operations: calls.operations.map((operation) => ({ ...operation })),
    notificationsSeen: calls.notificationsSeen,
  };
}
