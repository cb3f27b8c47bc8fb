/**
 * Redirect or reject an incoming call without answering it (issue 11.3; Graph v1.0 "call:
 * redirect", "call: reject"). One workflow per call (`incoming-<callId>`): it sends the one
 * request, follows the call's notifications on its own callback URL until Graph says the call
 * ended, and returns what became of it. It never answers the call and never hangs it up: once
 * redirected or rejected the call is no longer the bot's.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { GRAPH_REJECTED } from '../../activities/failure-types.js';
import type { CallRead } from '../../activities/graph-activities.js';
import type { GraphNotification, RedirectCallRequest } from '../../graph/index.js';
import {
  HandoffCallIds,
  HandoffCallOwner,
  HandoffFlow,
  HandoffTransferState,
} from '../../temporal/search-attributes.js';
import { bareCallId } from '../call-id.js';
import { graphNotificationsSignal, type NotificationDelivery } from '../definitions.js';
import {
  reasonOf,
  retriedGraph,
  retriedGraphOptions,
  sendOnce,
  singleAttemptGraph,
} from '../graph-requests.js';
import {
  INCOMING_CALL_WORKFLOW_TYPE,
  type IncomingCallInput,
  type IncomingCallPhase,
  type IncomingCallResult,
  type IncomingCallSnapshot,
  incomingCallStateQuery,
} from './definitions.js';
import { type Observed, observe } from './observe.js';

/** Graph rings a redirect's targets for 55-60 s by default, 90 s at most. */
const DEFAULT_REDIRECT_RING_SECONDS = 90;
/** What Graph may take beyond the ringing to report the end. */
const OUTCOME_MARGIN_MS = 30_000;

function notificationsOf(delivery: NotificationDelivery | undefined): GraphNotification[] {
  const notifications = delivery?.notifications;
  return Array.isArray(notifications) ? notifications : [];
}

function redirectRequestOf(input: IncomingCallInput): RedirectCallRequest {
  if (input.action.kind !== 'redirect') throw new Error('not a redirect');
  const { targets, timeoutSeconds, maskCallee, maskCaller } = input.action;
  return {
    targets,
    ...(timeoutSeconds !== undefined ? { timeout: timeoutSeconds } : {}),
    ...(maskCallee !== undefined ? { maskCallee } : {}),
    ...(maskCaller !== undefined ? { maskCaller } : {}),
    callbackUri: input.callbackUri,
  };
}

