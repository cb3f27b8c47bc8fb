/**
 * What the soak checks after every transfer closed, from the simulator's own records (every Graph
 * request it answered, every call it holds) and from the transfers' outcomes. Pure functions: no
 * Temporal, no HTTP.
 */
import type { RequestRecord, SimulatedCall } from '../../src/simulator/index.js';
import { transferWorkflowId } from '../../src/workflows/definitions.js';
import type { TransferResult } from '../../src/workflows/transfer/types.js';

/** How one transfer ended, as Temporal reports it. */
export interface TransferOutcome {
  workflowId: string;
  p2pCallId: string;
  /** `notStarted`: POST /api/transfers never got a 201 (or 409 for an earlier attempt that had). */
  status: 'completed' | 'failed' | 'running' | 'notStarted' | 'other';
  /** The workflow's result; a failed transfer attaches it to its TransferFailed failure. */
  result?: TransferResult;
  /** Why it failed (TransferResult.reason, or the failure's message), or why it did not start. */
  reason?: string;
  /** Temporal's start and close times. */
  startedAt?: Date;
  closedAt?: Date;
}

/** A Graph request that changes state and must take effect once per transfer. */
export type SideEffectKind = 'answer' | 'createCall' | 'invite';

export interface DuplicateSideEffect {
  workflowId: string;
  kind: SideEffectKind;
  /** How many requests of this kind Graph carried out (2xx) for the transfer. */
  succeeded: number;
  /** When each was answered, for the report. */
  at: Date[];
  /** For createCall: the ids of the group calls Graph created. */
  createdCallIds: string[];
}

/**
 * What became of the extra group calls of a duplicated createCall: the transfer finds a twin from
 * its notifications and hangs it up (design.md, "Failure and retries"), if they come in time.
 */
export function describeDuplicate(
  duplicate: DuplicateSideEffect,
  calls: readonly SimulatedCall[],
  outcome?: TransferOutcome,
): string {
  const base = `${duplicate.workflowId}: ${duplicate.succeeded} x ${duplicate.kind}`;
  if (duplicate.kind !== 'createCall') return base;
  const kept = outcome?.result?.groupCallId?.toLowerCase();
  const hungUp = new Set((outcome?.result?.orphanedCallsHungUp ?? []).map((id) => id.toLowerCase()));
  const extras = duplicate.createdCallIds
    .filter((id) => id.toLowerCase() !== kept)
    .map((id) => {
      const call = calls.find((candidate) => candidate.id.toLowerCase() === id.toLowerCase());
      const fate = hungUp.has(id.toLowerCase())
        ? 'hung up by the transfer'
        : call?.deleted
          ? 'deleted'
          : `still ${call?.state ?? 'unknown'}`;
      return `${id} (${fate})`;
    });
  return `${base}; extra group call ${extras.join(', ')}`;
}

/**
 * A twin group call that a lost create-call response forced: Graph carried the first request out
 * but its answer never arrived and its notifications came after the workflow had to retry, so no
 * client could have known (design.md, "Failure and retries"). It is compensated when every group
 * call of the duplicate but the one the transfer kept has ended: hung up by the transfer, or by a
 * stray-call owner once its late notifications came. Only runs that inject lost responses may
 * excuse a duplicate this way; any other duplicate is a fault.
 */
export function isCompensatedTwin(
  duplicate: DuplicateSideEffect,
  calls: readonly SimulatedCall[],
  outcome?: TransferOutcome,
): boolean {
  if (duplicate.kind !== 'createCall') return false;
  const kept = outcome?.result?.groupCallId?.toLowerCase();
  const extras = duplicate.createdCallIds.filter((id) => id.toLowerCase() !== kept);
  return (
    extras.length > 0 &&
    extras.every((id) => {
      const call = calls.find((candidate) => candidate.id.toLowerCase() === id.toLowerCase());
      return call !== undefined && (call.deleted || call.state === 'terminated');
    })
  );
}

