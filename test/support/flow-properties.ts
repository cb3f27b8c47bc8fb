/**
 * Workflow-level properties (design.md, "Ordering and duplicates"; issue 4, item 1): whatever order
 * Graph's notifications come in, however often, however late, and whether or not they overtake the
 * HTTP response that caused them, a flow ends as it does when everything arrives in order: the
 * same result, the same Graph requests, no extra call, no second invite.
 *
 * Many runs go CONCURRENTLY through one stack (one dev server, worker, webhook, simulator). Each
 * run has its own incoming call and its own delivery conditions: a simulator delivery profile keyed
 * by a text only that run's callback URL carries (its own seeded random source, so concurrent runs
 * neither share nor wait behind each other's delays), and scripted response delays matched by the
 * same text in the request body. Each run is reduced to a summary with ids replaced by role names
 * and compared with the summary of one in-order run.
 *
 * A flow plugs in as a `FlowScenario`: how to start one run, which requests change state, and how
 * to summarise what came out. `p2pTransferScenario` below is the first.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import fc from 'fast-check';
import { seedMeetingTarget } from '../../src/config/env.js';
import { describeIdentity, type GraphNotification, type IdentitySet } from '../../src/graph/index.js';
import type {
  DeliveryRecord,
  GraphSimulator,
  RequestRecord,
  SimulatedCall,
} from '../../src/simulator/index.js';
import { defaultCaller } from '../../src/simulator/scenarios.js';
import type { DeliveryProfile, NotificationKind, NotificationMatch } from '../../src/simulator/settings.js';
import {
  TRANSFER_WORKFLOW_TYPE,
  type TransferRequestFields,
  type TransferWorkflow,
  transferInputFor,
  transferStartOptions,
} from '../../src/webhook/transfer-start.js';
import type { botCall } from '../../src/workflows/bot-call/bot-call.js';
import {
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
  hangUpSignal,
  inviteParticipantsUpdate,
  moveParticipantUpdate,
  transferIntoCallUpdate,
} from '../../src/workflows/bot-call/definitions.js';
import type {
  BotCallInput,
  BotCallResult,
  BotCallSnapshot,
  CallRequest,
  OperationOutcome,
} from '../../src/workflows/bot-call/types.js';
import { type NotificationDelivery, transferWorkflowId } from '../../src/workflows/definitions.js';
import type { TransferInput, TransferResult, TransferTimeouts } from '../../src/workflows/transfer/types.js';
import {
  activityTypeOf,
  eventTimeMs,
  eventTypeName,
  type HandoffTestStack,
  type HistoryEvent,
  localActivityOf,
  waitUntil,
} from './handoff-stack.js';
import { prototypeMemberIds } from './hostile-ids.js';
import { stackCallbackUri } from './webhook-fixtures.js';

// ---------------------------------------------------------------------------------------------
// Delivery conditions

/** How Graph's notifications and responses reach one run: what the property varies. */
export interface DeliveryConditions {
  /** Seeds the simulator's choices for this run (shuffles, duplicates, jitter). */
  seed: number;
  /** Probability that the notifications one Graph event produces are shuffled (per-call reordering). */
  reorderWithinEvent: number;
  /** Share of notifications delivered twice. */
  duplicateRate: number;
  /**
   * Each notification is posted on its own, up to this many ms late: notifications of different
   * events overtake each other (global reordering). 0: one after the other, in order.
   */
  overtakeWithinMs: number;
  /** Notifications that come this much later than the rest (by kind, optionally of one call only). */
  late: Array<NotificationMatch & { delayMs: number }>;
  /**
   * Responses Graph holds back after acting, by activity type (`createCall`: 800): the request's
   * notifications arrive before its response does.
   */
  slowResponses: Record<string, number>;
  /**
   * The caller's user id when not the seed's: an id that names an Object.prototype member
   * (`__proto__`, `constructor`, …) must change nothing (issue 9, item 4). Scenarios that place
   * no call of a caller ignore it.
   */
  callerId?: string | undefined;
}

/** Everything in order: the baseline. */
export const inOrder: DeliveryConditions = {
  seed: 0,
  reorderWithinEvent: 0,
  duplicateRate: 0,
  overtakeWithinMs: 0,
  late: [],
  slowResponses: {},
};

export interface DeliveryConditionsOptions {
  /** Upper bound of a late notification's delay. Keep it well below the flow's wait timeouts. */
  maxLateMs?: number;
  /** Upper bound of a held-back response. */
  maxResponseDelayMs?: number;
}

/** Any delivery conditions Graph could produce for the scenario's notifications and requests. */
export function deliveryConditionsFor(
  scenario: FlowScenario,
  options: DeliveryConditionsOptions = {},
): fc.Arbitrary<DeliveryConditions> {
  const maxLateMs = options.maxLateMs ?? 1_500;
  const maxResponseDelayMs = options.maxResponseDelayMs ?? 1_200;
  const lateRule = fc.record({
    kind: fc.constantFrom(...scenario.notificationKinds),
    call: fc.option(fc.constantFrom(...scenario.callNumbers), { nil: undefined, freq: 2 }),
    delayMs: fc.integer({ min: 100, max: maxLateMs }),
  });
  // Each response is held back in half the runs.
  const slowResponse = fc.option(fc.integer({ min: 100, max: maxResponseDelayMs }), {
    nil: undefined,
    freq: 2,
  });
  return fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    reorderWithinEvent: fc.constantFrom(0, 0.5, 1),
    callerId: fc.option(fc.constantFrom(...prototypeMemberIds), { nil: undefined, freq: 2 }),
    duplicateRate: fc.constantFrom(0, 0.25, 0.5),
    overtakeWithinMs: fc.constantFrom(0, 0, 60, 300, 800),
    late: fc.uniqueArray(lateRule, { maxLength: 3, selector: (rule) => `${rule.kind}/${rule.call}` }),
    slowResponses: fc
      .tuple(...scenario.stateChangingRequests.map(() => slowResponse))
      .map((delays) =>
        Object.fromEntries(
          scenario.stateChangingRequests.flatMap((request, index) =>
            delays[index] === undefined ? [] : [[request.activity, delays[index]]],
          ),
        ),
      ),
  });
}

/** The simulator delivery profile that gives a run these conditions; undefined for `inOrder`. */
export function deliveryProfileFor(key: string, conditions: DeliveryConditions): DeliveryProfile | undefined {
  if (conditions === inOrder) return undefined;
  return {
    urlContains: key,
    seed: conditions.seed,
    reorder: conditions.reorderWithinEvent,
    duplicateRate: conditions.duplicateRate,
    jitterMs: conditions.overtakeWithinMs,
    independent: conditions.overtakeWithinMs > 0,
    late: conditions.late,
  };
}

