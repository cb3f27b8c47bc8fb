/**
 * Answer an incoming call once and hold it: the first step of every flow that takes a call the
 * bot was offered (the transfer, the native transfer). Workflow code only.
 */
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
} from './graph-requests.js';

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
  await sendOnce({
    what: `answer P2P call ${callId}`,
    send: () =>
      singleAttemptGraph.answerCall.executeWithOptions(
        { ...singleAttemptGraphOptions, summary: `answer P2P call ${callId}` },
        [callId, answerRequest(options)],
      ),
    applied: answered,
    reconcile: () => readCallInto(session, callId, 'did the answer take effect?'),
  });
  session.hold(callId);
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
