/**
 * Hand an incoming P2P call on with Graph's own `call: transfer` (issue 11.1-2; Graph v1.0
 * "call: transfer"): answer the call, then
 * - blind: `POST /communications/calls/{id}/transfer` with the `transferTarget`; Graph rings the
 *   target and reports `transferring`, `transferAccepted` and the end of the bot's call, or the
 *   call back to `established` with a failure `resultInfo`;
 * - consultative: keep the caller's call, place a consultation call to the target from the same
 *   callbackUri (this workflow owns and keeps alive both), and once the target answered complete
 *   the transfer with `replacesCallId` = the consultation call's id (at once, or when an operator
 *   asks), or abandon it: hang the consultation up and return to the caller.
 *
 * A transfer that did not happen never leaves the caller in a silent call the bot answered: the
 * bot hangs it up (docs/call-ownership.md, "After a failed transfer"). Every wait ends in a read
 * of the call from Graph when the notifications do not come. Each step is a workflow step, so a
 * worker that crashes between "target answered" and "transfer" resumes where it was.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { GRAPH_REJECTED } from '../../activities/failure-types.js';
import type { CallRead } from '../../activities/graph-activities.js';
import type { InvitationParticipantInfo, ResultInfo, TransferCallRequest } from '../../graph/index.js';
import {
  HandoffCallIds,
  HandoffCallOwner,
  HandoffFlow,
  HandoffTransferState,
} from '../../temporal/search-attributes.js';
import { answerIncomingCall } from '../answer.js';
import type { CallRequest } from '../bot-call/types.js';
import { bareCallId } from '../call-id.js';
import { type CallSession, CallStepFailed, openCallSession } from '../call-session.js';
import { hasEnded, hasReached } from '../call-state.js';
import {
  reasonOf,
  retriedGraph,
  retriedGraphOptions,
  sendOnce,
  singleAttemptGraph,
  singleAttemptGraphOptions,
} from '../graph-requests.js';
import { createOrJoinCall } from '../join.js';
import {
  abandonNativeTransferUpdate,
  completeNativeTransferUpdate,
  defaultNativeTransferTimeouts,
  NATIVE_TRANSFER_WORKFLOW_TYPE,
  type NativeTransferInput,
  type NativeTransferOutcome,
  type NativeTransferPhase,
  type NativeTransferResult,
  type NativeTransferSnapshot,
  type NativeTransferTimeouts,
  nativeTransferStateQuery,
} from './definitions.js';
import {
  emptyTransferObserved,
  isFailure,
  observeTransfer,
  type TransferObserved,
  transferVerdict,
} from './observe.js';

/** How long Graph may take to end the consultation call after a transfer that replaced it. */
const CONSULTATION_END_MS = 10_000;

/**
 * A transfer neither ended nor failed after `transferOutcomeMs` (still `transferring` or
 * `transferAccepted` when read) used to end the workflow as `unconfirmed` with the bot still in
 * the caller's call: a call with no owner. Under this patch the workflow keeps owning it, reading
 * it every `transferOutcomeMs`, until it settles or `transferSettleMs` runs out, and then hangs it
 * up (design.md, "Invariants": every call the bot is in has a running owner until it ends).
 */
export const OWN_UNSETTLED_TRANSFER_PATCH = 'native-transfer-owns-unsettled-transfer';

/** The flow's name in the `HandoffFlow` search attribute. */
const FLOW_BY_MODE = { blind: 'blind-transfer', consultative: 'consultative-transfer' } as const;

interface Decision {
  kind: 'complete' | 'abandon';
  by: 'workflow' | 'operator';
  reason?: string;
}

/** The caller left: nothing more to transfer. */
class CallerLeft extends CallStepFailed {}

/**
 * The consultation call to the target, as a create-call request: P2P to a user or application
 * instance (create call examples 1-2), PSTN from the bot's application instance to a phone
 * number (examples 11-12). Service-hosted media: the bot may talk to the target before handing over.
 */
export function consultationCallRequest(input: NativeTransferInput): CallRequest {
  const media = { kind: 'serviceHosted' } as const;
  const identity = input.mode.target.identity;
  const phone = identity.phone?.id;
  if (phone) {
    if (!input.applicationInstance) {
      throw new CallStepFailed(
        'a consultation call to a phone number needs applicationInstance (the application instance with a number that places it)',
      );
    }
    return { kind: 'pstn', phoneNumber: phone, applicationInstance: input.applicationInstance, media };
  }
  return { kind: 'p2p', target: identity, media };
}

