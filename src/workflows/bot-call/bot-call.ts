/**
 * The owner of one call the bot creates or joins (issue 5): create the call or join the meeting
 * (join.ts), hold it with keep-alive while it lasts, and serve the operations other services ask
 * for as Temporal updates: invite participants (seed 003, examples 1, 2, 4), transfer a P2P call
 * into this call (example 3), move a participant here from another meeting (example 5). Ends when
 * Graph ends the call, or on the hangUp signal.
 *
 * Every notification of the call reaches this workflow (its callbackUri names it) and is folded
 * by the call-state reducer in the call session. An update's validator refuses a bad request
 * before anything is written to history or sent to Graph; its handler sends the invite once,
 * waits for the operation's final status and for the invitees in the roster, and returns what
 * happened (style.md: the safe-message-handlers sample).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  ContinueAsNew,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { IdentitySet, InviteParticipantsRequest, Participant } from '../../graph/index.js';
import { HandoffCallIds, HandoffFlow, HandoffTransferState } from '../../temporal/search-attributes.js';
import { type CallSession, openCallSession } from '../call-session.js';
import {
  applyNotification,
  findInRoster,
  findOperation,
  hasEnded,
  type RosterEntry,
  recordCallRead,
  recordOperation,
} from '../call-state.js';
import {
  inviteParticipantsRequestFor,
  moveParticipantRequestFor,
  transferIntoCallRequestFor,
} from '../graph-bodies.js';
import {
  reasonOf,
  retriedGraph,
  retriedGraphOptions,
  sendOnce,
  singleAttemptGraph,
  singleAttemptGraphOptions,
} from '../graph-requests.js';
import { callIdFromInput } from '../input-call-id.js';
import { createOrJoinCall, describeCallRequest, describeParty } from '../join.js';
import {
  emptyTransferObserved,
  isFailure,
  observeTransfer,
  type TransferObserved,
  transferVerdict,
} from '../native-transfer/observe.js';
import {
  BOT_CALL_FAILED,
  botCallStateQuery,
  hangUpSignal,
  INVALID_BOT_CALL_REQUEST,
  inviteParticipantsUpdate,
  moveParticipantUpdate,
  transferIntoCallUpdate,
  transferParticipantUpdate,
} from './definitions.js';
import {
  type BotCallInput,
  type BotCallPhase,
  type BotCallResult,
  type BotCallResume,
  type BotCallSnapshot,
  type BotCallTimeouts,
  defaultBotCallTimeouts,
  type InviteeOutcome,
  type OperationKind,
  type OperationOutcome,
  type RosterParticipant,
  type TransferParticipantRequest,
} from './types.js';
import {
  botCallInputProblems,
  inviteRequestProblems,
  moveParticipantProblems,
  transferIntoCallProblems,
  transferParticipantProblems,
  type UpdateContext,
} from './validation.js';

/**
 * Graph's `terminated` (which carries the reason) and `deleted` may arrive in any order, and
 * `deleted` alone ends the call; see awaitTerminationReason. Runs recorded before it existed skip it.
 */
export const AWAIT_TERMINATION_REASON_PATCH = 'bot-call-await-termination-reason';

/** How long an ended call waits for a `terminated` notification that `deleted` overtook. */
const TERMINATION_REASON_WAIT_MS = 5_000;

/** How many times transferIntoCall reads the replaced call within originalCallEndedMs. */
const REPLACED_CALL_READS = 5;

/**
 * A long call continues as new when Temporal suggests it (issue 10.6), carrying what it knows
 * (BotCallInput.resume). Workflows that started before this never did (replay).
 */
export const BOT_CALL_CONTINUE_AS_NEW_PATCH = 'bot-call-continue-as-new';