/**
 * The delivery profiles of the runs in flight on one simulator. Installing one replaces the
 * simulator's list, so every run's profile goes through here.
 */
export interface DeliveryProfiles {
  add(profile: DeliveryProfile): void;
  remove(urlContains: string): void;
}

export function deliveryProfiles(sim: GraphSimulator): DeliveryProfiles {
  const installed = new Map<string, DeliveryProfile>();
  const sync = () => sim.configure({ notifications: { profiles: [...installed.values()] } });
  return {
    add(profile) {
      installed.set(profile.urlContains, profile);
      sync();
    },
    remove(urlContains) {
      if (installed.delete(urlContains)) sync();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** A Graph request that changes state, sent by one activity: its response may be held back. */
export interface StateChangingRequest {
  /** The activity type that sends it, e.g. `createCall`. */
  activity: string;
  method: string;
  path: RegExp;
}

export interface StartedRun {
  workflowId: string;
}

/** How one run ended, as the client saw it. */
export interface RunOutcome {
  status: 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timedOut' | 'noOutcome';
  /** The workflow's result; for a failure, the result its details carry (TransferFailed does). */
  result?: unknown;
  failure?: { type?: string; message: string };
}

/** What one run left behind: its outcome and everything Graph saw of it. */
export interface RunFootprint {
  key: string;
  workflowId: string;
  outcome: RunOutcome;
  /** Calls whose callback URL or id carries the run's key. */
  calls: SimulatedCall[];
  /** Graph requests about those calls, or with the key in their body (a create call). */
  requests: RequestRecord[];
  /** Notification POSTs to the run's callback. */
  deliveries: DeliveryRecord[];
  history: HistoryEvent[];
}

/** Replaces every id of a run in a text by its role: `/calls/{p2p}/answer`. */
export type IdNamer = (text: string) => string;

/** The part of a run that must not depend on delivery. Plain JSON, compared with toEqual. */
export type FlowSummary = Record<string, unknown>;

export interface FlowScenario {
  name: string;
  /** The requests the flow sends that change state (answer, create call, invite, …). */
  stateChangingRequests: StateChangingRequest[];
  /** Kinds of notification Graph posts to the run's callback: the ones that may come late. */
  notificationKinds: NotificationKind[];
  /** Numbers of the calls reporting to a run's callback (0: the first one seen), for per-call lateness. */
  callNumbers: number[];
  /**
   * A fresh key for a run. It must appear in the callback URL the workflow gives Graph, in the
   * body of every state-changing request and in no other run's: a call id or a workflow id.
   */
  newKey(): string;
  /** Starts a run; the harness has installed its delivery conditions already. */
  start(stack: HandoffTestStack, key: string, conditions?: DeliveryConditions): Promise<StartedRun>;
  /** Role names for the ids a run produced ({ [p2pCallId]: 'p2p', … }). */
  roles(run: RunFootprint): Record<string, string>;
  /** Reduces a run to what must be the same in every delivery, ids named by role. */
  summarise(run: RunFootprint, name: IdNamer): FlowSummary;
}

const uuidLike = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

export function idNamer(roles: Record<string, string>): IdNamer {
  const ids = Object.keys(roles).sort((a, b) => b.length - a.length);
  return (text) => {
    let named = text;
    for (const id of ids) named = named.replace(new RegExp(escapeRegExp(id), 'gi'), `{${roles[id]}}`);
    return named.replace(uuidLike, '{unknown id}');
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A run's requests, described and sorted, less the reads of a call after the bot's own hang-up of
 * it succeeded. Such a read only confirms an end the workflow caused: it comes when the terminated
 * notification is later than the workflow's wait (design.md: read the call after a timeout instead
 * of hanging), so whether it happens depends on how loaded the machine is, and it changes nothing.
 * Every other read stays: reading a call answered elsewhere is part of that flow.
 */
export function describeActingRequests(requests: readonly RequestRecord[], name: IdNamer): string[] {
  const hungUp = new Set<string>();
  const kept: RequestRecord[] = [];
  for (const request of requests) {
    const path = request.path.toLowerCase();
    if (request.method === 'GET' && hungUp.has(path)) continue;
    if (request.method === 'DELETE' && request.status >= 200 && request.status < 300) hungUp.add(path);
    kept.push(request);
  }
  return kept.map((request) => describeRequest(request, name)).sort();
}

/** `POST /calls/{p2p}/answer 202`: a request with its ids named and the version prefix dropped. */
export function describeRequest(request: RequestRecord, name: IdNamer): string {
  const path = request.path.replace(/^\/(?:v1\.0|beta)/, '').replace(/^\/(?:communications|app)/, '');
  return `${request.method} ${name(path)} ${request.status}`;
}

/**
 * The P2P transfer (seed 000; seed 001, "replacing an existing peer-to-peer call"): an incoming
 * call placed by the simulator to the webhook, which starts the transfer. The key is the P2P
 * call's id: it is in the workflow id, so in the callbackUri of the answer and the create call,
 * and the invite carries it as replacesCallId.
 */
export const p2pTransferScenario: FlowScenario = {
  name: 'P2P call transferred into a new group call',
  stateChangingRequests: [
    { activity: 'answerCall', method: 'POST', path: /\/answer$/ },
    { activity: 'createCall', method: 'POST', path: /\/(?:communications|app)\/calls$/ },
    { activity: 'inviteParticipants', method: 'POST', path: /\/participants\/invite$/ },
  ],
  notificationKinds: ['establishing', 'established', 'operation', 'roster', 'terminated', 'deleted'],
  // 0: the answered P2P call, 1: the group call.
  callNumbers: [0, 1],
  newKey: () => randomUUID(),
  async start(stack, key, conditions) {
    // The query only tags the incoming-call notification with the run's key, so that it too goes
    // through the run's delivery profile (duplicated, on its own lane); the webhook ignores it.
    await stack.sim.placeIncomingCall({
      botUrl: `${stack.botUrl}?run=${key}`,
      callId: key,
      ...(conditions?.callerId
        ? { caller: { user: { id: conditions.callerId, displayName: 'Test User' } } }
        : {}),
    });
    return { workflowId: transferWorkflowId(key) };
  },
  roles(run) {
    const result = transferResultOf(run.outcome);
    const roles: Record<string, string> = { [run.key]: 'p2p' };
    if (result?.groupCallId) roles[result.groupCallId] = 'group';
    if (result?.inviteOperationId) roles[result.inviteOperationId] = 'inviteOperation';
    if (result?.inviteClientContext) roles[result.inviteClientContext] = 'clientContext';
    let orphans = 0;
    for (const call of run.calls) if (!(call.id in roles)) roles[call.id] = `other call ${++orphans}`;
    return roles;
  },
  summarise(run, name) {
    const result = transferResultOf(run.outcome);
    const groupCalls = run.calls.filter((call) => call.kind === 'group');
    const p2p = run.calls.find((call) => call.id === run.key);
    return {
      outcome: result?.outcome ?? run.outcome.status,
      failure: run.outcome.failure
        ? `${run.outcome.failure.type}: ${name(run.outcome.failure.message)}`
        : null,
      idsInResult: result
        ? (['p2pCallId', 'groupCallId', 'inviteOperationId', 'inviteClientContext'] as const).filter(
            (field) => Boolean(result[field]),
          )
        : [],
      originalCallTerminationReason: result?.originalCallTerminationReason ?? null,
      inviteeSeenInRoster: result?.inviteeSeenInRoster ?? null,
      orphanedCallsHungUp: (result?.orphanedCallsHungUp ?? []).map(name),
      groupCallsCreated: groupCalls.length,
      groupCallsLeft: groupCalls.filter((call) => !call.deleted).map((call) => name(call.id)),
      p2pCallInGraph: p2p
        ? `${p2p.deleted ? 'deleted' : p2p.state}${p2p.replacedBy ? ` replaced by ${name(p2p.replacedBy.callId)}` : ''}`
        : 'missing',
      requests: describeActingRequests(run.requests, name),
      notificationAnswers: finalAnswers(run.deliveries),
    };
  },
};

/**
 * How the webhook finally answered each notification: a 503 while Temporal was slow is retried
 * by Graph (the simulator too), so only the last attempt's answer is part of the outcome.
 */
export function finalAnswers(deliveries: readonly DeliveryRecord[]): Array<number | string> {
  const last = new Map<string, DeliveryRecord>();
  for (const delivery of deliveries) {
    const copy = `${delivery.sequence}/${delivery.duplicate}`;
    const seen = last.get(copy);
    if (!seen || delivery.attempt > seen.attempt) last.set(copy, delivery);
  }
  return [...new Set([...last.values()].map((delivery) => delivery.status ?? delivery.error ?? 'no answer'))];
}

/** The TransferResult of a run, whether it completed or failed with TransferFailed. */
export function transferResultOf(outcome: RunOutcome): TransferResult | undefined {
  return outcome.result as TransferResult | undefined;
}

// ---------------------------------------------------------------------------------------------
// Issue 5 flows: the calls a botCall workflow holds and the operations it serves, and the
// transfer of a call answered elsewhere. A botCall lives until it is hung up, so each run drives
// its workflows from `start` (join, updates, admission) and hangs every one of them up at the end,
// whatever happened: the harness then only waits for the result.

type BotCallHandle = WorkflowHandle<typeof botCall>;

/** What the driver of a botCall run saw besides the workflow's result, for the run's summary. */
interface BotCallRunNotes {
  /** Steps of the driver that did not go as they do in order (an update refused, a phase never reached). */
  problems: string[];
  /** moveParticipant only: the source meeting's owner workflow, which the harness does not follow. */
  source?: { outcome: RunOutcome; movedParticipantInRoster: string };
}

/** Keyed by run key: `summarise` reads what `start` noted. */
const botCallRunNotes = new Map<string, BotCallRunNotes>();

const endedPhases: ReadonlySet<BotCallSnapshot['phase']> = new Set(['ended', 'failed', 'cancelled']);

/** Polls the botCallState query until the phase is reached; fails at once if the call ended first. */
async function untilBotCallPhase(
  handle: BotCallHandle,
  phase: BotCallSnapshot['phase'],
  timeoutMs = 60_000,
): Promise<BotCallSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Before the workflow's first task the query fails: keep asking.
    const state = await handle.query(botCallStateQuery).catch(() => undefined);
    if (state?.phase === phase) return state;
    if (state && endedPhases.has(state.phase)) {
      throw new Error(
        `${handle.workflowId} reached ${state.phase} (${state.reason ?? 'no reason'}) instead of ${phase}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`${handle.workflowId} not ${phase} within ${timeoutMs} ms (phase ${state?.phase})`);
    }
    await sleep(100);
  }
}

interface BotCallDriver {
  /** Starts `botCall` as `call-<id>`, its callbackUri naming it (so carrying the run's key). */
  start(id: string, request: CallRequest): Promise<BotCallHandle>;
  notes: BotCallRunNotes;
}

/**
 * Runs `drive` and then hangs up every botCall it started, so that no call outlives its run. A
 * step that throws is noted as a problem of the run (its summary then differs from the baseline's)
 * rather than as a run that did not start: the workflows ran and their results still count.
 */
async function driveBotCalls(
  stack: HandoffTestStack,
  key: string,
  mainId: string,
  drive: (driver: BotCallDriver) => Promise<void>,
): Promise<StartedRun> {
  const notes: BotCallRunNotes = { problems: [] };
  botCallRunNotes.set(key, notes);
  const started: BotCallHandle[] = [];
  const start = async (id: string, request: CallRequest): Promise<BotCallHandle> => {
    const workflowId = botCallWorkflowId(id);
    const input: BotCallInput = {
      request,
      callbackUri: stackCallbackUri(stack, workflowId),
      botAppId: stack.sim.botAppId,
      tenantId: stack.sim.tenantId,
    };
    const handle = await stack.client.workflow.start<typeof botCall>(BOT_CALL_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: stack.taskQueue,
      args: [input],
    });
    started.push(handle);
    return handle;
  };
  try {
    await drive({ start, notes });
  } catch (error) {
    notes.problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    // A workflow that already ended refuses the signal: nothing to hang up then.
    await Promise.all(started.map((handle) => handle.signal(hangUpSignal).catch(() => undefined)));
  }
  return { workflowId: botCallWorkflowId(mainId) };
}

/** The BotCallResult of a run, whether it ended or failed with BotCallFailed (its details carry it). */
export function botCallResultOf(outcome: RunOutcome): BotCallResult | undefined {
  return outcome.result as BotCallResult | undefined;
}

function describeOperationOutcome(operation: OperationOutcome, name: IdNamer): FlowSummary {
  return {
    kind: operation.kind,
    status: operation.status,
    operationId: operation.operationId ? name(operation.operationId) : null,
    clientContext: name(operation.clientContext),
    resultCode: operation.resultInfo?.code ?? null,
    reason: operation.reason ? name(operation.reason) : null,
    invitees: operation.invitees.map(
      (invitee) =>
        `${name(describeIdentity(invitee.identity))}: ${invitee.joined ? 'joined' : 'not joined'}${invitee.inLobby ? ', in the lobby' : ''}`,
    ),
    replacedCallEnded: operation.replacedCallEnded ?? null,
  };
}

/** Role names for a botCall result's ids: its call, each operation's id and clientContext. */
function botCallResultRoles(result: BotCallResult | undefined, prefix: string): Record<string, string> {
  const roles: Record<string, string> = {};
  if (result?.callId) roles[result.callId] = `${prefix}call`;
  result?.operations.forEach((operation, index) => {
    if (operation.operationId) roles[operation.operationId] = `${prefix}operation ${index + 1}`;
    roles[operation.clientContext] = `${prefix}clientContext ${index + 1}`;
  });
  return roles;
}

function botCallRoles(run: RunFootprint, keyRole: string): Record<string, string> {
  const roles: Record<string, string> = {
    [run.key]: keyRole,
    ...botCallResultRoles(botCallResultOf(run.outcome), ''),
  };
  const source = botCallRunNotes.get(run.key)?.source;
  if (source) Object.assign(roles, botCallResultRoles(botCallResultOf(source.outcome), 'source '));
  let others = 0;
  for (const call of run.calls) if (!(call.id in roles)) roles[call.id] = `other call ${++others}`;
  return roles;
}

function failureText(outcome: RunOutcome, name: IdNamer): string | null {
  return outcome.failure ? `${outcome.failure.type}: ${name(outcome.failure.message)}` : null;
}

/** What a botCall workflow ended with, ids named: the same whatever the delivery. */
function botCallOutcomeSummary(outcome: RunOutcome, name: IdNamer): FlowSummary {
  const result = botCallResultOf(outcome);
  return {
    outcome: result?.outcome ?? outcome.status,
    failure: failureText(outcome, name),
    reason: result?.reason ? name(result.reason) : null,
    terminationReason: result?.terminationReason ?? null,
    admittedFromLobby: result?.admittedFromLobby ?? null,
    operations: (result?.operations ?? []).map((operation) => describeOperationOutcome(operation, name)),
  };
}

/** A botCall run: the workflow's outcome, what the driver saw, and everything Graph saw. */
function botCallSummary(run: RunFootprint, name: IdNamer): FlowSummary {
  return {
    ...botCallOutcomeSummary(run.outcome, name),
    driverProblems: (botCallRunNotes.get(run.key)?.problems ?? []).map(name),
    callsCreated: run.calls.filter((call) => call.direction === 'outgoing').length,
    callsLeft: run.calls
      .filter((call) => !call.deleted)
      .map((call) => name(call.id))
      .sort(),
    requests: describeActingRequests(run.requests, name),
    notificationAnswers: finalAnswers(run.deliveries),
  };
}

const createCallRequest: StateChangingRequest = {
  activity: 'createCall',
  method: 'POST',
  path: /\/(?:communications|app)\/calls$/,
};
const inviteRequest: StateChangingRequest = {
  activity: 'inviteParticipants',
  method: 'POST',
  path: /\/participants\/invite$/,
};

/** The meeting's organizer (seed 004, example 5). */
const meetingOrganizer: IdentitySet = {
  user: { id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96', displayName: 'Bob' },
};

/** A meeting of the run's own (a fresh chat thread), joined by organizer + chatInfo without media. */
function meetingOfRun(key: string, name: string): Extract<CallRequest, { kind: 'meeting' }> {
  return {
    kind: 'meeting',
    chatInfo: { threadId: `19:meeting_${name}-${key}@thread.v2`, messageId: '0' },
    organizer: meetingOrganizer,
    media: { kind: 'none' },
  };
}

/** The parties of participant-invite examples 2 and 4: two users and a PSTN number. */
export const meetingInvitees: IdentitySet[] = [
  { user: { id: '7e1b4346-85a6-4bdd-abe3-d11c5d420efe', displayName: 'Alice' } },
  { user: { id: '682b6c37-0729-4fab-ace6-d730d5d9137e', displayName: 'Dave' } },
  { phone: { id: '+12345678901' } },
];

/**
 * botCall joins a meeting by organizer + chatInfo and serves one inviteParticipants update for
 * two users and a PSTN number (seed 003, examples 2 and 4; plain rosters), then is hung up. The
 * key is in the workflow id (so the callbackUri and the create call) and in the invite's
 * clientContext.
 */
export const botCallInviteScenario: FlowScenario = {
  name: 'botCall joins a meeting, invites two users and a PSTN number, hangs up',
  stateChangingRequests: [createCallRequest, inviteRequest],
  notificationKinds: ['establishing', 'established', 'operation', 'roster', 'terminated', 'deleted'],
  callNumbers: [0],
  newKey: () => randomUUID(),
  async start(stack, key) {
    stack.sim.configure({ flows: { rosterMode: 'full' } });
    return driveBotCalls(stack, key, key, async ({ start }) => {
      const handle = await start(key, meetingOfRun(key, 'invite'));
      await untilBotCallPhase(handle, 'established');
      await handle.executeUpdate(inviteParticipantsUpdate, {
        args: [
          {
            participants: meetingInvitees.map((identity) => ({ identity })),
            clientContext: `invite-${key}`,
          },
        ],
      });
    });
  },
  roles: (run) => botCallRoles(run, 'key'),
  summarise: botCallSummary,
};

/**
 * A system other than Handoff that answered calls (issue 5, item 5): it takes their notifications
 * with 202 and nothing more. One per process, unref'd so that it never keeps a process alive.
 */
let otherSystem: Promise<string> | undefined;
export function otherSystemCallbackUrl(): Promise<string> {
  otherSystem ??= new Promise((resolve, reject) => {
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(202, { connection: 'close' }).end());
    });
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.unref();
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/another-system/calls`);
    });
  });
  return otherSystem;
}