export async function nativeTransfer(input: NativeTransferInput): Promise<NativeTransferResult> {
  const callId = bareCallId(input.callId);
  const mode = input.mode;
  const timeouts: NativeTransferTimeouts = {
    ...defaultNativeTransferTimeouts,
    ...input.timeouts,
    ...(mode.kind === 'consultative' && mode.consultationTimeoutMs !== undefined
      ? { consultationMs: mode.consultationTimeoutMs }
      : {}),
  };
  const observed: TransferObserved = emptyTransferObserved();
  /** From the moment the transfer is sent, the caller's call's reports describe the transfer. */
  let transferRequested = false;
  let consultationCallId: string | undefined;
  let targetAnswered = false;
  let decision: Decision | undefined;
  let phase: NativeTransferPhase = 'answering';
  let result: NativeTransferResult | undefined;
  const consultation = new CancellationScope();

  const session: CallSession = openCallSession({
    ...(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {}),
    onNotification: (notification) => {
      if (transferRequested) observeTransfer(observed, callId, notification);
    },
  });

  const snapshot = (): NativeTransferSnapshot => ({
    callId,
    mode: mode.kind,
    phase,
    ...(consultationCallId ? { consultationCallId } : {}),
    targetAnswered,
    transferring: observed.transferring,
    transferAccepted: observed.transferAccepted,
    ...(result ? { result } : {}),
  });
  setHandler(nativeTransferStateQuery, snapshot);
  setHandler(
    completeNativeTransferUpdate,
    () => {
      decision = { kind: 'complete', by: 'operator' };
      return snapshot();
    },
    {
      validator: () => {
        if (mode.kind !== 'consultative' || mode.complete !== 'onRequest') {
          throw new Error(
            `call ${callId} is a ${mode.kind === 'consultative' ? 'consultative transfer completed when the target answers' : 'blind transfer'}: there is nothing to complete on request`,
          );
        }
        if (decision) throw new Error(`the consultation was already decided: ${decision.kind}`);
        if (phase !== 'awaitingDecision') {
          throw new Error(
            `cannot complete the transfer of call ${callId} while it is ${phase}: only once the target answered the consultation call`,
          );
        }
      },
    },
  );
  setHandler(
    abandonNativeTransferUpdate,
    (request) => {
      decision = {
        kind: 'abandon',
        by: 'operator',
        reason: request?.reason ?? 'abandoned on request',
      };
      // A consultation call still ringing: stop waiting for the target (join.ts hangs it up).
      if (phase === 'consulting') consultation.cancel();
      return snapshot();
    },
    {
      validator: (request) => {
        if (mode.kind !== 'consultative') {
          throw new Error(`call ${callId} is a blind transfer: there is no consultation to abandon`);
        }
        if (request !== undefined && (typeof request !== 'object' || request === null)) {
          throw new Error('the abandon request must be an object: { reason? }');
        }
        if (request?.reason !== undefined && typeof request.reason !== 'string') {
          throw new Error('reason must be a string');
        }
        if (decision) throw new Error(`the consultation was already decided: ${decision.kind}`);
        if (phase !== 'consulting' && phase !== 'awaitingDecision') {
          throw new Error(
            `cannot abandon the transfer of call ${callId} while it is ${phase}: only during the consultation`,
          );
        }
      },
    },
  );

  const callIds = () => [callId, ...(consultationCallId ? [consultationCallId] : [])];
  const enter = (next: NativeTransferPhase, details: string) => {
    phase = next;
    upsertSearchAttributes([
      { key: HandoffTransferState, value: next },
      { key: HandoffCallIds, value: callIds() },
    ]);
    setCurrentDetails(`**${next}**: ${details}`);
    log.info('native transfer phase', { phase: next, details });
  };
  upsertSearchAttributes([
    { key: HandoffFlow, value: FLOW_BY_MODE[mode.kind] },
    { key: HandoffCallOwner, value: NATIVE_TRANSFER_WORKFLOW_TYPE },
  ]);

  const callerGone = () => hasEnded(session.call(callId));

  async function hangUp(id: string, why: string): Promise<boolean> {
    try {
      await CancellationScope.nonCancellable(() =>
        retriedGraph.hangUp.executeWithOptions({ ...retriedGraphOptions, summary: `hang up ${why} ${id}` }, [
          id,
        ]),
      );
      return true;
    } catch (error) {
      log.error(`could not hang up ${why}`, { callId: id, error: reasonOf(error) });
      return false;
    }
  }

  const finish = async (
    outcome: NativeTransferOutcome,
    extra: Omit<NativeTransferResult, 'callId' | 'mode' | 'outcome'> = {},
  ): Promise<NativeTransferResult> => {
    const done: NativeTransferResult = {
      callId,
      mode: mode.kind,
      outcome,
      ...extra,
      ...(observed.transferAccepted ? { transferAccepted: true } : {}),
      ...(consultationCallId ? { consultationCallId, targetAnswered } : {}),
      ...(decision ? { decidedBy: decision.by } : {}),
      ...(input.route ? { route: input.route } : {}),
    };
    // The failure policy: the caller is never left alone with a bot that answered and let go.
    const callerLeftBehind = outcome === 'transferFailed' || outcome === 'abandoned' || outcome === 'failed';
    if (callerLeftBehind && hasReached(session.call(callId), 'establishing') && !callerGone()) {
      done.callerCallHungUp = await hangUp(callId, 'the caller (transfer did not happen)');
    }
    await CancellationScope.nonCancellable(() => session.close());
    result = done;
    upsertSearchAttributes([{ key: HandoffCallOwner, value: 'none' }]);
    enter(outcome, `call ${callId}${done.reason ? `: ${done.reason}` : ''}`);
    return done;
  };

  try {
    enter('answering', `answering call ${callId}`);
    await answerIncomingCall(session, {
      callId,
      callbackUri: input.callbackUri,
      ...(input.acceptedModalities ? { acceptedModalities: input.acceptedModalities } : {}),
      ...(input.preFetchMedia ? { preFetchMedia: input.preFetchMedia } : {}),
    });
    await session.untilEstablished(callId, 'P2P call', timeouts.answerEstablishedMs);

    let transferTarget: InvitationParticipantInfo = mode.target;
    if (mode.kind === 'consultative') {
      const consulted = await consult();
      if (consulted.kind !== 'complete') return await consulted.finish();
      transferTarget = { ...mode.target, replacesCallId: consulted.consultationCallId };
    }
    if (callerGone()) throw new CallerLeft(`the caller hung up before the transfer (call ${callId})`);
    return await transfer({ transferTarget });
  } catch (error) {
    if (error instanceof CallerLeft) {
      if (consultationCallId && !hasEnded(session.call(consultationCallId))) {
        await hangUp(consultationCallId, 'the consultation call (the caller left)');
      }
      return await finish('callerHungUp', { reason: error.message });
    }
    if (isCancellation(error)) {
      if (consultationCallId && !hasEnded(session.call(consultationCallId))) {
        await hangUp(consultationCallId, 'the consultation call (cancelled)');
      }
      await finish('failed', { reason: 'cancelled by request' });
      throw error;
    }
    if (error instanceof CallStepFailed || error instanceof ActivityFailure) {
      return await finish('failed', { reason: reasonOf(error) });
    }
    throw error;
  }

  /**
   * Places the consultation call and waits for the target to answer, then for the decision.
   * Returns `complete` with the consultation call's id, or how the consultation ended.
   */
  async function consult(): Promise<
    | { kind: 'complete'; consultationCallId: string }
    | { kind: 'ended'; finish: () => Promise<NativeTransferResult> }
  > {
    if (mode.kind !== 'consultative') throw new Error('not a consultative transfer');
    enter('consulting', `calling the target while call ${callId} waits`);
    let joinedId: string;
    try {
      const joined = await consultation.run(() =>
        createOrJoinCall(session, {
          request: consultationCallRequest(input),
          callbackUri: input.callbackUri,
          botAppId: input.botAppId,
          ...(input.tenantId ? { tenantId: input.tenantId } : {}),
          timeouts: { establishedMs: timeouts.consultationMs, lobbyMs: timeouts.consultationMs },
          claimedCallIds: () => [callId],
          what: 'consultation call',
          onStep: (_step, { callId: id, description }) => {
            if (id && !consultationCallId) {
              consultationCallId = id;
              upsertSearchAttributes([{ key: HandoffCallIds, value: callIds() }]);
            }
            setCurrentDetails(`**${phase}**: ${description}`);
          },
        }),
      );
      joinedId = joined.callId;
      consultationCallId = joinedId;
    } catch (error) {
      // join.ts hung the consultation call up (when Graph had given its id) before rethrowing.
      if (isCancellation(error) && decision?.kind === 'abandon') {
        return {
          kind: 'ended',
          finish: () => abandon(decision?.reason ?? 'abandoned on request', undefined, true),
        };
      }
      if (!(error instanceof CallStepFailed)) throw error;
      if (callerGone()) throw new CallerLeft(`the caller hung up during the consultation (call ${callId})`);
      // Declined (ended unanswered) or never answered within consultationMs: join.ts hung it up.
      decision = { kind: 'abandon', by: 'workflow', reason: `the target did not answer: ${error.message}` };
      const resultInfo = consultationCallId ? session.call(consultationCallId)?.resultInfo : undefined;
      return { kind: 'ended', finish: () => abandon(decision?.reason ?? '', resultInfo, true) };
    }
    targetAnswered = true;
    if (mode.complete === 'whenTargetAnswers') decision ??= { kind: 'complete', by: 'workflow' };
    enter('awaitingDecision', `the target answered consultation call ${joinedId}`);
    const targetGone = () => hasEnded(session.call(joinedId));
    await condition(() => decision !== undefined || targetGone() || callerGone(), timeouts.decisionMs, {
      summary: 'wait for complete or abandon',
    });
    if (callerGone()) throw new CallerLeft(`the caller hung up during the consultation (call ${callId})`);
    if (decision?.kind === 'complete' && !targetGone())
      return { kind: 'complete', consultationCallId: joinedId };
    if (decision?.kind === 'abandon') return { kind: 'ended', finish: () => abandon(decision?.reason ?? '') };
    const why = targetGone()
      ? `the target hung up the consultation call (${session.call(joinedId)?.terminationReason ?? 'ended'})`
      : `no decision within ${timeouts.decisionMs} ms`;
    decision = { kind: 'abandon', by: 'workflow', reason: why };
    return { kind: 'ended', finish: () => abandon(why) };
  }

  /** Hangs up the consultation call (if it is still up) and gives the caller back to the failure policy. */
  async function abandon(
    reason: string,
    resultInfo?: ResultInfo,
    hungUpAlready = false,
  ): Promise<NativeTransferResult> {
    enter('abandoning', reason);
    if (consultationCallId && !hasEnded(session.call(consultationCallId))) {
      // Wait for its end, so that its last notifications reach this workflow and not a stray owner.
      if (hungUpAlready || (await hangUp(consultationCallId, 'the consultation call (abandoned)'))) {
        await session.untilEnded(consultationCallId, 'consultation call', CONSULTATION_END_MS);
      }
    }
    return finish('abandoned', { reason, ...(resultInfo ? { resultInfo } : {}) });
  }

  /** Sends the transfer once and follows the caller's call until Graph says how it went. */
  async function transfer(request: TransferCallRequest): Promise<NativeTransferResult> {
    enter(
      'transferring',
      request.transferTarget.replacesCallId
        ? `transferring call ${callId}, replacing consultation call ${request.transferTarget.replacesCallId}`
        : `transferring call ${callId}`,
    );
    transferRequested = true;
    /** What the last read of the call found, when a wait ran out. */
    let readState: string | undefined;
    const learnFrom = (read: CallRead) => {
      readState = read.gone ? 'gone' : read.state;
      if (read.gone) {
        observed.ended ??= {};
        return;
      }
      if (read.state === 'transferring') observed.transferring = true;
      if (read.state === 'transferAccepted') observed.transferAccepted = true;
      if (read.state === 'terminated') {
        observed.ended ??= {
          ...(read.resultInfo ? { resultInfo: read.resultInfo } : {}),
          ...(read.terminationReason ? { terminationReason: read.terminationReason } : {}),
        };
      } else if (isFailure(read.resultInfo)) {
        observed.failure ??= read.resultInfo;
      }
    };
    const readCall = async (why: string) =>
      learnFrom(
        await retriedGraph.getCall.executeWithOptions(
          { ...retriedGraphOptions, summary: `${why} ${callId}` },
          [callId],
        ),
      );
    const known = () =>
      observed.transferring ||
      observed.transferAccepted ||
      observed.failure !== undefined ||
      observed.ended !== undefined;
    try {
      await sendOnce({
        what: `transfer call ${callId}`,
        send: () =>
          singleAttemptGraph.transferCall.executeWithOptions(
            { ...singleAttemptGraphOptions, summary: `transfer call ${callId}` },
            [callId, request],
          ),
        applied: known,
        // A transfer whose answer was lost may be under way: the call then is no longer just
        // `established`, and a second transfer would be refused or ring the target twice.
        reconcile: () => readCall('did the transfer take effect? read call'),
      });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      const refused = error.cause instanceof ApplicationFailure && error.cause.type === GRAPH_REJECTED;
      return failTransfer(
        `${refused ? 'Graph refused the transfer: ' : 'no answer from Graph: '}${reasonOf(error)}`,
      );
    }

    const settled = () => transferVerdict(observed).kind !== 'pending';
    /** Neither an outcome reported nor a read that found the call back to plain `established`. */
    const unsettled = () => !settled() && readState !== 'established';
    let ownedUnsettled = false;
    if (
      !(await condition(settled, timeouts.transferOutcomeMs, { summary: 'wait for the transfer outcome' }))
    ) {
      await readCall('no transfer outcome reported: read call');
      if (unsettled() && patched(OWN_UNSETTLED_TRANSFER_PATCH)) {
        ownedUnsettled = true;
        await followUnsettledTransfer(unsettled, readCall);
      }
    }
    const verdict = transferVerdict(observed);
    if (verdict.kind === 'failed') {
      const why =
        verdict.resultInfo?.message ?? `Graph ended the transfer with code ${verdict.resultInfo?.code}`;
      return failTransfer(`the transfer failed: ${why}`, verdict.resultInfo);
    }
    if (verdict.kind === 'pending' && readState === 'established') {
      // Back to established although no failure was reported: the transfer did not happen, and
      // the caller is still with the bot.
      return failTransfer(
        `call ${callId} is still established ${timeouts.transferOutcomeMs} ms after the transfer: Graph did not transfer it`,
      );
    }
    if (verdict.kind === 'pending' && ownedUnsettled) {
      const reason = `call ${callId} was still ${readState ?? 'transferring'} ${timeouts.transferSettleMs} ms after the transfer (the target never answered, and Graph never said so): hung up`;
      const callerCallHungUp = await hangUp(callId, 'the caller (the transfer never settled)');
      if (callerCallHungUp) await session.untilEnded(callId, "the caller's call", CONSULTATION_END_MS);
      return finish('unconfirmed', { reason, callerCallHungUp });
    }
    if (verdict.kind === 'pending') {
      return finish('unconfirmed', {
        reason: `call ${callId} reported neither the end nor a failure of the transfer within ${timeouts.transferOutcomeMs} ms`,
      });
    }
    // Graph ends the replaced consultation call too; wait for it so its last reports reach us.
    const replaced = request.transferTarget.replacesCallId;
    if (replaced && !(await session.untilEnded(replaced, 'consultation call', CONSULTATION_END_MS))) {
      await hangUp(replaced, 'the consultation call (still up after the transfer)');
    }
    return finish('transferred', {
      ...(verdict.resultInfo ? { resultInfo: verdict.resultInfo } : {}),
      ...(verdict.terminationReason ? { terminationReason: verdict.terminationReason } : {}),
    });
  }

  /**
   * Keeps reading the caller's call, every `transferOutcomeMs`, while the transfer is neither done
   * nor failed, for up to `transferSettleMs` from the transfer's first deadline. A notification
   * that comes meanwhile ends the wait at once.
   */
  async function followUnsettledTransfer(
    unsettled: () => boolean,
    readCall: (why: string) => Promise<void>,
  ): Promise<void> {
    const giveUpAt = Date.now() + timeouts.transferSettleMs;
    setCurrentDetails(
      `**${phase}**: call ${callId} is still transferring; reading it every ${timeouts.transferOutcomeMs} ms for up to ${timeouts.transferSettleMs} ms`,
    );
    while (unsettled() && Date.now() < giveUpAt) {
      const waitMs = Math.max(1, Math.min(timeouts.transferOutcomeMs, giveUpAt - Date.now()));
      if (!(await condition(() => !unsettled(), waitMs, { summary: 'wait for the transfer to settle' }))) {
        await readCall('transfer still unsettled: read call');
      }
    }
  }

  async function failTransfer(reason: string, resultInfo?: ResultInfo): Promise<NativeTransferResult> {
    if (consultationCallId && !hasEnded(session.call(consultationCallId))) {
      await hangUp(consultationCallId, 'the consultation call (transfer failed)');
    }
    return finish('transferFailed', { reason, ...(resultInfo ? { resultInfo } : {}) });
  }
}
