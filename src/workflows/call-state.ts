/**
 * The call-state reducer: folds Graph notifications into per-call state. Pure and free of
 * Temporal imports, so that it can be unit- and property-tested on its own; workflows only
 * feed it signals and wait on what it returns.
 *
 * Graph delivers notifications at least once and not always in order (design.md, "Ordering
 * and duplicates"; seed 004: "establishing/established notifications may arrive out of
 * order"). Every field here is therefore monotonic: applying the same notifications in any
 * order, any number of times, gives the same state (test/call-state.property.test.ts).
 *
 * Where two notifications disagree about a value, the winner is chosen by a fixed order of the
 * values (`preferred`), never by arrival. What is deliberately left to arrival order:
 * - `notificationsSeen` counts deliveries, duplicates included.
 * - The first terminal status of an operation wins (design.md): when Graph reported both
 *   `completed` and `failed` for one operation, the status the workflow saw first and acted on
 *   stays. Graph reports one final status per operation, so this never decides in practice.
 * - Operation matching when a clientContext is not unique within a call: a report without an
 *   operation id joins the one operation with its clientContext, and an operation reported under
 *   two clientContexts keeps one of them. Handoff sends a fresh clientContext with every invite;
 *   only the documentation pages reuse one (seed 003).
 */
import type {
  CallState,
  CommsOperation,
  GraphNotification,
  IdentitySet,
  OperationStatus,
  Participant,
  ResultInfo,
} from '../graph/index.js';
import { canonicalJson } from './canonical-json.js';

/** Call states by progress. A call never moves to a lower rank; `deleted` is final. */
export type TrackedCallState = CallState | 'deleted';

/** Progress: what `hasReached` compares. States of one rank are alternatives, not steps. */
const callStateRank: Record<TrackedCallState, number> = {
  incoming: 0,
  establishing: 1,
  ringing: 1,
  established: 2,
  hold: 2,
  transferring: 2,
  transferAccepted: 2,
  redirecting: 2,
  unknownFutureValue: 2,
  terminating: 3,
  terminated: 4,
  deleted: 5,
};

/**
 * -1 for no state, and for a value that is not a call state at all: signals are not validated
 * again inside the workflow, and `constructor` must not find Object's member (issue 9, item 4).
 */
export function callStateRankOf(state: TrackedCallState | undefined): number {
  return state !== undefined && Object.hasOwn(callStateRank, state) ? callStateRank[state] : -1;
}

/**
 * Breaks ties between states of one rank (`established` and `hold`, say) so that the state kept
 * does not depend on which notification came last. Workflows look at ranks only.
 */
const callStatesInOrder: readonly TrackedCallState[] = [
  'incoming',
  'establishing',
  'ringing',
  'established',
  'hold',
  'transferring',
  'transferAccepted',
  'redirecting',
  'unknownFutureValue',
  'terminating',
  'terminated',
  'deleted',
];

function isAfter(next: TrackedCallState, current: TrackedCallState | undefined): boolean {
  if (callStateRankOf(next) < 0) return false;
  if (current === undefined) return true;
  const byRank = callStateRankOf(next) - callStateRankOf(current);
  return byRank !== 0 ? byRank > 0 : callStatesInOrder.indexOf(next) > callStatesInOrder.indexOf(current);
}

/** Whether a call has got at least as far as `state`. */
export function hasReached(call: CallRecord | undefined, state: TrackedCallState): boolean {
  return call !== undefined && callStateRankOf(call.state) >= callStateRankOf(state);
}

export function hasEnded(call: CallRecord | undefined): boolean {
  return hasReached(call, 'terminated');
}

/** One party seen in a call's roster. */
export interface RosterEntry {
  /** The participant id when Graph gave one, else the identity id (seed 003 sends `id: null`). */
  key: string;
  /** Graph's participant id; of two spellings the one that sorts first. */
  participantId?: string;
  /** As reported with the highest roster sequence number; on a tie, the canonical-first one. */
  identity: IdentitySet;
  /** Seen in the roster outside the lobby at least once: they have joined. */
  joined: boolean;
  /** Seen waiting in the lobby (create call, seed 004 example 10). */
  seenInLobby: boolean;
  /** Reported removed by a delta roster (`removedState`). */
  removed: boolean;
  /**
   * The highest roster sequence number the participant was reported with (delta roster): the
   * identity kept is the one reported with it, so a late, older delta cannot replace it.
   */
  rosterSequenceNumber?: number;
}

/**
 * A map from ids Graph (or whoever posts a notification) chose to what the workflow knows of them.
 * Null-prototype, so that no id reaches Object.prototype: `__proto__` is an ordinary key here and
 * `constructor` or `toString` find nothing they did not put there (issue 9, item 4). Still a plain
 * object for JSON, queries and Object.values.
 */
