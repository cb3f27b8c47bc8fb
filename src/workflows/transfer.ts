/**
 * Transfer a P2P call into a group call (seed 000; seed 001, "replacing an existing
 * peer-to-peer call"): answer the P2P call, create a group call without media, invite the
 * caller into it with `replacesCallId`, and wait until Graph has torn the original call down.
 *
 * Graph's notifications arrive as signals and are folded by the call-state reducer (in the
 * call session); every wait is a condition on that state with a timeout, after which the
 * workflow reads the call from Graph instead of hanging (design.md, "Routing notifications").
 */
import {
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import { HandoffCallIds, HandoffFlow, HandoffTransferState } from '../temporal/search-attributes.js';
import { type CallSession, CallStepFailed, openCallSession } from './call-session.js';
import {
  type CallsState,
  findCall,
  findInRoster,
  findOperation,
  hasEnded,
  hasReached,
  recordCallRead,
  recordOperation,
} from './call-state.js';
import { transferStateQuery } from './definitions.js';
import { answerRequest, transferIntoCallRequestFor } from './graph-bodies.js';
import {
  reasonOf,
  retriedGraph,
  retriedGraphOptions,
  sendOnce,
  singleAttemptGraph,
  singleAttemptGraphOptions,
} from './graph-requests.js';
import { callIdFromInput } from './input-call-id.js';
import { createOrJoinCall } from './join.js';
import { createSaga } from './saga.js';
import { callRequestForTarget } from './transfer-target.js';
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

/**
 * The wait for the roster update and the termination reason after the original call ended
 * (`awaitEndDetails`). Workflows that started before it existed do not wait (replay).
 */
export const AWAIT_END_DETAILS_PATCH = 'await-end-details';

/** How often to read an original call that was answered elsewhere, while waiting for it to end. */
const ORIGINAL_CALL_POLL_MS = 2_000;

export async function transferCall(given: TransferInput): Promise<TransferResult> {
  // Notifications name the bare id; a path given as p2pCallId would never match them.
  const input: TransferInput = { ...given, p2pCallId: callIdFromInput(given.p2pCallId) };
  const timeouts: TransferTimeouts = { ...defaultTransferTimeouts, ...input.timeouts };
  const session = openCallSession(
    input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {},
  );
  const saga = createSaga();
  // Date.now() inside a workflow is Temporal's deterministic workflow clock.
  const result: TransferResult = {
    outcome: 'completed',
    p2pCallId: input.p2pCallId,
    inviteeSeenInRoster: false,
    orphanedCallsHungUp: session.orphansHungUp,
    timings: { startedAt: Date.now() },
  };
  let phase: TransferPhase = 'answering';
  setHandler(transferStateQuery, (): TransferSnapshot => snapshot(phase, result, session.calls));

  function enterPhase(next: TransferPhase, details: string): void {
    phase = next;
    upsertSearchAttributes([
      { key: HandoffTransferState, value: next },
      { key: HandoffCallIds, value: [result.p2pCallId, ...(result.groupCallId ? [result.groupCallId] : [])] },
      { key: HandoffFlow, value: 'p2p-to-group' },
    ]);
    setCurrentDetails(`**${next}**: ${details}`);
    log.info('transfer phase', { phase: next, details });
  }

  try {
    enterPhase('answering', `answering P2P call ${input.p2pCallId}`);
    if (input.alreadyAnswered) {
      // Answered by another system: the call's notifications go there, so read it instead.
      const original = await session.read(input.p2pCallId, 'P2P call answered elsewhere');
      if (!hasReached(original, 'established') || hasEnded(original)) {
        throw new CallStepFailed(
          `P2P call ${input.p2pCallId} is not an established call (${original?.state ?? 'unknown'})`,
        );
      }
    } else {
      await answerOriginalCall(input, session);
      await session.untilEstablished(input.p2pCallId, 'P2P call', timeouts.callEstablishedMs);
    }
    result.timings.p2pEstablishedAt = Date.now();

    enterPhase('creatingGroupCall', 'creating the group call without media');
    // Creates the group call once, adopting the one a lost response created, and hangs up any
    // twin or a call that could not be established (join.ts).
    const { callId: groupCallId } = await createOrJoinCall(session, {
      request: callRequestForTarget(input.target),
      callbackUri: input.callbackUri,
      botAppId: input.botAppId,
      ...(input.tenantId ? { tenantId: input.tenantId } : {}),
      timeouts: { establishedMs: timeouts.callEstablishedMs, lobbyMs: timeouts.lobbyMs },
      claimedCallIds: () => [input.p2pCallId],
      what: 'group call',
      onStep: (_step, { callId, description }) => {
        if (callId) result.groupCallId = callId;
        setCurrentDetails(`**creatingGroupCall**: ${description}`);
      },
    });
    result.groupCallId = groupCallId;
    saga.add(`hang up group call ${groupCallId}`, () =>
      retriedGraph.hangUp.executeWithOptions(
        { ...retriedGraphOptions, summary: `hang up group call ${groupCallId}` },
        [groupCallId],
      ),
    );
    result.timings.groupCallEstablishedAt = Date.now();

    enterPhase(
      'inviting',
      `inviting the caller into group call ${groupCallId}, replacing ${input.p2pCallId}`,
    );
    const clientContext = uuid4();
    result.inviteClientContext = clientContext;
    result.timings.inviteSentAt = Date.now();
    const operationId = await inviteCaller(input, session, groupCallId, clientContext);
    if (operationId) result.inviteOperationId = operationId;
    const operation = await session.untilOperationDone(
      groupCallId,
      { ...(operationId ? { operationId } : {}), clientContext },
      'invite operation',
      timeouts.inviteCompletedMs,
    );
    if (operation?.status === 'failed') {
      const why = operation.resultInfo?.message ?? `code ${operation.resultInfo?.code ?? 'unknown'}`;
      throw new CallStepFailed(`invite operation failed: ${why}`);
    }
    // A missing final status is not a failure yet: Graph may have deleted the operation after
    // completing it. Whether the original call ends decides.
    if (operation?.status === 'completed') result.timings.inviteCompletedAt = Date.now();
    if (!result.inviteOperationId && operation?.operationId) result.inviteOperationId = operation.operationId;

    enterPhase('awaitingOriginalCallEnd', `waiting for Graph to end P2P call ${input.p2pCallId}`);
    const originalEnded = input.alreadyAnswered
      ? await session.pollUntilEnded(
          input.p2pCallId,
          'original call',
          timeouts.originalCallEndedMs,
          ORIGINAL_CALL_POLL_MS,
        )
      : await session.untilEnded(input.p2pCallId, 'original call', timeouts.originalCallEndedMs);
    if (!originalEnded) {
      throw new CallStepFailed(
        `the original call ${input.p2pCallId} was still active ${timeouts.originalCallEndedMs} ms after the invite`,
      );
    }
    result.timings.originalCallEndedAt = Date.now();
    await awaitEndDetails(input, session, groupCallId, timeouts.endDetailsMs);
    const original = session.call(input.p2pCallId);
    if (original?.terminationReason) result.originalCallTerminationReason = original.terminationReason;
    result.inviteeSeenInRoster = inviteeSeen(session.calls, input, groupCallId);
    await session.close();
    result.timings.finishedAt = Date.now();
    enterPhase('completed', `caller moved into group call ${groupCallId}`);
    return result;
  } catch (error) {
    const cancelled = isCancellation(error);
    result.outcome = cancelled ? 'cancelled' : 'failed';
    result.reason = cancelled ? 'cancelled by request' : reasonOf(error);
    enterPhase(result.outcome, result.reason);
    await saga.compensate();
    await session.close();
    result.timings.finishedAt = Date.now();
    if (cancelled) throw error;
    throw ApplicationFailure.create({
      message: result.reason,
      type: TRANSFER_FAILED,
      nonRetryable: true,
      details: [result],
      cause: error instanceof Error ? error : undefined,
    });
  }
}

/** Answers the P2P call unless someone (or an earlier attempt) already did. */
async function answerOriginalCall(input: TransferInput, session: CallSession): Promise<void> {
  const answered = () => hasReached(session.call(input.p2pCallId), 'establishing');
  if (answered()) return;
  await sendOnce({
    what: `answer P2P call ${input.p2pCallId}`,
    send: () =>
      singleAttemptGraph.answerCall.executeWithOptions(
        { ...singleAttemptGraphOptions, summary: `answer P2P call ${input.p2pCallId}` },
        [input.p2pCallId, answerRequest(input)],
      ),
    applied: answered,
    reconcile: () => readOriginalCall(input, session, 'did the answer take effect?'),
  });
  session.hold(input.p2pCallId);
}

/**
 * Reads the original call from Graph into the session's state (GET; 404 = gone): whether an
 * answer or invite whose outcome is unknown took effect, when its notifications are late.
 */
async function readOriginalCall(input: TransferInput, session: CallSession, why: string): Promise<void> {
  const read = await retriedGraph.getCall.executeWithOptions(
    { ...retriedGraphOptions, summary: `read P2P call ${input.p2pCallId} (${why})` },
    [input.p2pCallId],
  );
  recordCallRead(session.calls, input.p2pCallId, read);
}

/** Invites the caller with replacesCallId, once. Returns the invite operation's id when Graph gave one. */
async function inviteCaller(
  input: TransferInput,
  session: CallSession,
  groupCallId: string,
  clientContext: string,
): Promise<string | undefined> {
  const invited = await sendOnce({
    what: `invite caller into group call ${groupCallId}`,
    send: () =>
      singleAttemptGraph.inviteParticipants.executeWithOptions(
        { ...singleAttemptGraphOptions, summary: `invite caller with replacesCallId ${input.p2pCallId}` },
        [
          groupCallId,
          transferIntoCallRequestFor(
            { participant: { identity: input.invitee }, replacesCallId: input.p2pCallId },
            clientContext,
          ),
        ],
      ),
    applied: () =>
      findOperation(session.calls, { clientContext }) !== undefined ||
      hasEnded(session.call(input.p2pCallId)),
    // The P2P call ends when the invite took effect: read it rather than invite a second time.
    reconcile: () => readOriginalCall(input, session, 'did the invite take effect?'),
  });
  if (!invited.sent) return undefined;
  recordOperation(session.calls, groupCallId, {
    id: invited.value.operationId ?? null,
    status: invited.value.status,
    clientContext,
  });
  return invited.value.operationId;
}

/**
 * Graph sends the invite's roster update, the original call's `terminated` (which carries the
 * termination reason) and its `deleted` together, and they may arrive in any order (design.md,
 * "Ordering and duplicates"): `deleted` alone ends the wait for the original call. When the roster
 * or the reason has not come yet, give them a moment, so that the result does not depend on
 * which notification came first. Lost for good, the result says so (not seen, no reason).
 */
async function awaitEndDetails(
  input: TransferInput,
  session: CallSession,
  groupCallId: string,
  timeoutMs: number,
): Promise<void> {
  const known = () =>
    inviteeSeen(session.calls, input, groupCallId) &&
    session.call(input.p2pCallId)?.terminationReason !== undefined;
  // Checked first: in order, nothing is missing and no command is issued (old histories replay).
  if (known() || !patched(AWAIT_END_DETAILS_PATCH)) return;
  await condition(known, timeoutMs, { summary: 'wait for the roster update and the termination reason' });
}

/**
 * The seeds report the roster of a `replacesCallId` invite on the replaced call's resource
 * (seeds 000, 001, 003 example 3); a plain invite on the group call's. Look at both.
 */
function inviteeSeen(calls: CallsState, input: TransferInput, groupCallId: string): boolean {
  return [groupCallId, input.p2pCallId].some(
    (callId) => findInRoster(findCall(calls, callId), input.invitee)?.joined === true,
  );
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
