/**
 * Transfer a P2P call into a group call (seed 000; seed 001, "replacing an existing
 * peer-to-peer call"): answer the P2P call, create a group call without media, invite the
 * caller into it with `replacesCallId`, and wait until Graph has torn the original call down.
 *
 * Graph's notifications arrive as signals and are folded by the call-state reducer (in the
 * call session); every wait is a condition on that state with a timeout, after which the
 * workflow reads the call from Graph instead of hanging (design.md, "Routing notifications").
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  HandoffCallIds,
  HandoffCallOwner,
  HandoffFlow,
  HandoffTransferState,
} from '../../temporal/search-attributes.js';
import { answerIncomingCall, readCallInto } from '../answer.js';
import { type CallSession, CallStepFailed, openCallSession } from '../call-session.js';
import {
  type CallsState,
  findCall,
  findInRoster,
  findOperation,
  hasEnded,
  hasReached,
  recordOperation,
} from '../call-state.js';
import { transferStateQuery } from '../definitions.js';
import { transferIntoCallRequestFor } from '../graph-bodies.js';
import {
  reasonOf,
  retriedGraph,
  retriedGraphOptions,
  sendOnce,
  singleAttemptGraph,
  singleAttemptGraphOptions,
} from '../graph-requests.js';
import { continueAsGroupCallOwner, type GroupCallOwnerInput } from '../group-call-owner/group-call-owner.js';
import { callIdFromInput } from '../input-call-id.js';
import { createOrJoinCall } from '../join.js';
import { applyRosterPresence, emptyRosterPresence } from '../roster-presence.js';
import { createSaga } from './saga.js';
import { callRequestForTarget } from './transfer-target.js';
import {
  DEFAULT_BOT_LEG_POLICY,
  DEFAULT_STAY_MAX_DURATION_MS,
  defaultTransferTimeouts,
  TRANSFER_FAILED,
  type TransferInput,
  type TransferPhase,
  type TransferResult,
  type TransferSnapshot,
  type TransferTarget,
  type TransferTimeouts,
} from './types.js';

/**
 * The wait for the roster update and the termination reason after the original call ended
 * (`awaitEndDetails`). Workflows that started before it existed do not wait (replay).
 */
export const AWAIT_END_DETAILS_PATCH = 'await-end-details';

/** How often to read an original call that was answered elsewhere, while waiting for it to end. */
const ORIGINAL_CALL_POLL_MS = 2_000;

/**
 * A failed transfer hangs up the P2P call the bot answered, and before that may try
 * `fallbackTarget` (issue 10.3). Workflows that started before this left the caller in the call.
 */
export const HANG_UP_CALLER_AFTER_FAILURE_PATCH = 'hang-up-caller-after-failure';

/** A caller who hung up while the group call was being created is not invited anywhere (issue 10.3). */
export const STOP_WHEN_CALLER_GONE_PATCH = 'stop-when-caller-gone';

/** After success, the bot's own leg follows `botLegAfterTransfer` (issue 10.2). Before: left held by no one. */
export const BOT_LEG_POLICY_PATCH = 'bot-leg-policy';

/** `completedUnverified` gets a phase (search attribute) of its own (issue 10.5). */
export const UNVERIFIED_PHASE_PATCH = 'completed-unverified-phase';

/**
 * One search-attribute upsert per phase change that matters (issue 12): only the attributes that
 * changed are upserted, none when the start already set them (`answering`: the webhook's and the
 * API's start options carry all three), and the bot's brief `leavingGroupCall` is not upserted
 * (the UI goes from awaitingOriginalCallEnd to completed). Before: three attributes every phase.
 */
export const FEWER_UPSERTS_PATCH = 'fewer-search-attribute-upserts';

/** Phases too brief to be worth an upsert (a visibility write) under FEWER_UPSERTS_PATCH. */
const UNINDEXED_PHASES: ReadonlySet<TransferPhase> = new Set(['leavingGroupCall']);

/** How long the bot waits for its own leg's end after hanging it up, before reading it from Graph. */
const BOT_LEG_ENDED_MS = 10_000;

/** The P2P call ended while the transfer was still preparing: nobody is invited for a caller who is gone. */
class CallerHungUp extends CallStepFailed {}