/**
 * botCall creates a group call with two users and serves transferIntoCall (seed 003, example 3)
 * of a P2P call another system answered (`placeAnsweredCall`): the replaced call's
 * terminated/deleted go to that system, so the workflow reads it to know it is gone. The key is
 * the P2P call's id: in the workflow id and in the invite's replacesCallId.
 */
export const botCallTransferInScenario: FlowScenario = {
  name: 'botCall group call takes in a P2P call answered elsewhere (transferIntoCall), hangs up',
  stateChangingRequests: [createCallRequest, inviteRequest],
  notificationKinds: ['establishing', 'established', 'operation', 'roster', 'terminated', 'deleted'],
  // 0: the group call, 1: the replaced P2P call (its roster comes to the group call's callback).
  callNumbers: [0, 1],
  newKey: () => randomUUID(),
  async start(stack, key) {
    stack.sim.configure({ flows: { rosterMode: 'full' } });
    stack.sim.placeAnsweredCall({ callbackUri: await otherSystemCallbackUrl(), callId: key });
    return driveBotCalls(stack, key, key, async ({ start }) => {
      const handle = await start(key, {
        kind: 'groupCall',
        targets: meetingInvitees.slice(0, 2),
        media: { kind: 'serviceHosted' },
      });
      await untilBotCallPhase(handle, 'established');
      await handle.executeUpdate(transferIntoCallUpdate, {
        args: [{ participant: { identity: { user: { id: defaultCaller.user!.id! } } }, replacesCallId: key }],
      });
    });
  },
  roles: (run) => botCallRoles(run, 'p2p'),
  summarise(run, name) {
    const p2p = run.calls.find((call) => call.id === run.key);
    return {
      ...botCallSummary(run, name),
      p2pCallInGraph: p2p
        ? `${p2p.deleted ? 'deleted' : p2p.state}${p2p.replacedBy ? ` replaced by ${name(p2p.replacedBy.callId)}` : ''}`
        : 'missing',
    };
  },
};

