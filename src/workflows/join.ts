/**
 * Create a call or join a meeting, and hold it: the first steps of every flow that needs a call of
 * its own (the `botCall` workflow; the transfer's group call). Workflow code only.
 *
 * The create request is not idempotent: it is sent once (`sendOnce`). Our callbackUri names this
 * workflow, so a call that reports to it and is not one the flow already knows is the call a
 * request whose response was lost created (design.md, "Failure and retries"): it is adopted
 * instead of created again, and any further twin is hung up.
 */
import { CancellationScope, condition, log } from '@temporalio/workflow';
import type { IdentitySet } from '../graph/index.js';
import type { CallRequest } from './bot-call/types.js';
import { type CallSession, CallStepFailed } from './call-session.js';
import { findInRoster, hasEnded, hasReached } from './call-state.js';
import { createCallRequestFor } from './graph-bodies.js';
import {
  retriedGraph,
  retriedGraphOptions,
  sendOnce,
  singleAttemptGraph,
  singleAttemptGraphOptions,
} from './graph-requests.js';

/** Where a join is, for the caller's phase, search attributes and UI details. */
export type JoinStep = 'creating' | 'establishing' | 'inLobby';

export interface JoinOptions {
  request: CallRequest;
  /** Where Graph sends the call's notifications: the URL naming this workflow. */
  callbackUri: string;
  botAppId: string;
  tenantId?: string;
  timeouts: { establishedMs: number; lobbyMs: number };
  /**
   * Calls other than the one being created that may legitimately report to this workflow (the
   * transfer's P2P call; the calls a botCall replaces). Every other call reporting here is the
   * twin of a retried create request and is hung up. Read each time, so it may grow.
   */
  claimedCallIds?: () => string[];
  /** Names the call in messages and summaries, e.g. `group call`; default `call`. */
  what?: string;
  /** Told as the join moves on; `callId` once Graph gave it. */
  onStep?: (step: JoinStep, details: { callId?: string; description: string }) => void;
}

export interface JoinedCall {
  callId: string;
  /** Guest joins only: whether the bot waited in the lobby before being admitted. */
  admittedFromLobby?: boolean;
}

/** A short description of the request, for summaries: `join meeting 1234567`, `P2P call to user …`. */
export function describeCallRequest(request: CallRequest): string {
  switch (request.kind) {
    case 'p2p':
      return `P2P call to ${describeParty(request.target)}`;
    case 'pstn':
      return `PSTN call to ${request.phoneNumber}`;
    case 'groupCall':
      return `group call with ${request.targets.map(describeParty).join(', ')}`;
    case 'meeting':
      return `join meeting ${request.chatInfo.threadId}${request.guest ? ` as guest ${request.guest.displayName}` : ''}`;
    case 'joinMeetingId':
      return `join meeting ${request.joinMeetingId}${request.passcode ? ' (with passcode)' : ''}`;
  }
}

/** `user Alice (id)`: for summaries, without importing src/graph's runtime into the bundle. */
export function describeParty(identity: IdentitySet): string {
  for (const kind of ['user', 'application', 'applicationInstance', 'phone', 'guest', 'device'] as const) {
    const member = identity?.[kind];
    if (member?.id) return `${kind} ${member.displayName ? `${member.displayName} ` : ''}(${member.id})`;
  }
  return 'unknown party';
}

/**
 * Creates the call (or joins the meeting) once, holds it (keep-alive through the session), waits
 * until it is established and, for a guest join, until the bot is admitted from the lobby. On any
 * failure or cancellation after Graph created the call, hangs it up before rethrowing: a flow that
 * could not get its call leaves none behind. Fails with CallStepFailed naming the step.
 */