export interface OrphanedGroupCall {
  callId: string;
  /** The transfer whose callbackUri the call reports to, if any. */
  workflowId?: string;
  state: string;
  why: string;
}

export interface Inconsistency {
  workflowId: string;
  problem: string;
}

const answerPath = /\/calls\/([^/]+)\/answer$/i;
const invitePath = /\/calls\/([^/]+)\/participants\/invite$/i;
const createCallPath = /\/(?:communications|app)\/calls$/i;

function ok(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The workflow a callbackUri `${PUBLIC_BASE_URL}/api/calls/<workflowId>/<callbackKey>` names. */
export function workflowIdOfCallback(callbackUri: unknown): string | undefined {
  if (typeof callbackUri !== 'string') return undefined;
  // `/api/calls/<workflowId>/<callbackKey>` (the key signs the workflow id; docs/security.md).
  const match = /\/api\/calls\/([^/?#]+)\/[^/?#]+$/.exec(callbackUri);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

/** Which transfer a Graph request belongs to and which side effect it is, if it is one. */
export function classifySideEffect(
  request: Pick<RequestRecord, 'method' | 'path' | 'body'>,
  callbackOf: (callId: string) => string | undefined,
): { kind: SideEffectKind; workflowId?: string } | undefined {
  if (request.method !== 'POST') return undefined;
  const answer = answerPath.exec(request.path);
  if (answer?.[1]) return { kind: 'answer', workflowId: transferWorkflowId(answer[1].toLowerCase()) };
  const invite = invitePath.exec(request.path);
  if (invite?.[1]) {
    const body = request.body as { participants?: Array<{ replacesCallId?: string }> } | undefined;
    const replaced = body?.participants?.[0]?.replacesCallId;
    const workflowId = replaced
      ? transferWorkflowId(replaced.toLowerCase())
      : workflowIdOfCallback(callbackOf(invite[1]));
    return { kind: 'invite', ...(workflowId ? { workflowId } : {}) };
  }
  if (createCallPath.test(request.path)) {
    const workflowId = workflowIdOfCallback(
      (request.body as { callbackUri?: unknown } | undefined)?.callbackUri,
    );
    return { kind: 'createCall', ...(workflowId ? { workflowId } : {}) };
  }
  return undefined;
}

/**
 * Per transfer, more than one answer, createCall or invite that Graph carried out. Refused
 * attempts (429/503 throttling, a 409) took no effect and do not count.
 */
export function findDuplicateSideEffects(
  requests: readonly RequestRecord[],
  calls: readonly SimulatedCall[],
): DuplicateSideEffect[] {
  const callbacks = new Map(calls.map((call) => [call.id.toLowerCase(), call.callbackUri]));
  const callbackOf = (callId: string) => callbacks.get(callId.toLowerCase());
  const carriedOut = new Map<
    string,
    { workflowId: string; kind: SideEffectKind; at: Date[]; createdCallIds: string[] }
  >();
  for (const request of requests) {
    if (!ok(request.status)) continue;
    const effect = classifySideEffect(request, callbackOf);
    if (!effect) continue;
    const workflowId = effect.workflowId?.toLowerCase() ?? '(unattributed)';
    const key = `${workflowId} ${effect.kind}`;
    const entry = carriedOut.get(key) ?? { workflowId, kind: effect.kind, at: [], createdCallIds: [] };
    entry.at.push(request.at);
    const createdId = (request.response as { id?: unknown } | undefined)?.id;
    if (effect.kind === 'createCall' && typeof createdId === 'string') entry.createdCallIds.push(createdId);
    carriedOut.set(key, entry);
  }
  return [...carriedOut.values()]
    .filter((entry) => entry.at.length > 1)
    .map((entry) => ({ ...entry, succeeded: entry.at.length }));
}

function isLive(call: SimulatedCall): boolean {
  return !call.deleted && call.state !== 'terminated' && call.state !== 'terminating';
}

/**
 * Group calls Graph still holds that no completed transfer took the caller into: a group call of a
 * failed transfer that was not hung up, a twin of a retried createCall, or one no transfer knows.
 */
export function findOrphanedGroupCalls(
  calls: readonly SimulatedCall[],
  outcomes: readonly TransferOutcome[],
): OrphanedGroupCall[] {
  const ownerOf = new Map<string, TransferOutcome>();
  for (const outcome of outcomes) {
    const groupCallId = outcome.result?.groupCallId;
    if (groupCallId) ownerOf.set(groupCallId.toLowerCase(), outcome);
  }
  const byWorkflow = new Map(outcomes.map((outcome) => [outcome.workflowId.toLowerCase(), outcome]));
  const orphans: OrphanedGroupCall[] = [];
  for (const call of calls) {
    if (call.kind !== 'group' || !isLive(call)) continue;
    const owner = ownerOf.get(call.id.toLowerCase());
    if (owner?.status === 'completed') continue;
    const workflowId = workflowIdOfCallback(call.callbackUri);
    const reportsTo = workflowId ? byWorkflow.get(workflowId.toLowerCase()) : undefined;
    let why: string;
    if (owner) {
      why = `transfer ${owner.workflowId} ended ${owner.status} and did not hang up its group call`;
    } else if (reportsTo?.result?.groupCallId) {
      why = `a second group call of transfer ${reportsTo.workflowId} (${reportsTo.status}), whose group call is ${reportsTo.result.groupCallId}: never hung up`;
    } else if (reportsTo) {
      why = `created for transfer ${reportsTo.workflowId} (${reportsTo.status}), which names no group call`;
    } else {
      why = 'no transfer of this soak created it';
    }
    orphans.push({ callId: call.id, ...(workflowId ? { workflowId } : {}), state: call.state, why });
  }
  return orphans;
}

/**
 * A completed transfer must agree with Graph: its group call is established and holds the caller's
 * call, and the original P2P call was replaced by it and is gone.
 */
export function findInconsistentTransfers(
  calls: readonly SimulatedCall[],
  outcomes: readonly TransferOutcome[],
): Inconsistency[] {
  const byId = new Map(calls.map((call) => [call.id.toLowerCase(), call]));
  const problems: Inconsistency[] = [];
  for (const outcome of outcomes) {
    if (outcome.status !== 'completed' || !outcome.result) continue;
    const { workflowId, result } = outcome;
    const groupCall = result.groupCallId ? byId.get(result.groupCallId.toLowerCase()) : undefined;
    const p2pCall = byId.get(result.p2pCallId.toLowerCase());
    if (!groupCall) {
      problems.push({
        workflowId,
        problem: `its group call ${result.groupCallId ?? '(none)'} is unknown to Graph`,
      });
    } else if (result.botLeg === 'left' || result.botLeg === 'stayed') {
      // The bot left its own leg once the caller was in (botLegAfterTransfer `leave`); the
      // simulator then ends the whole call, Graph would keep it for the others. `stayed`: its
      // owner hung up by the time the soak audits. Either way: not a call left open.
    } else if (!isLive(groupCall) || groupCall.state !== 'established') {
      problems.push({
        workflowId,
        problem: `its group call ${groupCall.id} is ${groupCall.deleted ? 'deleted' : groupCall.state}, not established`,
      });
    }
    if (!p2pCall) {
      problems.push({ workflowId, problem: `its P2P call ${result.p2pCallId} is unknown to Graph` });
    } else {
      if (!p2pCall.deleted) problems.push({ workflowId, problem: `its P2P call is still ${p2pCall.state}` });
      const replacedBy = p2pCall.replacedBy?.callId;
      if (!replacedBy || replacedBy.toLowerCase() !== result.groupCallId?.toLowerCase()) {
        problems.push({
          workflowId,
          problem: `its P2P call was replaced by ${replacedBy ?? 'nothing'}, not by group call ${result.groupCallId}`,
        });
      }
    }
  }
  return problems;
}

/** A call Graph still holds that breaks "every call the bot is in has an owner" (issue 10). */
export interface UnownedCall {
  callId: string;
  kind: SimulatedCall['kind'];
  state: string;
  workflowId?: string;
  why: string;
}

/**
 * Calls Graph still holds (live) whose callback names a workflow that is no longer running:
 * nobody keeps them alive, follows them or will hang them up. `running` lists the workflow ids
 * still running (an owner that continued as new keeps its id).
 */
export function findCallsWithoutOwner(
  calls: readonly SimulatedCall[],
  running: ReadonlySet<string>,
): UnownedCall[] {
  const unowned: UnownedCall[] = [];
  for (const call of calls) {
    if (!isLive(call)) continue;
    const workflowId = workflowIdOfCallback(call.callbackUri);
    if (!workflowId || running.has(workflowId.toLowerCase())) continue;
    unowned.push({
      callId: call.id,
      kind: call.kind,
      state: call.state,
      workflowId,
      why: `reports to ${workflowId}, which is not running`,
    });
  }
  return unowned;
}

/**
 * Calls that went longer than `lapseMs` without a keepAlive Graph accepted while they were ours:
 * from creation to the first keepAlive, between keepAlives, and from the last one to the call's end
 * (our hang-up, the invite that replaced it, or `now` for a call still live). Graph ends a call
 * after 45 minutes without one; with short intervals a lapse shows that keep-alive stopped.
 */
export function findLapsedKeepAlives(
  calls: readonly SimulatedCall[],
  requests: readonly RequestRecord[],
  now: Date,
  lapseMs: number,
): UnownedCall[] {
  const lapsed: UnownedCall[] = [];
  for (const call of calls) {
    const id = call.id.toLowerCase();
    const about = requests.filter((request) => request.path.toLowerCase().includes(`/calls/${id}`));
    const keepAlives = about
      .filter(
        (request) => request.method === 'POST' && request.path.endsWith('/keepAlive') && ok(request.status),
      )
      .map((request) => request.at.getTime());
    const hangUp = about.find((request) => request.method === 'DELETE' && ok(request.status))?.at.getTime();
    const replacedAt = call.replacedBy
      ? requests
          .find(
            (request) =>
              request.path.endsWith('/participants/invite') &&
              ok(request.status) &&
              JSON.stringify(request.body ?? '').includes(call.id),
          )
          ?.at.getTime()
      : undefined;
    const end = isLive(call) ? now.getTime() : (hangUp ?? replacedAt);
    const times = [call.createdAt.getTime(), ...keepAlives, ...(end !== undefined ? [end] : [])].sort(
      (x, y) => x - y,
    );
    let longest = 0;
    for (let index = 1; index < times.length; index++) {
      longest = Math.max(longest, times[index]! - times[index - 1]!);
    }
    if (longest > lapseMs) {
      lapsed.push({
        callId: call.id,
        kind: call.kind,
        state: call.deleted ? 'deleted' : call.state,
        why: `${Math.round(longest / 1000)} s without an accepted keepAlive (limit ${Math.round(lapseMs / 1000)} s)`,
      });
    }
  }
  return lapsed;
}

/**
 * P2P calls the bot answered that are still live after their transfer failed: a caller left in a
 * call with nobody on the other end (issue 10.3).
 */
export function findSilentCallers(
  calls: readonly SimulatedCall[],
  outcomes: readonly TransferOutcome[],
): UnownedCall[] {
  const byId = new Map(calls.map((call) => [call.id.toLowerCase(), call]));
  return outcomes
    .filter((outcome) => outcome.status === 'failed' || outcome.status === 'other')
    .flatMap((outcome) => {
      const call = byId.get(outcome.p2pCallId.toLowerCase());
      if (!call || !isLive(call) || call.state === 'incoming') return [];
      return [
        {
          callId: call.id,
          kind: call.kind,
          state: call.state,
          workflowId: outcome.workflowId,
          why: `transfer ${outcome.workflowId} failed (${outcome.reason ?? 'no reason'}) and left the P2P call ${call.state}`,
        },
      ];
    });
}
