/**
 * Answer an incoming call once and hold it: the first step of every flow that takes a call the
 * bot was offered (the transfer, the native transfer). Workflow code only.
 */
import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';
import { GRAPH_REJECTED, type GraphFailureDetails } from '../activities/failure-types.js';
import type { MediaInfo, Modality } from '../graph/index.js';
import type { CallSession } from './call-session.js';
import { hasReached, recordCallRead } from './call-state.js';
import { answerRequest } from './graph-bodies.js';
import {
  retriedGraph,
  retriedGraphOptions,
  sendOnce,
  singleAttemptGraph,
  singleAttemptGraphOptions,
  singleAttemptLocalGraph,
} from './graph-requests.js';

/**
 * The answer is a local activity (issue 12, row 3): the worker that runs the workflow task sends
 * it at once, without the activity task queue's round trip, well within the 15 s Graph gives a
 * bot to answer. Workflows that started before it scheduled an activity and keep doing so (replay).
 */
export const LOCAL_ANSWER_PATCH = 'local-answer';

export interface AnswerOptions {
  callId: string;
  callbackUri: string;
  acceptedModalities?: Modality[];
  preFetchMedia?: MediaInfo[];
}

/**
 * Answers the call unless someone (or an earlier attempt) already did; the answer is not
 * idempotent, so it is sent once and a lost answer is reconciled by reading the call.
 */
export async function answerIncomingCall(session: CallSession, options: AnswerOptions): Promise<void> {
  const { callId } = options;
  const answered = () => hasReached(session.call(callId), 'establishing');
  if (answered()) return;
  const summary = `answer P2P call ${callId}`;
  const local = patched(LOCAL_ANSWER_PATCH);
  await sendOnce({
    what: summary,
    send: () =>
      local
        ? answerLocally(session, options, summary)
        : singleAttemptGraph.answerCall.executeWithOptions({ ...singleAttemptGraphOptions, summary }, [
            callId,
            answerRequest(options),
          ]),
    applied: answered,
    reconcile: () => readCallInto(session, callId, 'did the answer take effect?'),
  });
  session.hold(callId);
}

/**
 * One attempt of the answer as a local activity, failing as the activity does, so that `sendOnce`
 * and the flows' error handling see the same thing:
 *
 * - The SDK (1.24) hands a local activity's own failure to the workflow bare, where an activity's
 *   arrives as an ActivityFailure whose cause is the ApplicationFailure (GRAPH_REJECTED, …); a
 *   local activity that timed out arrives as an ActivityFailure with a TimeoutFailure, like an
 *   activity's. The bare failure is wrapped here.
 * - A local activity has no history of its own until its marker is recorded with the workflow
 *   task that completes it: a worker that dies after Graph took the answer and before that task
 *   completed leaves no trace of it, and the next worker answers again. Graph refuses that second
 *   answer with 409; the call, read, then reports the callback this workflow gave it. Only then is
 *   the 409 our own answer, taken (as a read after an unknown outcome concludes for an activity).
 *   A 409 for a call answered with another callback fails as it does for the activity.
 */
async function answerLocally(session: CallSession, options: AnswerOptions, summary: string): Promise<void> {
  const { callId } = options;
  try {
    await singleAttemptLocalGraph.answerCall.executeWithOptions({ ...singleAttemptGraphOptions, summary }, [
      callId,
      answerRequest(options),
    ]);
  } catch (error) {
    if (!(error instanceof ApplicationFailure)) throw error;
    const failure = new ActivityFailure(
      'Activity task failed',
      'answerCall',
      undefined,
      error.nonRetryable ? RetryState.NON_RETRYABLE_FAILURE : RetryState.MAXIMUM_ATTEMPTS_REACHED,
      undefined,
      error,
    );
    if (!answeredBefore(error)) throw failure;
    const read = await retriedGraph.getCall.executeWithOptions(
      { ...retriedGraphOptions, summary: `read P2P call ${callId} (was the refused answer our own?)` },
      [callId],
    );
    if (read.gone || read.callbackUri !== options.callbackUri) throw failure;
    recordCallRead(session.calls, callId, read);
  }
}

/** Graph's 409 to an answer: the call is not incoming any more (answered, redirected or rejected). */
function answeredBefore(failure: ApplicationFailure): boolean {
  const [details] = (failure.details ?? []) as Array<GraphFailureDetails | undefined>;
  return failure.type === GRAPH_REJECTED && details?.kind === 'http' && details.status === 409;
}

/**
 * Reads the call from Graph into the session's state (GET; 404 = gone): whether a request whose
 * outcome is unknown took effect, when its notifications are late.
 */
export async function readCallInto(session: CallSession, callId: string, why: string): Promise<void> {
  const read = await retriedGraph.getCall.executeWithOptions(
    { ...retriedGraphOptions, summary: `read P2P call ${callId} (${why})` },
    [callId],
  );
  recordCallRead(session.calls, callId, read);
}