export async function botCall(input: BotCallInput): Promise<BotCallResult> {
  const resume = input.resume;
  const result: BotCallResult = resume?.result ?? {
    outcome: 'ended',
    operations: [],
    timings: { startedAt: Date.now() },
  };
  let phase: BotCallPhase = 'creating';
  /** The call this workflow holds, once it is established. */
  let heldCallId: string | undefined;
  let hangUpRequested = false;
  /** Hanging up or ended: no new update is accepted. */
  let closing = false;
  /** Updates accepted and not finished: clientContext → what it does, for the UI. */
  const inFlight = new Map<string, string>();
  /** P2P calls transferred in: their roster may be reported to us (seed 003, example 3). */
  const replacedCallIds: string[] = [...(resume?.replacedCallIds ?? [])];
  let phaseDetails = '';
  /** Continuing as new: no new update is accepted, the ones accepted finish first. */
  let continuing = false;

  function refreshDetails(): void {
    const lines = [`**${phase}**: ${phaseDetails}`];
    for (const description of inFlight.values()) lines.push(`- ${description}`);
    if (result.operations.length > 0) {
      const done = result.operations.map((operation) => `${operation.kind} ${operation.status}`).join(', ');
      lines.push(`operations: ${done}`);
    }
    setCurrentDetails(lines.join('\n'));
  }

  function enterPhase(next: BotCallPhase, details: string): void {
    phase = next;
    phaseDetails = details;
    upsertSearchAttributes([
      { key: HandoffFlow, value: 'bot-call' },
      { key: HandoffTransferState, value: next },
      ...(result.callId ? [{ key: HandoffCallIds, value: [result.callId] }] : []),
    ]);
    refreshDetails();
    log.info('bot call phase', { phase: next, details, callId: result.callId });
  }

  const problems = botCallInputProblems(input);
  if (problems.length > 0) {
    result.outcome = 'failed';
    result.reason = `invalid botCall input: ${problems.join('; ')}`;
    const reason = result.reason;
    // The HTTP API and the UI still ask a failed workflow for its state.
    setHandler(botCallStateQuery, () => ({
      phase,
      requestKind: input?.request?.kind,
      roster: [],
      operations: [],
      operationsInFlight: 0,
      notificationsSeen: 0,
      reason,
    }));
    enterPhase('failed', result.reason);
    throw ApplicationFailure.create({
      message: result.reason,
      type: INVALID_BOT_CALL_REQUEST,
      nonRetryable: true,
      details: [result],
    });
  }

  const timeouts: BotCallTimeouts = { ...defaultBotCallTimeouts, ...input.timeouts };
  /** The transfer out of this call under way, if any: its call's reports are read for its outcome. */
  let transferWatch: { callId: string; observed: TransferObserved } | undefined;
  const session = openCallSession({
    ...(input.keepAliveIntervalMs ? { keepAliveIntervalMs: input.keepAliveIntervalMs } : {}),
    onNotification: (notification) => {
      if (transferWatch) observeTransfer(transferWatch.observed, transferWatch.callId, notification);
    },
  });
  /** The call this workflow holds or is joining, as the notifications describe it. */
  const ownCall = () => {
    const callId = heldCallId ?? result.callId;
    return callId === undefined ? undefined : session.call(callId);
  };
  const callEnded = () => hasEnded(ownCall());

  setHandler(botCallStateQuery, (): BotCallSnapshot => snapshot());

  /** The waits of the join, cancelled by a hang-up that comes before the call is established. */
  const joining = new CancellationScope();
  setHandler(hangUpSignal, () => {
    if (hangUpRequested || closing) return;
    hangUpRequested = true;
    log.info('hang-up requested', { callId: result.callId, phase });
    // While the create request is out, Graph may be creating the call: let it answer first, so
    // that the call is known and hung up (see the `establishing` step below).
    if (heldCallId === undefined && result.callId !== undefined) joining.cancel();
  });

  const updateContext = (): UpdateContext => ({
    requestKind: input.request.kind,
    phase,
    ...(heldCallId ? { callId: heldCallId } : {}),
    closing: closing || continuing || hangUpRequested || callEnded(),
    usedClientContexts: [
      ...inFlight.keys(),
      ...result.operations.map((operation) => operation.clientContext),
    ],
  });
  const refuseIf = (found: string[]) => {
    if (found.length > 0) throw new Error(found.join('; '));
  };

  setHandler(
    inviteParticipantsUpdate,
    (request) =>
      runOperation({
        kind: 'invite',
        clientContext: request.clientContext ?? uuid4(),
        invitees: request.participants.map((participant) => participant.identity),
        body: (clientContext) => inviteParticipantsRequestFor(request, clientContext),
        description: `invite ${request.participants.map((participant) => describeParty(participant.identity)).join(', ')}`,
      }),
    {
      validator: (request) => refuseIf(inviteRequestProblems(request, updateContext())),
      description: 'Invite 1 to 5 participants into the call (seed 003, examples 1, 2, 4).',
    },
  );
  setHandler(
    transferIntoCallUpdate,
    (given) => {
      const request = { ...given, replacesCallId: callIdFromInput(given.replacesCallId) };
      return runOperation({
        kind: 'transferIntoCall',
        clientContext: uuid4(),
        invitees: [request.participant.identity],
        replacesCallId: request.replacesCallId,
        body: (clientContext) => transferIntoCallRequestFor(request, clientContext),
        description: `transfer ${describeParty(request.participant.identity)} in from call ${request.replacesCallId}`,
      });
    },
    {
      validator: (request) => refuseIf(transferIntoCallProblems(request, updateContext())),
      description:
        'Move the other party of a P2P call into this call with replacesCallId (seed 003, example 3).',
    },
  );
  setHandler(
    moveParticipantUpdate,
    (given) => {
      const request = { ...given, replacesCallId: callIdFromInput(given.replacesCallId) };
      return runOperation({
        kind: 'moveParticipant',
        clientContext: uuid4(),
        invitees: [request.identity],
        replacesCallId: request.replacesCallId,
        body: (clientContext) => moveParticipantRequestFor(request, clientContext),
        description: `move ${describeParty(request.identity)} here from meeting call ${request.replacesCallId}`,
      });
    },
    {
      validator: (request) => refuseIf(moveParticipantProblems(request, updateContext())),
      description:
        'Move one participant from another meeting of this application into this call (seed 003, example 5).',
    },
  );

  setHandler(transferParticipantUpdate, (request) => transferParticipant(request), {
    validator: (request) =>
      refuseIf(
        transferParticipantProblems(request, {
          ...updateContext(),
          transferInFlight: transferWatch !== undefined,
        }),
      ),
    description:
      "Blind transfer of one participant out of this group call with Graph's call: transfer (transferTarget + transferee).",
  });

  if (resume) restoreCall(resume);

  try {
    const joined = resume
      ? { callId: resume.callId }
      : await joining.run(() =>
          createOrJoinCall(session, {
            request: input.request,
            callbackUri: input.callbackUri,
            botAppId: input.botAppId,
            ...(input.tenantId ? { tenantId: input.tenantId } : {}),
            timeouts,
            claimedCallIds: () => replacedCallIds,
            onStep: (step, { callId, description }) => {
              if (callId) result.callId = callId;
              enterPhase(step, description);
              if (step === 'establishing' && hangUpRequested) joining.cancel();
            },
          }),
        );
    heldCallId = joined.callId;
    result.callId = joined.callId;
    if ('admittedFromLobby' in joined && joined.admittedFromLobby !== undefined) {
      result.admittedFromLobby = joined.admittedFromLobby;
    }
    if (!resume) result.timings.establishedAt = Date.now();
    enterPhase('established', `holding call ${joined.callId}: ${describeCallRequest(input.request)}`);

    let continueDeclined = false;
    const continueSuggested = () =>
      !continueDeclined && inFlight.size === 0 && workflowInfo().continueAsNewSuggested;
    for (;;) {
      await condition(() => hangUpRequested || callEnded() || continueSuggested());
      if (hangUpRequested || callEnded()) break;
      if (!patched(BOT_CALL_CONTINUE_AS_NEW_PATCH)) {
        continueDeclined = true;
        continue;
      }
      continuing = true;
      await condition(allHandlersFinished);
      if (hangUpRequested || callEnded()) break;
      await session.close();
      log.info('bot call continues as new', {
        callId: joined.callId,
        generation: (resume?.generation ?? 0) + 1,
      });
      const seen = snapshot();
      await continueAsNew<typeof botCall>({
        ...input,
        resume: {
          callId: joined.callId,
          result,
          replacedCallIds,
          roster: seen.roster.map((party) => ({
            participantId: party.id,
            identity: party.identity,
            joined: party.joined,
            seenInLobby: party.inLobby,
            removed: party.removed,
          })),
          notificationsSeen: seen.notificationsSeen,
          generation: (resume?.generation ?? 0) + 1,
        },
      });
    }
    closing = true;
    const callId = joined.callId;
    if (callEnded()) {
      result.reason = 'the call ended';
    } else {
      phaseDetails = `hanging up call ${callId} on request`;
      refreshDetails();
      await retriedGraph.hangUp.executeWithOptions(
        { ...retriedGraphOptions, summary: `hang up call ${callId} on request` },
        [callId],
      );
      await session.untilEnded(callId, 'call', timeouts.establishedMs);
      result.reason = 'hung up on request';
    }
    await awaitTerminationReason(session, callId);
    const terminationReason = session.call(callId)?.terminationReason;
    if (terminationReason) result.terminationReason = terminationReason;
    await condition(allHandlersFinished);
    await session.close();
    result.timings.endedAt = Date.now();
    enterPhase('ended', `call ${callId} ended (${result.reason})`);
    return result;
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    closing = true;
    const cancelled = isCancellation(error);
    const workflowCancelled = CancellationScope.current().consideredCancelled;
    if (cancelled && hangUpRequested && !workflowCancelled) {
      // The hang-up came before the call was established: join.ts has hung it up.
      result.reason = 'hung up on request before the call was established';
      await session.close();
      result.timings.endedAt = Date.now();
      enterPhase('ended', result.reason);
      return result;
    }
    result.outcome = cancelled ? 'cancelled' : 'failed';
    result.reason = cancelled ? 'cancelled by request' : reasonOf(error);
    await CancellationScope.nonCancellable(async () => {
      // Once established the call is ours to hang up; before that join.ts did.
      if (heldCallId !== undefined && !callEnded()) {
        await retriedGraph.hangUp
          .executeWithOptions(
            { ...retriedGraphOptions, summary: `hang up call ${heldCallId} (${result.outcome})` },
            [heldCallId],
          )
          .catch((hangUpError: unknown) =>
            log.error('could not hang up the call', { callId: heldCallId, error: String(hangUpError) }),
          );
      }
      await condition(allHandlersFinished);
      await session.close();
    });
    result.timings.endedAt = Date.now();
    enterPhase(result.outcome, result.reason);
    if (cancelled) throw error;
    throw ApplicationFailure.create({
      message: result.reason,
      type: BOT_CALL_FAILED,
      nonRetryable: true,
      details: [result],
      cause: error instanceof Error ? error : undefined,
    });
  }

  /**
   * One invite (plain, transfer in, or move): sent once with a fresh clientContext, then the
   * operation's final status (a notification; design.md), then the invitees in the roster.
   */
  async function runOperation(operation: {
    kind: OperationKind;
    clientContext: string;
    invitees: IdentitySet[];
    replacesCallId?: string;
    body: (clientContext: string) => InviteParticipantsRequest;
    description: string;
  }): Promise<OperationOutcome> {
    const callId = heldCallId!;
    const { kind, clientContext, replacesCallId } = operation;
    const outcome: OperationOutcome = {
      kind,
      clientContext,
      status: 'failed',
      invitees: operation.invitees.map((identity) => ({ identity, joined: false, inLobby: false })),
    };
    // The replaced call's roster comes to our callback (seed 003, example 3): it is not an orphan.
    if (replacesCallId) replacedCallIds.push(replacesCallId);
    inFlight.set(clientContext, operation.description);
    refreshDetails();
    try {
      const sent = await sendOnce({
        what: `${operation.description} (call ${callId})`,
        send: () =>
          singleAttemptGraph.inviteParticipants.executeWithOptions(
            { ...singleAttemptGraphOptions, summary: operation.description },
            [callId, operation.body(clientContext)],
          ),
        applied: () => findOperation(session.calls, { callId, clientContext }) !== undefined,
      });
      if (sent.sent) {
        if (sent.value.operationId) outcome.operationId = sent.value.operationId;
        recordOperation(session.calls, callId, {
          id: sent.value.operationId ?? null,
          status: sent.value.status,
          clientContext,
        });
      }
      const final = await session.untilOperationDone(
        callId,
        { ...(outcome.operationId ? { operationId: outcome.operationId } : {}), clientContext },
        `${kind} operation`,
        timeouts.operationMs,
      );
      if (!outcome.operationId && final?.operationId) outcome.operationId = final.operationId;
      if (final?.resultInfo) outcome.resultInfo = final.resultInfo;
      if (final?.status === 'failed') {
        outcome.reason = `Graph reports the ${kind} operation failed: ${
          final.resultInfo?.message ?? `code ${final.resultInfo?.code ?? 'unknown'}`
        }`;
        return outcome;
      }

      // Plain invites are reported on this call's roster; a replacesCallId invite on the replaced
      // call's resource (seeds 000, 001, 003 example 3): look at both.
      const rosterCallIds =
        kind === 'transferIntoCall' && replacesCallId ? [callId, replacesCallId] : [callId];
      const entryOf = (identity: IdentitySet) => rosterEntry(rosterCallIds, identity);
      const present = (identity: IdentitySet) => {
        const entry = entryOf(identity);
        return entry !== undefined && (entry.joined || entry.seenInLobby);
      };
      await condition(() => operation.invitees.every(present) || callEnded(), timeouts.rosterMs, {
        summary: `wait for the invitees in the roster (${kind})`,
      });
      outcome.invitees = operation.invitees.map((identity): InviteeOutcome => {
        const entry = entryOf(identity);
        return { identity, joined: entry?.joined === true, inLobby: entry ? inLobby(entry) : false };
      });

      if (kind === 'transferIntoCall' && replacesCallId) {
        outcome.replacedCallEnded = await confirmGone(replacesCallId);
      }
      if (final?.status === 'completed') {
        outcome.status = 'completed';
      } else if (
        kind === 'transferIntoCall' ? outcome.replacedCallEnded : outcome.invitees.every((i) => i.joined)
      ) {
        // Graph never reported a final status (it may delete a completed operation), but what
        // the operation does has happened.
        outcome.status = 'completed';
      } else {
        outcome.reason = callEnded()
          ? `call ${callId} ended before the ${kind} operation had a final status`
          : `no final status for the ${kind} operation within ${timeouts.operationMs} ms, and ${
              kind === 'transferIntoCall'
                ? `call ${replacesCallId} is still there`
                : 'not every invitee joined'
            }`;
      }
      return outcome;
    } catch (error) {
      if (isCancellation(error)) throw error;
      outcome.reason = reasonOf(error);
      return outcome;
    } finally {
      inFlight.delete(clientContext);
      result.operations.push(outcome);
      log.info('operation finished', { kind, status: outcome.status, clientContext, reason: outcome.reason });
      refreshDetails();
    }
  }

  /**
   * `POST /communications/calls/{id}/transfer` with `transferTarget` and `transferee`, sent once;
   * then the call's reports: `transferAccepted` completes it, a return to `established` with a
   * failure resultInfo fails it. After `operationMs` without either, the call is read.
   */
  async function transferParticipant(request: TransferParticipantRequest): Promise<OperationOutcome> {
    const callId = heldCallId!;
    const clientContext = uuid4();
    const description = `transfer ${describeParty(request.transferee.identity)} to ${describeParty(request.transferTarget.identity)}`;
    const outcome: OperationOutcome = {
      kind: 'transfer',
      clientContext,
      status: 'failed',
      invitees: [{ identity: request.transferTarget.identity, joined: false, inLobby: false }],
    };
    const watch = { callId, observed: emptyTransferObserved() };
    transferWatch = watch;
    inFlight.set(clientContext, description);
    refreshDetails();
    const learnFrom = (read: {
      gone: boolean;
      state?: string;
      resultInfo?: OperationOutcome['resultInfo'];
    }) => {
      if (read.gone) watch.observed.ended ??= {};
      else if (read.state === 'transferAccepted') watch.observed.transferAccepted = true;
      else if (read.state === 'established' && isFailure(read.resultInfo))
        watch.observed.failure ??= read.resultInfo;
    };
    const known = () =>
      watch.observed.transferring ||
      watch.observed.transferAccepted ||
      transferVerdict(watch.observed).kind !== 'pending';
    try {
      await sendOnce({
        what: `${description} (call ${callId})`,
        send: () =>
          singleAttemptGraph.transferCall.executeWithOptions(
            { ...singleAttemptGraphOptions, summary: description },
            [
              callId,
              {
                transferTarget: { identity: request.transferTarget.identity },
                transferee: {
                  identity: request.transferee.identity,
                  ...(request.transferee.participantId
                    ? { participantId: request.transferee.participantId }
                    : {}),
                },
              },
            ],
          ),
        applied: known,
        reconcile: async () =>
          learnFrom(
            await retriedGraph.getCall.executeWithOptions(
              { ...retriedGraphOptions, summary: `did the transfer take effect? read call ${callId}` },
              [callId],
            ),
          ),
      });
      const settled = () =>
        watch.observed.transferAccepted || transferVerdict(watch.observed).kind !== 'pending';
      if (!(await condition(settled, timeouts.operationMs, { summary: 'wait for the transfer outcome' }))) {
        learnFrom(
          await retriedGraph.getCall.executeWithOptions(
            { ...retriedGraphOptions, summary: `no transfer outcome reported: read call ${callId}` },
            [callId],
          ),
        );
      }
      const verdict = transferVerdict(watch.observed);
      if (verdict.kind !== 'pending' && verdict.resultInfo) outcome.resultInfo = verdict.resultInfo;
      if (verdict.kind === 'failed') {
        outcome.reason = `Graph reports the transfer failed: ${
          verdict.resultInfo?.message ?? `code ${verdict.resultInfo?.code ?? 'unknown'}`
        }`;
      } else if (watch.observed.transferAccepted || verdict.kind === 'transferred') {
        outcome.status = 'completed';
        outcome.transferAccepted = watch.observed.transferAccepted;
      } else {
        outcome.reason = `no transfer outcome within ${timeouts.operationMs} ms (call ${callId})`;
      }
      return outcome;
    } catch (error) {
      if (isCancellation(error)) throw error;
      outcome.reason = reasonOf(error);
      return outcome;
    } finally {
      transferWatch = undefined;
      inFlight.delete(clientContext);
      result.operations.push(outcome);
      log.info('operation finished', { kind: 'transfer', status: outcome.status, reason: outcome.reason });
      refreshDetails();
    }
  }

  /** The party's entry in any of the calls' rosters, a joined one first. */
  function rosterEntry(callIds: string[], identity: IdentitySet): RosterEntry | undefined {
    const entries = callIds
      .map((id) => findInRoster(session.call(id), identity))
      .filter((entry): entry is RosterEntry => entry !== undefined);
    return entries.find((entry) => entry.joined) ?? entries[0];
  }

  /**
   * The replaced call's own notifications go to whoever answered it, maybe another system
   * (issue 5, "Transfer of a call answered elsewhere"): read it until Graph says it is gone.
   */
  async function confirmGone(replacedCallId: string): Promise<boolean> {
    const deadline = Date.now() + timeouts.originalCallEndedMs;
    const pauseMs = Math.max(1, Math.floor(timeouts.originalCallEndedMs / REPLACED_CALL_READS));
    const ended = () => hasEnded(session.call(replacedCallId));
    for (;;) {
      if (ended()) return true;
      const read = await retriedGraph.getCall.executeWithOptions(
        { ...retriedGraphOptions, summary: `read replaced call ${replacedCallId}` },
        [replacedCallId],
      );
      recordCallRead(session.calls, replacedCallId, read);
      if (ended()) return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await condition(ended, Math.min(pauseMs, remaining), {
        summary: `wait for call ${replacedCallId} to end`,
      });
    }
  }

  /**
   * A run that continued as new: the call it holds is established, and its roster is what the
   * previous run had seen, fed to the reducer as the roster notifications it was made of.
   */
  function restoreCall(from: BotCallResume): void {
    session.hold(from.callId);
    session.hangUpUnclaimedCalls(() => [from.callId, ...replacedCallIds], input.callbackUri);
    recordCallRead(session.calls, from.callId, { gone: false, state: 'established' });
    const report = (participants: Participant[]) =>
      applyNotification(session.calls, {
        kind: 'participants',
        changeType: 'updated',
        callId: from.callId,
        resourceUrl: `/communications/calls/${from.callId}/participants`,
        participants,
      });
    const participant = (party: BotCallResume['roster'][number], flags: Partial<Participant>): Participant =>
      ({
        ...(party.participantId ? { id: party.participantId } : {}),
        info: { identity: party.identity },
        ...flags,
      }) as Participant;
    report(
      from.roster
        .filter((party) => party.seenInLobby)
        .map((party) => participant(party, { isInLobby: true })),
    );
    report(from.roster.filter((party) => party.joined).map((party) => participant(party, {})));
    report(
      from.roster
        .filter((party) => party.removed)
        .map((party) => participant(party, { removedState: { reason: 'removed' } } as Partial<Participant>)),
    );
  }

  function snapshot(): BotCallSnapshot {
    const call = ownCall();
    const roster = Object.values(call?.roster ?? {}).map(
      (entry): RosterParticipant => ({
        id: entry.participantId ?? entry.key,
        identity: entry.identity,
        joined: entry.joined,
        inLobby: inLobby(entry),
        removed: entry.removed,
      }),
    );
    return {
      phase,
      ...(result.callId ? { callId: result.callId } : {}),
      requestKind: input.request.kind,
      roster,
      operations: result.operations.map((operation) => ({ ...operation })),
      operationsInFlight: inFlight.size,
      notificationsSeen: session.calls.notificationsSeen,
      ...(result.reason && phase !== 'established' ? { reason: result.reason } : {}),
    };
  }
}

/** In the lobby now: seen there and never seen admitted (the reducer's flags only ever turn on). */
function inLobby(entry: RosterEntry): boolean {
  return entry.seenInLobby && !entry.joined;
}

/**
 * So that the result does not depend on which of `terminated` and `deleted` came first: when the
 * reason has not arrived yet, give it a moment. Checked first, so an in-order run issues no command.
 */
async function awaitTerminationReason(session: CallSession, callId: string): Promise<void> {
  const known = () => session.call(callId)?.terminationReason !== undefined;
  if (known() || !patched(AWAIT_TERMINATION_REASON_PATCH)) return;
  await condition(known, TERMINATION_REASON_WAIT_MS, { summary: 'wait for the termination reason' });
}