/** Whether Graph (the simulator) has the party in the call's roster. */
function inGraphRoster(call: SimulatedCall | undefined, userId: string): string {
  if (!call) return 'no such call';
  return call.participants.some((participant) => participant.info.identity.user?.id === userId)
    ? 'in the roster'
    : 'not in the roster';
}

/**
 * Two botCall workflows each join a meeting of their own; the source invites Carol, then the
 * target moves her over with moveParticipant (seed 003, example 5), delta rosters (the only ones
 * that report a participant leaving, with `removedState`). The key is Carol's user id (in both
 * invites) and is in both workflow ids (`call-<key>-from`, `call-<key>-to`), so both meetings'
 * notifications go through the run's delivery profile. The harness follows the target; the
 * source's outcome is noted by the driver.
 *
 * The roster mode is a simulator-wide setting: every scenario of this file that depends on it
 * sets it when a run starts, and scenarios run one after the other.
 */
export const botCallMoveScenario: FlowScenario = {
  name: 'botCall moves a participant from another botCall meeting (moveParticipant), both hang up',
  // Each entry is one delayed request: the first create and the first invite of the run (the
  // source's), and the second ones (the target's create; the move).
  stateChangingRequests: [createCallRequest, createCallRequest, inviteRequest, inviteRequest],
  notificationKinds: ['establishing', 'established', 'operation', 'roster', 'terminated', 'deleted'],
  callNumbers: [0, 1],
  newKey: () => randomUUID(),
  async start(stack, key) {
    stack.sim.configure({ flows: { rosterMode: 'delta' } });
    const carol: IdentitySet = { user: { id: key, displayName: 'Carol' } };
    return driveBotCalls(stack, key, `${key}-to`, async ({ start, notes }) => {
      const [source, target] = await Promise.all([
        start(`${key}-from`, meetingOfRun(key, 'from')),
        start(`${key}-to`, meetingOfRun(key, 'to')),
      ]);
      const [sourceState] = await Promise.all([
        untilBotCallPhase(source, 'established'),
        untilBotCallPhase(target, 'established'),
      ]);
      const invited = await source.executeUpdate(inviteParticipantsUpdate, {
        args: [{ participants: [{ identity: carol }], clientContext: `invite-${key}` }],
      });
      if (invited.status !== 'completed')
        throw new Error(`Carol's invite ${invited.status}: ${invited.reason}`);
      const carolInSource = (await source.query(botCallStateQuery)).roster.find(
        (participant) => participant.identity.user?.id === key,
      );
      if (!carolInSource) throw new Error('Carol is not in the source roster after her invite completed');
      await target.executeUpdate(moveParticipantUpdate, {
        args: [{ participantId: carolInSource.id, identity: carol, replacesCallId: sourceState.callId! }],
      });
      // The source's owner learns that Carol left from a delta roster (removedState).
      const removed = await waitUntil(
        'Carol removed from the source roster',
        async () => {
          const entry = (await source.query(botCallStateQuery)).roster.find(
            (participant) => participant.identity.user?.id === key,
          );
          return entry?.removed ? entry : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      ).catch(() => undefined);
      await source.signal(hangUpSignal);
      notes.source = {
        outcome: await outcomeOf(stack, source.workflowId),
        movedParticipantInRoster: removed ? 'removed' : 'still there',
      };
    });
  },
  roles: (run) => botCallRoles(run, 'Carol'),
  summarise(run, name) {
    const source = botCallRunNotes.get(run.key)?.source;
    const meetingCall = (end: string) =>
      // The workflow id ends the first path segment; the callback key follows it.
      run.calls.find((call) => call.callbackUri.includes(`${run.key}-${end}/`));
    return {
      ...botCallSummary(run, name),
      source: source
        ? {
            ...botCallOutcomeSummary(source.outcome, name),
            movedParticipantInRoster: source.movedParticipantInRoster,
          }
        : null,
      carolInGraph: {
        source: inGraphRoster(meetingCall('from'), run.key),
        target: inGraphRoster(meetingCall('to'), run.key),
      },
    };
  },
};

/**
 * botCall joins a meeting as a guest (create call, seed 004, example 10): it waits in the lobby
 * (the roster shows its own participant isInLobby) until the driver admits it
 * (`sim.admitFromLobby`), holds the call, and is hung up. The key is in the workflow id and is the
 * guest's id.
 */
export const botCallGuestLobbyScenario: FlowScenario = {
  name: 'botCall joins a meeting as a guest, is admitted from the lobby, hangs up',
  stateChangingRequests: [createCallRequest],
  notificationKinds: ['establishing', 'established', 'roster', 'terminated', 'deleted'],
  callNumbers: [0],
  newKey: () => randomUUID(),
  async start(stack, key) {
    stack.sim.configure({ flows: { rosterMode: 'full' } });
    return driveBotCalls(stack, key, key, async ({ start }) => {
      const handle = await start(key, {
        ...meetingOfRun(key, 'lobby'),
        media: { kind: 'serviceHosted' },
        guest: { id: key, displayName: 'Guest bot' },
      });
      const waiting = await untilBotCallPhase(handle, 'inLobby');
      stack.sim.admitFromLobby(waiting.callId!);
      await untilBotCallPhase(handle, 'established');
    });
  },
  roles: (run) => botCallRoles(run, 'guest'),
  summarise: botCallSummary,
};

/**
 * The P2P transfer of a call another system answered (issue 5, item 5): started through
 * `POST /api/transfers` with `alreadyAnswered: true`; Handoff never hears the P2P call's own
 * notifications, reads it instead, and relies on the invite operation and the group call's
 * roster. The key is the P2P call's id, as in `p2pTransferScenario`, whose summary it shares.
 */
export const answeredElsewhereTransferScenario: FlowScenario = {
  name: 'P2P call answered elsewhere transferred into a new group call (alreadyAnswered)',
  stateChangingRequests: [createCallRequest, inviteRequest],
  // Only the group call reports to the transfer (the roster on the P2P call's path included).
  notificationKinds: ['establishing', 'established', 'operation', 'roster'],
  // 0: the group call, 1: the P2P call's path of the invite's roster.
  callNumbers: [0, 1],
  newKey: () => randomUUID(),
  async start(stack, key) {
    stack.sim.placeAnsweredCall({ callbackUri: await otherSystemCallbackUrl(), callId: key });
    const body = { ...seedTransferRequest(key), alreadyAnswered: true };
    // As a client does: a 503 (Temporal slow to accept the start under load) is sent again, and
    // the 409 `transfer_exists` that may follow says that the first attempt did start it.
    for (let attempt = 1; ; attempt++) {
      const answer = await stack.api('/api/transfers', body);
      if (answer.status === 201) return { workflowId: answer.body.workflowId as string };
      if (answer.status === 409 && answer.body?.error?.code === 'transfer_exists') {
        return { workflowId: transferWorkflowId(key) };
      }
      if (answer.status !== 503 || attempt >= 5) {
        throw new Error(`POST /api/transfers answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
      await sleep(1_000);
    }
  },
  roles: (run) => p2pTransferScenario.roles(run),
  summarise: (run, name) => p2pTransferScenario.summarise(run, name),
};

/** Every scenario the property script runs. Later flows add theirs here. */
export const flowScenarios: FlowScenario[] = [
  p2pTransferScenario,
  answeredElsewhereTransferScenario,
  botCallInviteScenario,
  botCallTransferInScenario,
  botCallGuestLobbyScenario,
  // Last: it leaves the simulator on delta rosters (see its comment).
  botCallMoveScenario,
];

// ---------------------------------------------------------------------------------------------
// Starting transfers directly (tests that set timeouts or keep-alive per transfer)

/** The seed's transfer request: the caller of the incoming call into the seed's meeting. */
export function seedTransferRequest(callId: string): TransferRequestFields {
  return { callId, invitee: defaultCaller, target: seedMeetingTarget };
}

/**
 * Places an incoming call whose notification goes to `botUrl` (a plain bot receiver, so that the
 * webhook does not start a transfer for it), with the given call id.
 */
export async function placeUnhandledCall(
  stack: HandoffTestStack,
  botUrl: string,
  callId = randomUUID(),
): Promise<string> {
  await stack.sim.placeIncomingCall({ botUrl, callId });
  return callId;
}

/** Starts the transfer of `callId` through `POST /api/transfers`, as another service would. */
export async function startTransferThroughApi(
  stack: HandoffTestStack,
  callId: string,
  timeouts: Partial<TransferTimeouts>,
): Promise<string> {
  const answer = await stack.api('/api/transfers', { ...seedTransferRequest(callId), timeouts });
  if (answer.status !== 201) {
    throw new Error(`POST /api/transfers answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body.workflowId as string;
}

/**
 * Starts the transfer of `callId` with the Temporal client, for what the HTTP API does not take
 * (keep-alive interval, every timeout): the same start options the API uses, the input amended.
 */
export async function startTransferWithClient(
  stack: HandoffTestStack,
  callId: string,
  amend: Partial<TransferInput>,
): Promise<string> {
  const context = {
    publicBaseUrl: stack.webhookUrl,
    callbackSecrets: stack.config.notifications.callbackSecrets,
    botAppId: stack.sim.botAppId,
    tenantId: stack.sim.tenantId,
    taskQueue: stack.taskQueue,
  };
  const options = transferStartOptions(context, seedTransferRequest(callId));
  const input: TransferInput = { ...transferInputFor(context, seedTransferRequest(callId)), ...amend };
  await stack.client.workflow.start<TransferWorkflow>(TRANSFER_WORKFLOW_TYPE, { ...options, args: [input] });
  return options.workflowId;
}

// ---------------------------------------------------------------------------------------------
// Running

/** Waits for a workflow's end and says how it ended; never throws for a workflow failure. */
export async function outcomeOf(
  stack: HandoffTestStack,
  workflowId: string,
  timeoutMs = 120_000,
): Promise<RunOutcome> {
  await waitUntil(`workflow ${workflowId} to exist`, async () => {
    await stack.handle(workflowId).describe();
    return true;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<RunOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'noOutcome', failure: { message: `no outcome within ${timeoutMs} ms` } }),
      timeoutMs,
    );
  });
  const settled = stack
    .handle(workflowId)
    .result()
    .then(
      (result): RunOutcome => ({ status: 'completed', result }),
      (error: unknown): RunOutcome => failedOutcome(error),
    );
  try {
    return await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function failedOutcome(error: unknown): RunOutcome {
  const cause = error instanceof WorkflowFailedError ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  const name = cause instanceof Error ? cause.name : undefined;
  const status: RunOutcome['status'] =
    name === 'CancelledFailure'
      ? 'cancelled'
      : name === 'TerminatedFailure'
        ? 'terminated'
        : name === 'TimeoutFailure'
          ? 'timedOut'
          : 'failed';
  if (cause instanceof ApplicationFailure) {
    const [details] = cause.details ?? [];
    return { status, failure: { ...(cause.type ? { type: cause.type } : {}), message }, result: details };
  }
  return { status, failure: { ...(name ? { type: name } : {}), message } };
}

/** Gathers what Graph saw of a run. `calls` is a snapshot of sim.calls(), shared by a batch. */
export async function footprintOf(
  stack: HandoffTestStack,
  key: string,
  workflowId: string,
  outcome: RunOutcome,
  calls: SimulatedCall[] = stack.sim.calls(),
): Promise<RunFootprint> {
  const ownCalls = calls.filter((call) => call.callbackUri.includes(key) || call.id.includes(key));
  const callIds = ownCalls.map((call) => call.id.toLowerCase());
  const requests = stack.sim.requests.filter((request) => {
    const path = request.path.toLowerCase();
    return callIds.some((id) => path.includes(id)) || bodyText(request.body).includes(key);
  });
  const deliveries = stack.sim.deliveries.filter((delivery) => delivery.url.includes(key));
  const history = await stack.history(workflowId).catch(() => []);
  return { key, workflowId, outcome, calls: ownCalls, requests, deliveries, history };
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/**
 * The order the workflow saw things in: each notification of each signal (`group:established`,
 * `p2p:op-completed`, `p2p:roster`; a duplicate appears twice) and the response of each
 * state-changing request (`←createCall`), as its history recorded them.
 */
export function deliveryOrderOf(run: RunFootprint, scenario: FlowScenario, name: IdNamer): string[] {
  const activities = new Set(scenario.stateChangingRequests.map((request) => request.activity));
  const order: string[] = [];
  for (const event of run.history) {
    const type = eventTypeName(event);
    if (type === 'WorkflowExecutionSignaled') {
      const payload = event.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
      if (!payload) continue;
      const delivery = defaultPayloadConverter.fromPayload<NotificationDelivery>(payload);
      for (const notification of delivery.notifications) order.push(labelOf(notification, name));
    } else if (type === 'ActivityTaskCompleted') {
      const activity = activityTypeOf(run.history, event);
      if (activity && activities.has(activity)) order.push(`←${activity}`);
    } else if (type === 'MarkerRecorded') {
      // A local activity (the answer): the workflow saw its result before the signals buffered
      // while it ran, which the history writes after the marker.
      const local = localActivityOf(event);
      if (local && !local.failed && activities.has(local.activityType)) order.push(`←${local.activityType}`);
    }
  }
  return order;
}

function labelOf(notification: GraphNotification, name: IdNamer): string {
  const call = name(notification.callId).replace(/^\{(.*)\}$/, '$1');
  switch (notification.kind) {
    case 'call':
      return `${call}:${notification.changeType === 'deleted' ? 'deleted' : (notification.call.state ?? notification.changeType)}`;
    case 'operation':
      return `${call}:op-${notification.operation.status}`;
    case 'participants':
      return `${call}:roster`;
    case 'other':
      return `${call}:${notification.resourceType}`;
  }
}

export interface FlowPropertyOptions {
  stack: HandoffTestStack;
  scenario: FlowScenario;
  /** Runs besides the in-order baseline. */
  runs: number;
  /** Runs started together; a batch ends when its runs finished and the simulator is idle. Default 20. */
  concurrency?: number;
  /** Seeds the conditions fast-check generates; a failing report names it. Default: random. */
  seed?: number;
  conditions?: fc.Arbitrary<DeliveryConditions>;
  /** How long one run may take before it counts as hanging. Default 120 s. */
  runTimeoutMs?: number;
  onBatch?: (progress: { done: number; failed: number; runs: number }) => void;
}

export interface FlowCounterexample {
  run: number;
  workflowId: string;
  conditions: DeliveryConditions;
  deliveryOrder: string;
  summary: FlowSummary;
  differences: string[];
}

export interface FlowPropertyReport {
  scenario: string;
  seed: number;
  runs: number;
  passed: number;
  failures: FlowCounterexample[];
  /** Distinct orders (notifications and responses, as the workflows saw them) among the runs. */
  distinctDeliveryOrders: number;
  /** How many runs met each hazard, so that a pass is known not to be vacuous. */
  exercised: {
    duplicates: number;
    notificationBeforeResponse: number;
    orderDifferentFromBaseline: number;
    notificationAfterFinish: number;
  };
  /** Runs with a notification before a response, by the activity that was waiting (`answerCall`, …). */
  notificationBeforeResponseBy: Record<string, number>;
  baseline: { summary: FlowSummary; deliveryOrder: string };
  durationMs: number;
}

interface CompletedRun {
  footprint: RunFootprint;
  name: IdNamer;
  conditions: DeliveryConditions;
}

async function runOnce(
  stack: HandoffTestStack,
  scenario: FlowScenario,
  profiles: DeliveryProfiles,
  conditions: DeliveryConditions,
  timeoutMs: number,
): Promise<{ key: string; workflowId: string; outcome: RunOutcome }> {
  const key = scenario.newKey();
  const profile = deliveryProfileFor(key, conditions);
  if (profile) profiles.add(profile);
  for (const request of scenario.stateChangingRequests) {
    const delayMs = conditions.slowResponses[request.activity];
    if (delayMs === undefined) continue;
    stack.sim.injectFault({ method: request.method, path: request.path, bodyContains: key, delayMs });
  }
  try {
    const { workflowId } = await scenario.start(stack, key, conditions);
    return { key, workflowId, outcome: await outcomeOf(stack, workflowId, timeoutMs) };
  } catch (error) {
    return {
      key,
      workflowId: '(not started)',
      outcome: { status: 'noOutcome', failure: { message: `the run did not start: ${String(error)}` } },
    };
  }
}

/** Runs a batch concurrently, waits for every notification, then gathers each run's footprint. */
async function runBatch(
  stack: HandoffTestStack,
  scenario: FlowScenario,
  profiles: DeliveryProfiles,
  batch: DeliveryConditions[],
  timeoutMs: number,
): Promise<CompletedRun[]> {
  const ran = await Promise.all(
    batch.map((conditions) => runOnce(stack, scenario, profiles, conditions, timeoutMs)),
  );
  // Late notifications are still on their way: they belong to the runs' footprints.
  await stack.sim.whenIdle();
  const calls = stack.sim.calls();
  const completed = await Promise.all(
    ran.map(async ({ key, workflowId, outcome }, index) => {
      const footprint = await footprintOf(stack, key, workflowId, outcome, calls);
      return { footprint, name: idNamer(scenario.roles(footprint)), conditions: batch[index]! };
    }),
  );
  for (const { key } of ran) profiles.remove(key);
  return completed;
}

function differencesBetween(expected: FlowSummary, actual: FlowSummary): string[] {
  const fields = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
  return fields.flatMap((field) => {
    const want = JSON.stringify(expected[field]);
    const got = JSON.stringify(actual[field]);
    return want === got ? [] : [`${field}: in order ${want}, here ${got}`];
  });
}

function withoutDuplicates(order: string[]): string[] {
  return order.filter((label, index) => order.indexOf(label) === index);
}

/**
 * Runs the scenario once in order (the baseline), then `runs` times under generated delivery
 * conditions, `concurrency` at a time, and compares every summary with the baseline's.
 */
export async function checkFlowProperty(options: FlowPropertyOptions): Promise<FlowPropertyReport> {
  const { stack, scenario } = options;
  const began = Date.now();
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const concurrency = options.concurrency ?? 20;
  const timeoutMs = options.runTimeoutMs ?? 120_000;
  const profiles = deliveryProfiles(stack.sim);
  const arbitrary = options.conditions ?? deliveryConditionsFor(scenario);

  const [baselineRun] = await runBatch(stack, scenario, profiles, [inOrder], timeoutMs);
  if (!baselineRun) throw new Error('the baseline run did not run');
  const baselineSummary = scenario.summarise(baselineRun.footprint, baselineRun.name);
  const baselineOrder = deliveryOrderOf(baselineRun.footprint, scenario, baselineRun.name);

  const samples = options.runs > 0 ? fc.sample(arbitrary, { seed, numRuns: options.runs }) : [];
  const failures: FlowCounterexample[] = [];
  const orders = new Set<string>();
  const exercised = {
    duplicates: 0,
    notificationBeforeResponse: 0,
    orderDifferentFromBaseline: 0,
    notificationAfterFinish: 0,
  };
  const notificationBeforeResponseBy: Record<string, number> = {};
  let passed = 0;
  for (let start = 0; start < samples.length; start += concurrency) {
    const batch = samples.slice(start, start + concurrency);
    const completed = await runBatch(stack, scenario, profiles, batch, timeoutMs);
    completed.forEach(({ footprint, name, conditions }, offset) => {
      const order = deliveryOrderOf(footprint, scenario, name);
      orders.add(order.join(' '));
      // Graph posted a copy of a notification. (A repeated label is no sign of one: a call's
      // roster is reported more than once in flows that invite into it.)
      if (footprint.deliveries.some((delivery) => delivery.duplicate)) exercised.duplicates += 1;
      const waiting = notifiedWhileWaiting(footprint, scenario);
      if (waiting.size > 0) exercised.notificationBeforeResponse += 1;
      for (const activity of waiting) {
        notificationBeforeResponseBy[activity] = (notificationBeforeResponseBy[activity] ?? 0) + 1;
      }
      if (withoutDuplicates(order).join(' ') !== withoutDuplicates(baselineOrder).join(' ')) {
        exercised.orderDifferentFromBaseline += 1;
      }
      if (notifiedAfterFinish(footprint)) exercised.notificationAfterFinish += 1;
      const summary = scenario.summarise(footprint, name);
      const differences = differencesBetween(baselineSummary, summary);
      if (differences.length === 0) {
        passed += 1;
        return;
      }
      failures.push({
        run: start + offset,
        workflowId: footprint.workflowId,
        conditions,
        deliveryOrder: order.join(' '),
        summary,
        differences,
      });
    });
    options.onBatch?.({ done: start + batch.length, failed: failures.length, runs: samples.length });
  }
  return {
    scenario: scenario.name,
    seed,
    runs: samples.length,
    passed,
    failures,
    distinctDeliveryOrders: orders.size,
    exercised,
    notificationBeforeResponseBy,
    baseline: { summary: baselineSummary, deliveryOrder: baselineOrder.join(' ') },
    durationMs: Date.now() - began,
  };
}

/**
 * The state-changing requests (by activity type) that were still waiting for their response when
 * a notification reached the workflow: Graph acted, notified, and answered later (design.md, "Facts").
 *
 * An activity is in flight from its ActivityTaskScheduled to its result's event. A local activity
 * (the answer under patch `local-answer`) has only its marker, recorded with the workflow task
 * that ran it; the server buffers the signals that come meanwhile and writes them after that
 * task's events, with the time they came. It ran from its schedule time for as long as its
 * `complete_time` is past the WorkflowTaskStarted it was scheduled in (core's workflow clock), and
 * a signal whose event time falls in that span came while the answer was waiting.
 */
function notifiedWhileWaiting(run: RunFootprint, scenario: FlowScenario): Set<string> {
  const activities = new Set(scenario.stateChangingRequests.map((request) => request.activity));
  const waiting = new Set<string>();
  const localSpans: Array<{ activity: string; fromMs: number; toMs: number }> = [];
  let taskStartedMs = Number.NaN;
  for (const event of run.history) {
    const type = eventTypeName(event);
    if (type === 'WorkflowTaskStarted') taskStartedMs = eventTimeMs(event);
    const local = type === 'MarkerRecorded' ? localActivityOf(event) : undefined;
    if (local && activities.has(local.activityType)) {
      const fromMs = Number.isNaN(local.scheduledAtMs) ? taskStartedMs : local.scheduledAtMs;
      localSpans.push({
        activity: local.activityType,
        fromMs,
        toMs: fromMs + (local.completeTimeMs - taskStartedMs),
      });
    }
  }
  const inFlight = new Map<string, string>();
  for (const event of run.history) {
    const type = eventTypeName(event);
    if (type === 'WorkflowExecutionSignaled') {
      const at = eventTimeMs(event);
      for (const span of localSpans) if (at > span.fromMs && at < span.toMs) waiting.add(span.activity);
      for (const activity of inFlight.values()) waiting.add(activity);
      continue;
    }
    const activity = activityTypeOf(run.history, event);
    if (activity && activities.has(activity)) {
      const scheduledId = String(
        type === 'ActivityTaskScheduled'
          ? event.eventId
          : (event.activityTaskCompletedEventAttributes?.scheduledEventId ??
              event.activityTaskFailedEventAttributes?.scheduledEventId ??
              event.activityTaskTimedOutEventAttributes?.scheduledEventId),
      );
      if (type === 'ActivityTaskScheduled') inFlight.set(scheduledId, activity);
      else if (type !== 'ActivityTaskStarted') inFlight.delete(scheduledId);
    }
  }
  return waiting;
}

/** Some notification reached the callback after the workflow had closed. */
function notifiedAfterFinish(run: RunFootprint): boolean {
  const closed = run.history.at(-1);
  if (!closed) return false;
  const closedAt = eventTimeMs(closed);
  return run.deliveries.some((delivery) => delivery.at.getTime() > closedAt);
}

/** A report for people: counts, and each counterexample with its conditions and delivery order. */
export function formatFlowReport(report: FlowPropertyReport): string {
  const lines = [
    `scenario: ${report.scenario}`,
    `  seed ${report.seed}; ${report.runs} runs in ${(report.durationMs / 1000).toFixed(1)} s`,
    `  passed ${report.passed}, failed ${report.failures.length}`,
    `  distinct delivery orders seen: ${report.distinctDeliveryOrders}`,
    `  runs with duplicates ${report.exercised.duplicates}, a notification before its response ${report.exercised.notificationBeforeResponse}, an order other than in-order ${report.exercised.orderDifferentFromBaseline}, a notification after the workflow finished ${report.exercised.notificationAfterFinish}`,
    `  a notification before the response of: ${JSON.stringify(report.notificationBeforeResponseBy)}`,
    `  in-order delivery: ${report.baseline.deliveryOrder}`,
  ];
  for (const failure of report.failures.slice(0, 10)) {
    lines.push(
      `  counterexample: run ${failure.run} (${failure.workflowId})`,
      `    conditions: ${JSON.stringify(failure.conditions)}`,
      `    delivery order: ${failure.deliveryOrder}`,
      ...failure.differences.map((difference) => `    ${difference}`),
    );
  }
  if (report.failures.length > 10) lines.push(`  … and ${report.failures.length - 10} more`);
  return lines.join('\n');
}