export async function transferCall(given: TransferInput): Promise<TransferResult> {
  // Notifications name the bare id; a path given as p2pCallId would never match them.
  const input: TransferInput = { ...given, p2pCallId: callIdFromInput(given.p2pCallId) };
  const timeouts: TransferTimeouts = { ...defaultTransferTimeouts, ...input.timeouts };
  // Date.now() inside a workflow is Temporal's deterministic workflow clock. Declared before the
  // session: the first signal (signalWithStart) is handled as soon as the session exists.
  const result: TransferResult = {
    outcome: 'running',
    p2pCallId: input.p2pCallId,
    inviteeSeenInRoster: false,
    orphanedCallsHungUp: [],
    timings: { startedAt: Date.now() },
  };
  /** Who is in the group call now, for the owner a `stay` hands it to. */
  let groupCallPresence = emptyRosterPresence();
  /** The group calls of every attempt, newest last; the one the caller ends in is the last. */
  const groupCallIds: string[] = [];
  const session = openCallSession({
    ...(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {}),
    onNotification: (notification) => {
      // The attempt's group call, known as soon as Graph gave its id (before it is established).
      const groupCallId = result.groupCallId;
      if (groupCallId) {
        groupCallPresence = applyRosterPresence(
          groupCallPresence,
          notification,
          [groupCallId, input.p2pCallId],
          input.botAppId,
        );
      }
    },
  });
  let saga = createSaga();
  result.orphanedCallsHungUp = session.orphansHungUp;
  let phase: TransferPhase = 'answering';
  setHandler(transferStateQuery, (): TransferSnapshot => snapshot(phase, result, session.calls));
  /** This workflow answered (or tried to answer) the P2P call: the bot's to hang up when the transfer fails. */
  let p2pAnswered = false;
  /** Set while a fallback attempt creates its group call: see `claimedFor`. */
  let fallbackJoining = false;

  // Asked once, before the first phase: every phase of this run takes the same path.
  const fewerUpserts = patched(FEWER_UPSERTS_PATCH);

  function enterPhase(next: TransferPhase, details: string): void {
    phase = next;
    const attributes: SearchAttributeUpdatePair[] = [
      { key: HandoffTransferState, value: next },
      { key: HandoffCallIds, value: [result.p2pCallId, ...groupCallIds] },
      { key: HandoffFlow, value: 'p2p-to-group' },
    ];
    if (!fewerUpserts) {
      upsertSearchAttributes(attributes);
    } else if (!UNINDEXED_PHASES.has(next)) {
      const current = workflowInfo().typedSearchAttributes;
      const changed = attributes.filter(
        (pair) => JSON.stringify(current.get(pair.key)) !== JSON.stringify(pair.value),
      );
      if (changed.length > 0) upsertSearchAttributes(changed);
    }
    setCurrentDetails(`**${next}**: ${details}`);
    // Per phase: debug. The start (webhook) and the end (the run's result) are what info shows.
    log.debug('transfer phase', { phase: next, details });
  }

  /**
   * The calls an attempt's join may see reporting here without hanging them up as twins. An
   * earlier attempt's clean-up must leave alone the call a fallback attempt is creating: until
   * that attempt knows its call's id, it claims everything.
   */
  function claimedFor(attempt: number): () => string[] {
    return () =>
      fallbackJoining && attempt < groupCallIds.length
        ? session.unclaimedCallIds([])
        : [input.p2pCallId, ...groupCallIds];
  }

  /** Whether the caller has left the P2P call; reads it when its notifications go elsewhere. */
  async function callerGone(why: string): Promise<boolean> {
    if (input.alreadyAnswered) await session.read(input.p2pCallId, `P2P call (${why})`);
    return hasEnded(session.call(input.p2pCallId));
  }

  async function stopIfCallerGone(when: string): Promise<void> {
    if (!hasEnded(session.call(input.p2pCallId))) {
      if (!input.alreadyAnswered || !patched(STOP_WHEN_CALLER_GONE_PATCH)) return;
      if (!(await callerGone(when))) return;
    } else if (!patched(STOP_WHEN_CALLER_GONE_PATCH)) {
      return;
    }
    result.callerHungUp = true;
    const reason = session.call(input.p2pCallId)?.terminationReason ?? 'gone';
    throw new CallerHungUp(
      `the caller hung up ${when} (P2P call ${input.p2pCallId}: ${reason}); nobody was invited`,
    );
  }

  /** Creates the attempt's group call, invites the caller and waits for Graph to end the P2P call. */
  async function moveCallerInto(target: TransferTarget, attempt: number): Promise<string> {
    await stopIfCallerGone('before the group call was created');
    // Creates the group call once, adopting the one a lost response created, and hangs up any
    // twin or a call that could not be established (join.ts).
    const { callId: groupCallId } = await createOrJoinCall(session, {
      request: callRequestForTarget(target),
      callbackUri: input.callbackUri,
      botAppId: input.botAppId,
      ...(input.tenantId ? { tenantId: input.tenantId } : {}),
      timeouts: { establishedMs: timeouts.callEstablishedMs, lobbyMs: timeouts.lobbyMs },
      claimedCallIds: claimedFor(attempt),
      what: 'group call',
      onStep: (_step, { callId, description }) => {
        if (callId) result.groupCallId = callId;
        setCurrentDetails(`**${phase}**: ${description}`);
      },
    });
    groupCallIds.push(groupCallId);
    fallbackJoining = false;
    result.groupCallId = groupCallId;
    saga.add(`hang up group call ${groupCallId}`, () =>
      retriedGraph.hangUp.executeWithOptions(
        { ...retriedGraphOptions, summary: `hang up group call ${groupCallId}` },
        [groupCallId],
      ),
    );
    result.timings.groupCallEstablishedAt = Date.now();
    await stopIfCallerGone('while the group call was being created');

    enterPhase(
      'inviting',
      `inviting the caller into group call ${groupCallId}, replacing ${input.p2pCallId}`,
    );
    const clientContext = uuid4();
    result.inviteClientContext = clientContext;
    result.timings.inviteSentAt = Date.now();
    delete result.inviteOperationId;
    delete result.timings.inviteCompletedAt;
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
    return groupCallId;
  }

  /**
   * After a failed attempt: whether to try the next target. Only while the caller is still in the
   * P2P call (the failed attempt's group call is hung up first).
   */
  async function tryNextTarget(attempt: number, error: unknown): Promise<boolean> {
    if (isCancellation(error) || error instanceof CallerHungUp) return false;
    if (attempt + 1 >= targets.length || !patched(HANG_UP_CALLER_AFTER_FAILURE_PATCH)) return false;
    const reason = reasonOf(error);
    result.failedAttempts = [
      ...(result.failedAttempts ?? []),
      {
        targetKind: targets[attempt]!.kind,
        ...(groupCallIds.length > attempt ? { groupCallId: groupCallIds[attempt]! } : {}),
        reason,
      },
    ];
    await saga.compensate();
    saga = createSaga();
    delete result.groupCallId;
    groupCallPresence = emptyRosterPresence();
    if (await callerGone('still there for the fallback?')) return false;
    enterPhase('tryingFallback', `${reason}; moving the caller to the fallback target instead`);
    fallbackJoining = true;
    return true;
  }

  /**
   * The transfer failed: the caller must not stay in a call the bot answered with nobody on the
   * other end (design.md, "Failure and retries"). A call answered elsewhere is not ours to end.
   */
  async function hangUpAbandonedCaller(): Promise<void> {
    if (input.alreadyAnswered || !p2pAnswered || hasEnded(session.call(input.p2pCallId))) return;
    if (!patched(HANG_UP_CALLER_AFTER_FAILURE_PATCH)) return;
    try {
      await CancellationScope.nonCancellable(() =>
        retriedGraph.hangUp.executeWithOptions(
          { ...retriedGraphOptions, summary: `hang up P2P call ${input.p2pCallId} (transfer failed)` },
          [input.p2pCallId],
        ),
      );
      result.p2pCallHungUp = true;
    } catch (error) {
      log.error('could not hang up the P2P call after a failed transfer', {
        callId: input.p2pCallId,
        error: reasonOf(error),
      });
    }
  }

  /** `stay`: what the group call's owner starts from; continued as new outside the try (not a failure). */
  let handOver: GroupCallOwnerInput | undefined;
  const targets: TransferTarget[] = [input.target, ...(input.fallbackTarget ? [input.fallbackTarget] : [])];

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
      // From the first attempt on, the call may be answered: ours to hang up if the transfer fails.
      p2pAnswered = true;
      await answerOriginalCall(input, session);
      await session.untilEstablished(input.p2pCallId, 'P2P call', timeouts.callEstablishedMs);
    }
    result.timings.p2pEstablishedAt = Date.now();

    enterPhase('creatingGroupCall', 'creating the group call without media');
    let groupCallId: string | undefined;
    for (let attempt = 0; groupCallId === undefined; attempt += 1) {
      try {
        groupCallId = await moveCallerInto(targets[attempt]!, attempt);
        if (attempt > 0) result.fallbackUsed = true;
      } catch (error) {
        if (!(await tryNextTarget(attempt, error))) throw error;
      }
    }
    result.timings.originalCallEndedAt = Date.now();
    await awaitEndDetails(input, session, groupCallId, timeouts.endDetailsMs);
    const original = session.call(input.p2pCallId);
    if (original?.terminationReason) result.originalCallTerminationReason = original.terminationReason;
    result.inviteeSeenInRoster = inviteeSeen(session.calls, input, groupCallId);
    const verified = result.timings.inviteCompletedAt !== undefined || result.inviteeSeenInRoster;
    if (!verified) {
      result.reason = `P2P call ${input.p2pCallId} ended, but the invite's completion was never reported and the invitee was never seen in the roster of group call ${groupCallId}`;
    }
    const botLeg = input.botLegAfterTransfer ?? DEFAULT_BOT_LEG_POLICY;
    if (botLeg === 'stay' && patched(BOT_LEG_POLICY_PATCH)) {
      result.outcome = verified ? 'completed' : 'completedUnverified';
      result.botLeg = 'stayed';
      result.timings.finishedAt = Date.now();
      result.keepAliveFailures = session.keepAliveFailures.length;
      enterPhase(
        'holdingGroupCall',
        `caller moved into group call ${groupCallId}; the bot stays as its owner`,
      );
      upsertSearchAttributes([{ key: HandoffCallOwner, value: 'groupCallOwner' }]);
      await session.close();
      handOver = {
        groupCallId,
        callbackUri: input.callbackUri,
        botAppId: input.botAppId,
        hangUpAt: Date.now() + (input.stayMaxDurationMs ?? DEFAULT_STAY_MAX_DURATION_MS),
        ...(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {}),
        presence: groupCallPresence,
        transfer: { ...result, orphanedCallsHungUp: [...session.orphansHungUp] },
      };
    } else {
      if (botLeg === 'leave' && patched(BOT_LEG_POLICY_PATCH)) {
        enterPhase(
          'leavingGroupCall',
          `caller moved into group call ${groupCallId}; the bot hangs up its own leg`,
        );
        result.botLeg = (await leaveGroupCall(session, groupCallId)) ? 'left' : 'leaveFailed';
      }
      await session.close();
      result.timings.finishedAt = Date.now();
      result.keepAliveFailures = session.keepAliveFailures.length;
      result.outcome = verified ? 'completed' : 'completedUnverified';
      enterPhase(
        !verified && patched(UNVERIFIED_PHASE_PATCH) ? 'completedUnverified' : 'completed',
        verified ? `caller moved into group call ${groupCallId}` : (result.reason ?? ''),
      );
      return result;
    }
  } catch (error) {
    const cancelled = isCancellation(error);
    result.outcome = cancelled ? 'cancelled' : 'failed';
    result.reason = cancelled ? 'cancelled by request' : reasonOf(error);
    if (result.failedAttempts && !cancelled) {
      result.reason = `${[...result.failedAttempts.map((attempt) => attempt.reason), result.reason].join('; then ')}`;
    }
    enterPhase(result.outcome, result.reason);
    await saga.compensate();
    await hangUpAbandonedCaller();
    await session.close();
    result.keepAliveFailures = session.keepAliveFailures.length;
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
  // Same workflow id, so the group call's notifications (sent to the callbackUri naming it) reach the owner.
  return continueAsGroupCallOwner(handOver);
}