export type IdMap<T> = Record<string, T>;

export function emptyIdMap<T>(): IdMap<T> {
  return Object.create(null) as IdMap<T>;
}

/** The entry for `key`, only if the map itself holds it (never one inherited from a prototype). */
function ownEntry<T>(map: IdMap<T>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

export interface CallRecord {
  /**
   * The id as Graph spelled it (ids are case-insensitive; keys are lower case). When Graph spelled
   * it more than one way, the spelling that sorts first, so arrival order does not decide.
   */
  callId: string;
  state?: TrackedCallState;
  direction?: string;
  terminationReason?: string;
  resultInfo?: ResultInfo;
  chatInfoThreadId?: string;
  roster: IdMap<RosterEntry>;
  /** Highest delta-roster sequence number applied. */
  rosterSequenceNumber?: number;
}

/**
 * One operation (invite, answer, …). Operations belong to a call (`/calls/{id}/operations/{id}`):
 * reports for different calls never merge, even with the same clientContext (seed 003 reuses one).
 */
export interface OperationRecord {
  callId: string;
  operationId?: string;
  clientContext?: string;
  status: OperationStatus;
  resultInfo?: ResultInfo;
}

export interface CallsState {
  /** Keyed by lower-case call id. Holds calls the workflow has not been told about yet, too. */
  calls: IdMap<CallRecord>;
  /** Sorted by call id, operation id and clientContext, so that arrival order does not show. */
  operations: OperationRecord[];
  /** How many notifications were applied, duplicates included: for the UI and tests. */
  notificationsSeen: number;
}

export function emptyCallsState(): CallsState {
  return { calls: emptyIdMap(), operations: [], notificationsSeen: 0 };
}

function keyOf(id: string): string {
  return id.toLowerCase();
}

/**
 * Of two reports of one value, the one to keep: a value beats none, and between two values the
 * one whose canonical JSON sorts first. Graph does not send two different values for these
 * fields; when the pages do (an id in two spellings), order must not decide.
 */
function preferred<T>(current: T | undefined, next: T | null | undefined): T | undefined {
  if (next === undefined || next === null || next === '') return current;
  if (current === undefined) return next;
  return canonicalJson(next) < canonicalJson(current) ? next : current;
}

export function findCall(state: CallsState, callId: string | undefined): CallRecord | undefined {
  return callId === undefined ? undefined : ownEntry(state.calls, keyOf(callId));
}

/**
 * Finds an operation by id, else by clientContext (an operation notification may lack the id,
 * seed 003 example 2), optionally within one call. Ids match case-insensitively; clientContext,
 * the caller's own opaque string, exactly.
 */
export function findOperation(
  state: CallsState,
  match: {
    operationId?: string | undefined;
    clientContext?: string | undefined;
    callId?: string | undefined;
  },
): OperationRecord | undefined {
  const callKey = match.callId === undefined ? undefined : keyOf(match.callId);
  const candidates = state.operations.filter(
    (operation) => callKey === undefined || keyOf(operation.callId) === callKey,
  );
  const operationKey = match.operationId ? keyOf(match.operationId) : undefined;
  const byId =
    operationKey === undefined
      ? undefined
      : candidates.find(
          (operation) => operation.operationId !== undefined && keyOf(operation.operationId) === operationKey,
        );
  if (byId || !match.clientContext) return byId;
  return candidates.find((operation) => operation.clientContext === match.clientContext);
}

export function isTerminal(status: OperationStatus | undefined): boolean {
  return status === 'completed' || status === 'failed';
}

function upsertCall(state: CallsState, callId: string): CallRecord {
  const key = keyOf(callId);
  const existing = ownEntry(state.calls, key);
  if (existing) {
    existing.callId = preferred(existing.callId, callId) ?? callId;
    return existing;
  }
  const created: CallRecord = { callId, roster: emptyIdMap() };
  state.calls[key] = created;
  return created;
}

function advance(call: CallRecord, next: TrackedCallState): void {
  if (isAfter(next, call.state)) call.state = next;
}

function identityId(identity: IdentitySet | undefined): string | undefined {
  if (!identity) return undefined;
  for (const member of [
    identity.user,
    identity.application,
    identity.applicationInstance,
    identity.phone,
    identity.guest,
    identity.device,
  ]) {
    if (member?.id) return member.id;
  }
  return undefined;
}

/** How a participant is keyed in a roster: its participant id, else its identity's id, lower-cased. */
export function rosterKey(participant: Participant): string | undefined {
  const id = participant.id ?? identityId(participant.info.identity);
  return id?.toLowerCase();
}

/** Orders reports of one participant: the higher sequence number first, then canonical JSON. */
function isNewerReport(
  next: { sequenceNumber: number | undefined; identity: IdentitySet },
  current: { sequenceNumber: number | undefined; identity: IdentitySet },
): boolean {
  const nextSequence = next.sequenceNumber ?? -1;
  const currentSequence = current.sequenceNumber ?? -1;
  if (nextSequence !== currentSequence) return nextSequence > currentSequence;
  return canonicalJson(next.identity) < canonicalJson(current.identity);
}

function applyParticipant(
  call: CallRecord,
  participant: Participant,
  notificationSequence: number | undefined,
): void {
  const key = rosterKey(participant);
  if (key === undefined) return;
  // A participant's own rosterSequenceNumber is exact; a delta notification's is that of its last delta.
  const sequenceNumber = participant.rosterSequenceNumber ?? notificationSequence;
  const identity = participant.info.identity;
  const existing = ownEntry(call.roster, key);
  const entry: RosterEntry = existing ?? {
    key,
    identity,
    joined: false,
    seenInLobby: false,
    removed: false,
    ...(sequenceNumber !== undefined ? { rosterSequenceNumber: sequenceNumber } : {}),
  };
  // Seed 004 gives one participant id two identities (example 5's bot, example 10's guest): the
  // later delta's wins, and on a tie the canonical order decides, never arrival.
  if (
    existing &&
    isNewerReport(
      { sequenceNumber, identity },
      { sequenceNumber: existing.rosterSequenceNumber, identity: existing.identity },
    )
  ) {
    entry.identity = identity;
    if (sequenceNumber !== undefined) entry.rosterSequenceNumber = sequenceNumber;
  }
  const participantId = preferred(entry.participantId, participant.id);
  if (participantId !== undefined) entry.participantId = participantId;
  // Flags say what was ever seen, so they are the same in any order. With delta roster a
  // participant may be removed and come back: both flags are then set.
  if (participant.removedState) entry.removed = true;
  else if (participant.isInLobby) entry.seenInLobby = true;
  else entry.joined = true;
  call.roster[key] = entry;
}

function applyCall(state: CallsState, notification: Extract<GraphNotification, { kind: 'call' }>): void {
  const call = upsertCall(state, notification.callId);
  const data = notification.call;
  if (notification.changeType === 'deleted') advance(call, 'deleted');
  else if (data.state) advance(call, data.state);
  // `created` with no state is the incoming call of seed 000 written by an older service.
  else if (notification.changeType === 'created') advance(call, 'incoming');
  setPreferred(call, 'direction', data.direction);
  setPreferred(call, 'terminationReason', data.terminationReason);
  setPreferred(call, 'resultInfo', data.resultInfo);
  setPreferred(call, 'chatInfoThreadId', data.chatInfo?.threadId);
}

/** Sets an optional member to the preferred of its value and `next`, leaving it out while there is none. */
function setPreferred<T extends object, K extends keyof T>(
  target: T,
  member: K,
  next: T[K] | null | undefined,
): void {
  const value = preferred(target[member], next);
  if (value !== undefined) target[member] = value;
}

function applyOperation(
  state: CallsState,
  notification: Extract<GraphNotification, { kind: 'operation' }>,
): void {
  recordOperation(state, notification.callId, {
    ...notification.operation,
    id: notification.operationId ?? notification.operation.id ?? null,
  });
}

/**
 * Records what is known of an operation, from a notification or from an HTTP response (the
 * response to invite says `running`; the result only ever comes as a notification, design.md).
 * The first terminal status wins; a non-terminal status never overwrites a terminal one. A
 * notification may come before the response that announced the operation (design.md): both
 * land in one record whichever is recorded first.
 */
export function recordOperation(state: CallsState, callId: string, operation: CommsOperation): CallsState {
  const operationId = operation.id || undefined;
  const clientContext = operation.clientContext || undefined;
  // Neither id nor clientContext: nothing could ever find it, and every redelivery would add a record.
  if (operationId === undefined && clientContext === undefined) return state;
  let record = matchingOperation(state, callId, operationId, clientContext);
  if (!record) {
    record = { callId, status: operation.status };
    if (operation.resultInfo) record.resultInfo = operation.resultInfo;
    state.operations.push(record);
  } else {
    setPreferred(record, 'callId', callId);
    mergeStatus(record, operation);
  }
  setPreferred(record, 'operationId', operationId);
  setPreferred(record, 'clientContext', clientContext);
  state.operations.sort(compareOperations);
  return state;
}

/**
 * The record a report belongs to, within its call. By id when it has one, taking over a record
 * that so far had only the clientContext (a notification with `id: null` first, the response
 * after). Without id, by clientContext: the record without id for it if there is one (so a
 * redelivery finds its own record), else the one operation that has it. When several operations
 * of one call share the clientContext, the report cannot be told apart and stays on its own.
 */
function matchingOperation(
  state: CallsState,
  callId: string,
  operationId: string | undefined,
  clientContext: string | undefined,
): OperationRecord | undefined {
  const sameCall = state.operations.filter((operation) => keyOf(operation.callId) === keyOf(callId));
  const sameContext =
    clientContext === undefined
      ? []
      : sameCall.filter((operation) => operation.clientContext === clientContext);
  if (operationId !== undefined) {
    const byId = sameCall.find(
      (operation) =>
        operation.operationId !== undefined && keyOf(operation.operationId) === keyOf(operationId),
    );
    return byId ?? sameContext.find((operation) => operation.operationId === undefined);
  }
  return (
    sameContext.find((operation) => operation.operationId === undefined) ??
    (sameContext.length === 1 ? sameContext[0] : undefined)
  );
}

function mergeStatus(record: OperationRecord, operation: CommsOperation): void {
  if (operation.status === record.status) {
    // The same status reported twice: keep resultInfo whichever report carried it.
    setPreferred(record, 'resultInfo', operation.resultInfo);
    return;
  }
  if (isTerminal(record.status) || operationStatusRank(operation.status) < operationStatusRank(record.status))
    return;
  // A further status: its resultInfo describes it, an earlier status's does not.
  record.status = operation.status;
  if (operation.resultInfo) record.resultInfo = operation.resultInfo;
  else delete record.resultInfo;
}

const operationStatusRanks: Readonly<Record<OperationStatus, number>> = {
  notStarted: 0,
  running: 1,
  completed: 2,
  failed: 2,
};

/** -1 for a value that is not an operation status (see callStateRankOf). */
function operationStatusRank(status: OperationStatus): number {
  return Object.hasOwn(operationStatusRanks, status) ? operationStatusRanks[status] : -1;
}

function compareOperations(a: OperationRecord, b: OperationRecord): number {
  const sortKey = (operation: OperationRecord) => [
    keyOf(operation.callId),
    keyOf(operation.operationId ?? ''),
    operation.clientContext ?? '',
  ];
  const left = sortKey(a);
  const right = sortKey(b);
  for (let index = 0; index < left.length; index++) {
    const x = left[index] ?? '';
    const y = right[index] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function applyParticipants(
  state: CallsState,
  notification: Extract<GraphNotification, { kind: 'participants' }>,
): void {
  const call = upsertCall(state, notification.callId);
  for (const participant of notification.participants)
    applyParticipant(call, participant, notification.sequenceNumber);
  if (notification.sequenceNumber !== undefined) {
    call.rosterSequenceNumber = Math.max(call.rosterSequenceNumber ?? 0, notification.sequenceNumber);
  }
}

/**
 * Applies one notification. Mutates and returns `state` (Temporal workflow state is local to
 * one execution; cloning on every signal would only cost time). Use `reduceNotifications` with
 * a fresh state for a functional fold.
 */
export function applyNotification(state: CallsState, notification: GraphNotification): CallsState {
  state.notificationsSeen += 1;
  switch (notification.kind) {
    case 'call':
      applyCall(state, notification);
      break;
    case 'operation':
      applyOperation(state, notification);
      break;
    case 'participants':
      applyParticipants(state, notification);
      break;
    case 'other':
      break;
  }
  return state;
}

export function reduceNotifications(
  notifications: readonly GraphNotification[],
  initial: CallsState = emptyCallsState(),
): CallsState {
  return notifications.reduce(applyNotification, initial);
}

/** Records what a read of the call (GET, used to reconcile after a timeout) said. */
export function recordCallRead(
  state: CallsState,
  callId: string,
  read: { state?: CallState | null; gone: boolean; terminationReason?: string | null },
): CallsState {
  const call = upsertCall(state, callId);
  if (read.gone) advance(call, 'deleted');
  else if (read.state) advance(call, read.state);
  setPreferred(call, 'terminationReason', read.terminationReason);
  return state;
}

/**
 * The roster entry for a party, matched by id case-insensitively whatever the identity's kind
 * (see `sameParty` in src/graph: seed 003 invites a user the roster reports as an application).
 * A party reported with and without participant id has two entries: a joined one is returned
 * first, then by key, so the answer does not depend on which entry was made first.
 */
export function findInRoster(call: CallRecord | undefined, identity: IdentitySet): RosterEntry | undefined {
  const id = identityId(identity)?.toLowerCase();
  if (!call || id === undefined) return undefined;
  const matches = Object.values(call.roster).filter(
    (entry) => identityId(entry.identity)?.toLowerCase() === id,
  );
  matches.sort((a, b) => Number(b.joined) - Number(a.joined) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return matches[0];
}