export async function createOrJoinCall(session: CallSession, options: JoinOptions): Promise<JoinedCall> {
  const { request, timeouts } = options;
  const what = options.what ?? 'call';
  const claimed = options.claimedCallIds ?? (() => []);
  const description = describeCallRequest(request);
  options.onStep?.('creating', { description: `creating ${what}: ${description}` });

  const unclaimed = () => session.unclaimedCallIds(claimed());
  const callId = await createOnce(session, options, what, description, unclaimed);
  session.hold(callId);
  session.hangUpUnclaimedCalls(() => [callId, ...claimed()], options.callbackUri);

  try {
    options.onStep?.('establishing', {
      callId,
      description: `waiting for ${what} ${callId} to be established`,
    });
    if (request.kind === 'meeting' && request.guest) {
      const admittedFromLobby = await untilAdmitted(session, callId, request.guest, what, timeouts, options);
      await session.untilEstablished(callId, what, timeouts.establishedMs);
      return { callId, admittedFromLobby };
    }
    await session.untilEstablished(callId, what, timeouts.establishedMs);
    return { callId };
  } catch (error) {
    await CancellationScope.nonCancellable(async () => {
      try {
        await retriedGraph.hangUp.executeWithOptions(
          { ...retriedGraphOptions, summary: `hang up ${what} ${callId} (could not join)` },
          [callId],
        );
      } catch (hangUpError) {
        // The join's own failure is what the caller must see; this one is for the logs.
        log.error('could not hang up a call that failed to join', { callId, error: String(hangUpError) });
      }
    });
    throw error;
  }
}

/**
 * Sends the create request once (`sendOnce`) and returns the new call's id. When notifications
 * show a call the flow does not know reporting here, the request may have taken effect and lost
 * its response: that call is adopted, but only once a read of it names this workflow's
 * callbackUri (decisions.md #4). A call that does not is someone else's: it is left alone and the
 * request is sent again, since nothing then shows that it took effect.
 */
async function createOnce(
  session: CallSession,
  options: JoinOptions,
  what: string,
  description: string,
  unclaimed: () => string[],
): Promise<string> {
  for (;;) {
    const created = await sendOnce({
      what: `create ${what}`,
      send: () =>
        singleAttemptGraph.createCall.executeWithOptions(
          { ...singleAttemptGraphOptions, summary: `create ${what}: ${description}` },
          [
            createCallRequestFor(options.request, {
              callbackUri: options.callbackUri,
              botAppId: options.botAppId,
              ...(options.tenantId ? { tenantId: options.tenantId } : {}),
            }),
          ],
        ),
      applied: () => unclaimed().length > 0,
    });
    if (created.sent) return created.value.callId;
    // confirmOwnCall drops a foreign call from `unclaimed`, so this ends.
    for (let candidate = unclaimed()[0]; candidate !== undefined; candidate = unclaimed()[0]) {
      if (await session.confirmOwnCall(candidate, options.callbackUri, `${what} to adopt`)) return candidate;
    }
  }
}

/**
 * A guest join may wait in the lobby (seed 004, example 10): the call stays establishing and the
 * roster lists the bot's own participant with `isInLobby: true`; the app gets no other roster
 * until someone admits it. The bot's participant is found by the guest identity it joined as.
 * Returns whether the bot was seen in the lobby; fails when it was not admitted within lobbyMs.
 */
async function untilAdmitted(
  session: CallSession,
  callId: string,
  guest: { id: string; displayName: string },
  what: string,
  timeouts: JoinOptions['timeouts'],
  options: JoinOptions,
): Promise<boolean> {
  const me = () => findInRoster(session.call(callId), { guest: { id: guest.id } });
  const admitted = () => me()?.joined === true;
  const waitsInLobby = () => me()?.seenInLobby === true && !admitted();
  const ended = () => hasEnded(session.call(callId));
  // Either Graph lets the guest straight in (established) or the roster shows it in the lobby.
  await condition(
    () => hasReached(session.call(callId), 'established') || ended() || waitsInLobby(),
    timeouts.establishedMs,
    {
      summary: `wait for ${what} established or the lobby`,
    },
  );
  if (waitsInLobby() && !ended()) {
    options.onStep?.('inLobby', {
      callId,
      description: `guest ${guest.displayName} waiting in the lobby of ${what} ${callId} (up to ${timeouts.lobbyMs} ms)`,
    });
    await condition(() => admitted() || ended(), timeouts.lobbyMs, {
      summary: 'wait to be admitted from the lobby',
    });
    if (ended()) {
      throw new CallStepFailed(
        `${what} ${callId} ended while the bot waited in the lobby (${session.call(callId)?.terminationReason ?? 'gone'})`,
      );
    }
    if (!admitted()) {
      throw new CallStepFailed(
        `${what} ${callId}: not admitted from the lobby within ${timeouts.lobbyMs} ms`,
      );
    }
  }
  return me()?.seenInLobby === true;
}