/**
 * `leave`: the invitee is in (or was given `endDetailsMs` to show up): the bot hangs up its own
 * leg, and the group call goes on for the others. Waits for the leg's end, so that its last
 * notifications reach this workflow and not a finished one. Returns whether it ended.
 */
async function leaveGroupCall(session: CallSession, groupCallId: string): Promise<boolean> {
  try {
    await CancellationScope.nonCancellable(() =>
      retriedGraph.hangUp.executeWithOptions(
        { ...retriedGraphOptions, summary: `hang up the bot's leg in group call ${groupCallId}` },
        [groupCallId],
      ),
    );
    return await session.untilEnded(groupCallId, "the bot's leg in the group call", BOT_LEG_ENDED_MS);
  } catch (error) {
    log.error("could not hang up the bot's leg after the transfer", { groupCallId, error: reasonOf(error) });
    return false;
  }
}

/** Answers the P2P call unless someone (or an earlier attempt) already did (answer.ts). */
async function answerOriginalCall(input: TransferInput, session: CallSession): Promise<void> {
  await answerIncomingCall(session, {
    callId: input.p2pCallId,
    callbackUri: input.callbackUri,
    ...(input.acceptedModalities ? { acceptedModalities: input.acceptedModalities } : {}),
    ...(input.preFetchMedia ? { preFetchMedia: input.preFetchMedia } : {}),
  });
}

/** Reads the original call from Graph into the session's state (answer.ts). */
async function readOriginalCall(input: TransferInput, session: CallSession, why: string): Promise<void> {
  await readCallInto(session, input.p2pCallId, why);
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