export async function incomingCall(input: IncomingCallInput): Promise<IncomingCallResult> {
  const callId = bareCallId(input.callId);
  const action = input.action.kind;
  const observed: Observed = { redirecting: false };
  let phase: IncomingCallPhase = action === 'redirect' ? 'redirecting' : 'rejecting';
  let result: IncomingCallResult | undefined;

  setHandler(graphNotificationsSignal, (delivery) => {
    for (const notification of notificationsOf(delivery)) observe(observed, callId, notification);
  });
  setHandler(
    incomingCallStateQuery,
    (): IncomingCallSnapshot => ({
      callId,
      action,
      phase,
      redirecting: observed.redirecting,
      ended: observed.ended !== undefined,
      ...(result ? { result } : {}),
    }),
  );

  const enter = (next: IncomingCallPhase, details: string) => {
    phase = next;
    upsertSearchAttributes([{ key: HandoffTransferState, value: next }]);
    setCurrentDetails(`**${next}**: ${details}`);
  };
  upsertSearchAttributes([
    { key: HandoffCallIds, value: [callId] },
    { key: HandoffFlow, value: action },
    { key: HandoffCallOwner, value: INCOMING_CALL_WORKFLOW_TYPE },
  ]);
  enter(phase, `call ${callId}`);

  const finish = (outcome: IncomingCallResult['outcome'], extra: Partial<IncomingCallResult> = {}) => {
    result = { callId, action, outcome, ...extra };
    upsertSearchAttributes([{ key: HandoffCallOwner, value: 'none' }]);
    enter(outcome, `call ${callId}${extra.reason ? `: ${extra.reason}` : ''}`);
    log.info('incoming call handled without answering', { ...result });
    return result;
  };

  const applied = () => observed.redirecting || observed.ended !== undefined;
  const learnFrom = (read: CallRead) => {
    if (read.gone) {
      observed.ended ??= {};
      return;
    }
    if (read.state === 'redirecting') observed.redirecting = true;
    if (read.state === 'terminating' || read.state === 'terminated') {
      observed.ended ??= {
        ...(read.resultInfo ? { resultInfo: read.resultInfo } : {}),
        ...(read.terminationReason ? { terminationReason: read.terminationReason } : {}),
      };
    }
  };
  const readCall = (why: string) =>
    retriedGraph.getCall.executeWithOptions({ ...retriedGraphOptions, summary: `${why} ${callId}` }, [
      callId,
    ]);

  try {
    await sendOnce({
      what: `${action} incoming call ${callId}`,
      send: () =>
        input.action.kind === 'redirect'
          ? singleAttemptGraph.redirectCall.executeWithOptions(
              {
                startToCloseTimeout: '15s',
                retry: { maximumAttempts: 1 },
                summary: `redirect call ${callId}`,
              },
              [callId, redirectRequestOf(input)],
            )
          : singleAttemptGraph.rejectCall.executeWithOptions(
              { startToCloseTimeout: '15s', retry: { maximumAttempts: 1 }, summary: `reject call ${callId}` },
              [callId, { reason: input.action.reason, callbackUri: input.callbackUri }],
            ),
      applied,
      // A redirect or reject whose answer was lost may have been carried out: the call then is
      // no longer `incoming`, and sending it again would only be refused.
      reconcile: async () => learnFrom(await readCall('was the request carried out? read call')),
      // The 15 s window leaves room for few attempts.
      maxAttempts: 3,
      notificationGraceMs: 3_000,
    });
  } catch (error) {
    // Graph's refusal (GRAPH_REJECTED: a 4xx) or attempts that never got through: either way the
    // call was not redirected or rejected by this workflow, and `reason` says what Graph said.
    if (!(error instanceof ActivityFailure)) throw error;
    const refused = error.cause instanceof ApplicationFailure && error.cause.type === GRAPH_REJECTED;
    return finish('refused', { reason: `${refused ? '' : 'no answer from Graph: '}${reasonOf(error)}` });
  }

  enter('waitingForOutcome', `call ${callId}: waiting for Graph to report how it ended`);
  const ringSeconds =
    input.action.kind === 'redirect' ? (input.action.timeoutSeconds ?? DEFAULT_REDIRECT_RING_SECONDS) : 0;
  const outcomeTimeoutMs = input.outcomeTimeoutMs ?? ringSeconds * 1_000 + OUTCOME_MARGIN_MS;
  if (!(await condition(() => observed.ended !== undefined, outcomeTimeoutMs))) {
    const read = await readCall('no end reported: read call');
    learnFrom(read);
    if (!observed.ended || read.gone) {
      return finish('unconfirmed', {
        reason: read.gone
          ? `Graph no longer has call ${callId}, but no notification said how it ended`
          : `call ${callId} is still ${read.state ?? 'in an unknown state'} ${outcomeTimeoutMs} ms after the ${action}`,
        ...(!read.gone && read.state ? { callState: read.state } : {}),
      });
    }
  }
  const end = observed.ended ?? {};
  const details = {
    ...(end.resultInfo ? { resultInfo: end.resultInfo } : {}),
    ...(end.terminationReason ? { terminationReason: end.terminationReason } : {}),
  };
  if (action === 'reject') return finish('rejected', details);
  const failed = typeof end.resultInfo?.code === 'number' && end.resultInfo.code >= 400;
  return failed
    ? finish('notRedirected', {
        ...details,
        reason: end.resultInfo?.message ?? `Graph ended the redirect with code ${end.resultInfo?.code}`,
      })
    : finish('redirected', details);
}
