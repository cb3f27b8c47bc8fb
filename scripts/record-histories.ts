/**
 * `npm run record:histories`: records the workflow histories committed in test/histories, which
 * test/replay.test.ts replays against the current workflow code on every test run (design.md,
 * "Inspecting and replaying"). Read test/histories/README.md before re-recording.
 *
 * It runs Handoff end to end on this machine: a Temporal dev server (SQLite in a temp folder, free
 * ports), the Graph simulator, a worker and the webhook. Then:
 *   - transfer-completed: the seed transfer (seeds 000/001): an incoming P2P call the webhook
 *     starts a transfer for, answered, moved into a new group call, original call ended;
 *   - transfer-failed: the same, except that Graph refuses the invite with 403, so the workflow
 *     hangs up the group call it created and fails with TransferFailed;
 *   - transfer-answered-elsewhere: the transfer of a P2P call another system answered
 *     (alreadyAnswered), which Handoff reads instead of hearing about;
 *   - bot-call-invite, bot-call-transfer-in, bot-call-move (+ bot-call-move-source),
 *     bot-call-guest-lobby: botCall workflows (issue 5) driven through their updates, the lobby
 *     admission and the hangUp signal, each step taken once the workflows have settled;
 *   - route-call-ask-fallback: a routeCall whose decision hook is down, so the rule's fallback
 *     (reject) starts the call's incomingCall; route-call-withheld-caller: a transfer rule for a
 *     caller the notification does not name, rejected instead;
 *   - native-transfer-*: blind, consultative, failed, and unsettled (a target that rings forever).
 *
 * Notifications reach the webhook through a pacer that holds each one until its workflow has
 * no workflow task and no activity pending. Without it a notification could land before or after
 * the completion of the activity that caused it, or share a workflow task with the next one, and
 * two recordings of the same transfer would differ in shape (the sequence of event types).
 *
 *   npm run record:histories [-- --out DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  Client,
  Connection,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { graphClientFor } from '../src/app/graph.js';
import { webhookDepsFor } from '../src/app/webhook.js';
import { eventTypes, readHistoryFile, writeHistoryFile } from '../src/bin/replay.js';
import { loadConfig, seedMeetingTarget } from '../src/config/env.js';
import { type CallNotification, type IdentitySet, parseNotifications } from '../src/graph/index.js';
import { ruleSetFrom } from '../src/routing/rule-file.js';
import { defaultCaller, type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { getFreePort } from '../src/temporal/ports.js';
import { projectRoot } from '../src/temporal/project-root.js';
import { HandoffFlow, HandoffTransferState } from '../src/temporal/search-attributes.js';
import { buildWebhookServer } from '../src/webhook/index.js';
import { type RouteCallWorkflow, routeCallStart } from '../src/webhook/route-start.js';
import { incomingCallStartOptions } from '../src/webhook/routes/incoming-calls.js';
import { nativeTransferStartOptions } from '../src/webhook/routes/native-transfers.js';
import {
  callbackUriFor,
  TRANSFER_WORKFLOW_TYPE,
  type TransferRequestFields,
  type TransferWorkflow,
  transferStartOptions,
} from '../src/webhook/transfer-start.js';
import { createHandoffWorker } from '../src/worker/worker.js';
import type { botCall } from '../src/workflows/bot-call/bot-call.js';
import {
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
  hangUpSignal,
  inviteParticipantsUpdate,
  moveParticipantUpdate,
  transferIntoCallUpdate,
  transferParticipantUpdate,
} from '../src/workflows/bot-call/definitions.js';
import type {
  BotCallInput,
  BotCallSnapshot,
  CallRequest,
  OperationOutcome,
} from '../src/workflows/bot-call/types.js';
import { graphNotificationsSignal, transferWorkflowId } from '../src/workflows/definitions.js';
import {
  type IncomingCallAction,
  incomingCallWorkflowId,
} from '../src/workflows/incoming-call/definitions.js';
import {
  type NativeTransferMode,
  type NativeTransferOutcome,
  type NativeTransferTimeouts,
  nativeTransferWorkflowId,
} from '../src/workflows/native-transfer/definitions.js';
import { ROUTE_CALL_WORKFLOW_TYPE } from '../src/workflows/route-call/definitions.js';
import { strayCallWorkflowId } from '../src/workflows/stray-call/definitions.js';
import { startBotReceiver } from '../test/support/bot-receiver.js';

export const historiesDir = join(projectRoot(), 'test', 'histories');

/** Fixed P2P call ids, so that a re-recording changes as little of the committed files as it can. */
export const COMPLETED_TRANSFER_CALL_ID = 'recorded-seed-transfer';
export const FAILED_TRANSFER_CALL_ID = 'recorded-failed-transfer';

/**
 * The failure type of a transfer that could not complete: TRANSFER_FAILED in src/workflows/transfer/transfer.ts,
 * not imported because workflow modules belong in the workflow sandbox, not in this process.
 */
const TRANSFER_FAILED = 'TransferFailed';

/** How long one transfer may take before the recorder gives up on it (the workflow's own timeouts are 30-60 s). */
const TRANSFER_TIMEOUT_MS = 90_000;
/** How long the pacer waits for a workflow to settle before it calls the recording spoilt. */
const SETTLE_TIMEOUT_MS = 30_000;

export interface RecordingStack {
  temporalAddress: string;
  namespace: string;
  /** The webhook's client (identity `handoff-recorder-webhook`). */
  client: Client;
  simulator: GraphSimulator;
  /** The bot's registered calling URL, where the simulator posts incoming calls. */
  botUrl: string;
  /** PUBLIC_BASE_URL: the pacer, in front of the webhook. Callback URLs start with it. */
  publicBaseUrl: string;
  /** HANDOFF_CALLBACK_SECRET as the webhook has it: callback URLs are signed with the first. */
  callbackSecrets: string[];
  /** The worker's task queue. */
  taskQueue: string;
  /** Notifications the pacer could not deliver in order: a recording with any of them is spoilt. */
  pacingProblems: string[];
  stop(): Promise<void>;
}

export interface RecordingStackOptions {
  /** A prebuilt workflow bundle (`npm run build:workflows`); without it the worker bundles src/workflows. */
  workflowBundlePath?: string;
  report?: (line: string) => void;
  /** Extra dynamic config for the dev server (the continue-as-new recording lowers the suggestion threshold). */
  dynamicConfig?: Record<string, string>;
}

/**
 * Starts everything a recording needs, on free ports and a throwaway database. Fixed identities
 * keep this machine's host name out of the committed histories.
 */
export async function startRecordingStack(options: RecordingStackOptions = {}): Promise<RecordingStack> {
  const report = options.report ?? (() => {});
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0).reverse()) {
      await step().catch((error: unknown) => report(`stop failed: ${String(error)}`));
    }
  };
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'handoff-record-'));
    stops.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const devServer = await startDevServer({
      dbFile: join(dataDir, 'temporal.db'),
      ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
    });
    stops.push(() => devServer.stop());
    report(`Temporal dev server on ${devServer.address}`);

    // The webhook's client is also the pacer's: it is created before the pacer forwards anything.
    let client: Client | undefined;
    const pacingProblems: string[] = [];
    const pacer = await startNotificationPacer({
      untilSettled: (workflowId) => untilSettled(client!, workflowId),
      problems: pacingProblems,
    });
    stops.push(() => pacer.stop());

    const simulator = await startSimulator({ seed: 1, notifications: { timeoutMs: 60_000 } });
    stops.push(() => simulator.stop());
    report(`Graph simulator on ${simulator.url}`);

    const config = loadConfig({
      TEMPORAL_ADDRESS: devServer.address,
      TEMPORAL_NAMESPACE: devServer.namespace,
      HOST: '127.0.0.1',
      PORT: '0',
      PUBLIC_BASE_URL: pacer.url,
    });
    const connection = await Connection.connect({ address: devServer.address });
    stops.push(() => connection.close());
    client = new Client({ connection, namespace: devServer.namespace, identity: 'handoff-recorder-webhook' });

    const workerConnection = await NativeConnection.connect({ address: devServer.address });
    stops.push(() => workerConnection.close());
    const worker: Worker = await createHandoffWorker({
      connection: workerConnection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      graph: graphClientFor(config, simulator),
      identity: 'handoff-recorder-worker',
      ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
    });
    const running = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const webhook = buildWebhookServer(webhookDepsFor(config, client, { simulator, logger: false }));
    await webhook.listen({ host: '127.0.0.1', port: 0 });
    stops.push(() => webhook.close());
    const webhookUrl = `http://127.0.0.1:${(webhook.server.address() as AddressInfo).port}`;
    pacer.forwardTo(webhookUrl);
    report(`webhook on ${webhookUrl}, notifications paced through ${pacer.url}`);

    return {
      temporalAddress: devServer.address,
      namespace: devServer.namespace,
      client,
      simulator,
      botUrl: `${pacer.url}/api/calls`,
      publicBaseUrl: pacer.url,
      callbackSecrets: config.notifications.callbackSecrets,
      taskQueue: config.temporal.taskQueue,
      pacingProblems,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface RecordedTransfer {
  workflowId: string;
  history: History;
}

/** The seed transfer, run to completion. `callId` must be new to this stack's simulator. */
export async function recordCompletedTransfer(
  stack: RecordingStack,
  callId: string = COMPLETED_TRANSFER_CALL_ID,
): Promise<RecordedTransfer> {
  return recordTransfer(stack, callId, 'completed');
}

/** A transfer whose invite Graph refuses (403): compensated, then failed with TransferFailed. */
export async function recordFailedTransfer(
  stack: RecordingStack,
  callId: string = FAILED_TRANSFER_CALL_ID,
): Promise<RecordedTransfer> {
  stack.simulator.injectFault({
    method: 'POST',
    path: /\/participants\/invite$/,
    status: 403,
    code: 'Forbidden',
  });
  return recordTransfer(stack, callId, 'failed');
}

async function recordTransfer(
  stack: RecordingStack,
  callId: string,
  expected: 'completed' | 'failed',
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const workflowId = transferWorkflowId(callId);
  await stack.simulator.placeIncomingCall({ botUrl: stack.botUrl, callId });
  // The webhook answers the incoming call only after Temporal started the workflow.
  await stack.simulator.whenIdle();
  const incoming = stack.simulator.deliveries.filter(
    (delivery) => delivery.callId === callId && delivery.kind === 'incoming',
  );
  if (!incoming.some((delivery) => delivery.status === 202)) {
    throw new Error(
      `the webhook did not accept incoming call ${callId}: ${JSON.stringify(incoming.map(({ status, error }) => ({ status, error })))}`,
    );
  }

  const outcome = await settleWithin(
    stack.client.workflow.getHandle(workflowId).result(),
    TRANSFER_TIMEOUT_MS,
  );
  if (outcome === 'timedOut') {
    throw new Error(
      `transfer ${workflowId} did not finish within ${TRANSFER_TIMEOUT_MS} ms: look at it in the Temporal UI`,
    );
  }
  const failure = 'error' in outcome ? outcome.error : undefined;
  if (expected === 'completed' && failure !== undefined) {
    throw new Error(`transfer ${workflowId} was expected to complete but failed: ${String(failure)}`);
  }
  if (expected === 'failed') {
    const cause = failure instanceof WorkflowFailedError ? failure.cause : undefined;
    if (!(cause instanceof ApplicationFailure) || cause.type !== TRANSFER_FAILED) {
      throw new Error(
        `transfer ${workflowId} was expected to fail with ${TRANSFER_FAILED} but ended with ${failure === undefined ? 'success' : String(cause ?? failure)}`,
      );
    }
  }
  // Notifications for the finished workflow (the group call's hang-up, the P2P call's `deleted`) are
  // acknowledged without a signal; wait for them so that nothing is in flight when the stack stops.
  await stack.simulator.whenIdle();
  const problems = stack.pacingProblems.slice(problemsBefore);
  if (problems.length > 0) {
    throw new Error(
      `recording ${workflowId} is spoilt, notifications were not paced:\n  ${problems.join('\n  ')}`,
    );
  }
  return { workflowId, history: await stack.client.workflow.getHandle(workflowId).fetchHistory() };
}

async function settleWithin<T>(
  promise: Promise<T>,
  timeoutMs: number,
): Promise<{ value: T } | { error: unknown } | 'timedOut'> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      sleep(timeoutMs, 'timedOut' as const, { signal: timeout.signal }),
    ]);
  } finally {
    timeout.abort();
  }
}

/** Resolves once the workflow has neither a workflow task nor an activity pending, or has closed. */
async function untilSettled(client: Client, workflowId: string): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    let description: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>>;
    try {
      description = await client.workflow.getHandle(workflowId).describe();
    } catch (error) {
      // The webhook acknowledges a notification for an unknown workflow; nothing to wait for.
      if (error instanceof WorkflowNotFoundError) return;
      throw error;
    }
    if (description.status.name !== 'RUNNING') return;
    const { pendingWorkflowTask, pendingActivities } = description.raw;
    if (!pendingWorkflowTask && !pendingActivities?.length) return;
    if (Date.now() > deadline) {
      throw new Error(
        `workflow ${workflowId} still had ${pendingWorkflowTask ? 'a workflow task' : `${pendingActivities?.length} activities`} pending after ${SETTLE_TIMEOUT_MS} ms`,
      );
    }
    await sleep(20);
  }
}

interface NotificationPacer {
  url: string;
  forwardTo(webhookUrl: string): void;
  stop(): Promise<void>;
}

/**
 * An HTTP relay for Graph's notifications (PUBLIC_BASE_URL points here): forwards one POST at a
 * time to the webhook, each only once the workflow its path names has settled, and passes the
 * webhook's answer back. Incoming calls (`/api/calls`) name no workflow and pass at once.
 */
async function startNotificationPacer(deps: {
  untilSettled: (workflowId: string) => Promise<void>;
  problems: string[];
}): Promise<NotificationPacer> {
  let upstream: string | undefined;
  let previous: Promise<void> = Promise.resolve();

  async function relay(request: IncomingMessage, body: Buffer, response: ServerResponse): Promise<void> {
    const path = request.url ?? '/';
    try {
      if (upstream === undefined) throw new Error('the webhook is not listening yet');
      const workflowId = /^\/api\/calls\/([^/?]+)/.exec(path)?.[1];
      if (workflowId !== undefined) await deps.untilSettled(decodeURIComponent(workflowId));
      const { authorization } = request.headers;
      const answer = await fetch(`${upstream}${path}`, {
        method: request.method ?? 'POST',
        headers: {
          'content-type': request.headers['content-type'] ?? 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body,
      });
      const answerBody = Buffer.from(await answer.arrayBuffer());
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'text/plain',
      });
      response.end(answerBody);
    } catch (error) {
      deps.problems.push(
        `${request.method} ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`pacer: ${String(error)}`);
    }
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      // Strictly one at a time, in arrival order, whatever the simulator's lanes do.
      previous = previous.then(() => relay(request, Buffer.concat(chunks), response));
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolveListen);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwardTo: (webhookUrl) => {
      upstream = webhookUrl.replace(/\/+$/, '');
    },
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Issue 5 flows: botCall workflows driven through their updates and the hangUp signal, and the
// transfer of a call answered elsewhere. The driver acts (an update, an admission, a hang-up) only
// once every notification was delivered and the workflows settled, so that what it does lands at
// the same point of the history in every recording.

/** Fixed ids (a botCall is `call-<id>`), so that a re-recording changes as little as it can. */
export const BOT_CALL_INVITE_ID = 'recorded-invite';
export const BOT_CALL_TRANSFER_IN_ID = 'recorded-transfer-in';
export const BOT_CALL_MOVE_ID = 'recorded-move';
export const BOT_CALL_BLIND_TRANSFER_ID = 'recorded-blind-transfer-out';
export const BOT_CALL_GUEST_LOBBY_ID = 'recorded-guest-lobby';
export const ANSWERED_ELSEWHERE_CALL_ID = 'recorded-answered-elsewhere';

type BotCallHandle = WorkflowHandle<typeof botCall>;

/** The meeting's organizer (seed 004, example 5). */
const recordedOrganizer: IdentitySet = {
  user: { id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96', displayName: 'Bob' },
};
/** The parties of participant-invite examples 2 and 4: two users and a PSTN number. */
const recordedInvitees: IdentitySet[] = [
  { user: { id: '7e1b4346-85a6-4bdd-abe3-d11c5d420efe', displayName: 'Alice' } },
  { user: { id: '682b6c37-0729-4fab-ace6-d730d5d9137e', displayName: 'Dave' } },
  { phone: { id: '+12345678901' } },
];
const movedParticipant: IdentitySet = {
  user: { id: '1e126418-44a0-4a94-a6f8-0efe1ad71acb', displayName: 'Carol' },
};

function recordedMeeting(id: string): Extract<CallRequest, { kind: 'meeting' }> {
  return {
    kind: 'meeting',
    chatInfo: { threadId: `19:meeting_${id}@thread.v2`, messageId: '0' },
    organizer: recordedOrganizer,
    media: { kind: 'none' },
  };
}

/** Nothing left to deliver and no workflow task or activity pending in these workflows. */
async function untilQuiet(stack: RecordingStack, workflowIds: string[]): Promise<void> {
  // A delivered notification runs a workflow task, which may send a request whose notifications
  // come next: a few rounds reach the end of such a chain.
  for (let round = 0; round < 3; round++) {
    await stack.simulator.whenIdle();
    for (const workflowId of workflowIds) await untilSettled(stack.client, workflowId);
  }
}

/** Starts a botCall as the HTTP API does (`POST /api/bot-calls`), with a fixed id. */
async function startRecordedBotCall(
  stack: RecordingStack,
  id: string,
  request: CallRequest,
): Promise<BotCallHandle> {
  const workflowId = botCallWorkflowId(id);
  const input: BotCallInput = {
    request,
    callbackUri: callbackUriFor(stack, workflowId),
    botAppId: stack.simulator.botAppId,
    tenantId: stack.simulator.tenantId,
  };
  return stack.client.workflow.start<typeof botCall>(BOT_CALL_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: stack.taskQueue,
    args: [input],
    typedSearchAttributes: [
      { key: HandoffFlow, value: 'bot-call' },
      { key: HandoffTransferState, value: 'creating' },
    ],
  });
}

async function untilRecordedPhase(
  stack: RecordingStack,
  handle: BotCallHandle,
  phase: BotCallSnapshot['phase'],
): Promise<BotCallSnapshot> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    await untilQuiet(stack, [handle.workflowId]);
    const state = await handle.query(botCallStateQuery);
    if (state.phase === phase) return state;
    if (Date.now() > deadline) {
      throw new Error(
        `bot call ${handle.workflowId} is ${state.phase}, not ${phase}, after ${SETTLE_TIMEOUT_MS} ms`,
      );
    }
    await sleep(50);
  }
}

function expectCompleted(what: string, outcome: OperationOutcome): void {
  if (outcome.status !== 'completed' || outcome.invitees.some((invitee) => !invitee.joined)) {
    throw new Error(`${what} was expected to complete with every invitee joined: ${JSON.stringify(outcome)}`);
  }
}

/** Hangs the call up once everything settled and returns its history, which ends with outcome `ended`. */
async function hangUpAndRecord(
  stack: RecordingStack,
  handle: BotCallHandle,
  problemsBefore: number,
): Promise<RecordedTransfer> {
  await untilQuiet(stack, [handle.workflowId]);
  await handle.signal(hangUpSignal);
  const outcome = await settleWithin(handle.result(), TRANSFER_TIMEOUT_MS);
  if (outcome === 'timedOut') {
    throw new Error(
      `bot call ${handle.workflowId} did not end within ${TRANSFER_TIMEOUT_MS} ms of its hang-up`,
    );
  }
  if ('error' in outcome || outcome.value.outcome !== 'ended') {
    throw new Error(
      `bot call ${handle.workflowId} was expected to end on its hang-up: ${'error' in outcome ? String(outcome.error) : JSON.stringify(outcome.value)}`,
    );
  }
  return finishRecording(stack, handle.workflowId, problemsBefore);
}

/** Waits for the last notifications (acknowledged without a signal once the workflow closed). */
async function finishRecording(
  stack: RecordingStack,
  workflowId: string,
  problemsBefore: number,
): Promise<RecordedTransfer> {
  await stack.simulator.whenIdle();
  const problems = stack.pacingProblems.slice(problemsBefore);
  if (problems.length > 0) {
    throw new Error(
      `recording ${workflowId} is spoilt, notifications were not paced:\n  ${problems.join('\n  ')}`,
    );
  }
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  // A workflow task the worker did not complete in time (a busy machine) adds events a clean run
  // does not have: such a history would differ in shape from every other recording.
  const retried = eventTypes(history).filter((type) =>
    ['EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT', 'EVENT_TYPE_WORKFLOW_TASK_FAILED'].includes(type),
  );
  if (retried.length > 0) {
    throw new Error(
      `recording ${workflowId} is spoilt by ${retried.join(', ')}: run npm run record:histories again on a quieter machine`,
    );
  }
  return { workflowId, history };
}

/**
 * botCall joins a meeting (organizer + chatInfo, no media), invites two users and a PSTN number
 * (seed 003, examples 2 and 4; plain rosters), and is hung up.
 */
export async function recordBotCallInvite(
  stack: RecordingStack,
  id: string = BOT_CALL_INVITE_ID,
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const handle = await startRecordedBotCall(stack, id, recordedMeeting(id));
  await untilRecordedPhase(stack, handle, 'established');
  const invited = await handle.executeUpdate(inviteParticipantsUpdate, {
    args: [{ participants: recordedInvitees.map((identity) => ({ identity })), clientContext: id }],
  });
  expectCompleted(`the invite of ${handle.workflowId}`, invited);
  return hangUpAndRecord(stack, handle, problemsBefore);
}

/**
 * botCall creates a group call with two users and hands one of them on with Graph's call:
 * transfer (`transferParticipant`: transferTarget + transferee, issue 11.1). Then it is hung up.
 */
export async function recordBotCallBlindTransfer(
  stack: RecordingStack,
  id: string = BOT_CALL_BLIND_TRANSFER_ID,
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const [first, second] = recordedInvitees as [IdentitySet, IdentitySet];
  const handle = await startRecordedBotCall(stack, id, {
    kind: 'groupCall',
    targets: [first, second],
    media: { kind: 'serviceHosted' },
  });
  await untilRecordedPhase(stack, handle, 'established');
  const transferred = await handle.executeUpdate(transferParticipantUpdate, {
    args: [
      { transferTarget: { identity: { phone: { id: '+14255550123' } } }, transferee: { identity: second } },
    ],
  });
  if (transferred.status !== 'completed' || !transferred.transferAccepted) {
    throw new Error(
      `the blind transfer out of ${handle.workflowId} did not complete: ${JSON.stringify(transferred)}`,
    );
  }
  return hangUpAndRecord(stack, handle, problemsBefore);
}

/**
 * botCall creates a group call with two users and takes in a P2P call another system answered
 * (transferIntoCall, seed 003, example 3): the replaced call's end is told to that system, so the
 * workflow reads the call until Graph says it is gone. Then it is hung up.
 */
export async function recordBotCallTransferIn(
  stack: RecordingStack,
  id: string = BOT_CALL_TRANSFER_IN_ID,
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const otherSystem = await startBotReceiver();
  try {
    const p2pCallId = `${id}-p2p`;
    stack.simulator.placeAnsweredCall({
      callbackUri: otherSystem.callbackUrl(`/api/calls/${p2pCallId}`),
      callId: p2pCallId,
    });
    const handle = await startRecordedBotCall(stack, id, {
      kind: 'groupCall',
      targets: recordedInvitees.slice(0, 2),
      media: { kind: 'serviceHosted' },
    });
    await untilRecordedPhase(stack, handle, 'established');
    const transferred = await handle.executeUpdate(transferIntoCallUpdate, {
      args: [{ participant: { identity: defaultCaller }, replacesCallId: p2pCallId }],
    });
    expectCompleted(`the transfer into ${handle.workflowId}`, transferred);
    if (transferred.replacedCallEnded !== true) {
      throw new Error(`the transfer into ${handle.workflowId} did not see call ${p2pCallId} end`);
    }
    return await hangUpAndRecord(stack, handle, problemsBefore);
  } finally {
    await otherSystem.stop();
  }
}

/**
 * Two botCall workflows each join a meeting; the source invites Carol, the target moves her over
 * (moveParticipant, seed 003, example 5), both are hung up. Delta rosters: the source's owner is
 * told that Carol left (`removedState`). Returns both histories.
 */
export async function recordBotCallMove(
  stack: RecordingStack,
  id: string = BOT_CALL_MOVE_ID,
): Promise<{ target: RecordedTransfer; source: RecordedTransfer }> {
  const problemsBefore = stack.pacingProblems.length;
  const rosterMode = stack.simulator.settings().flows.rosterMode;
  stack.simulator.configure({ flows: { rosterMode: 'delta' } });
  try {
    // One after the other: their creates and notifications do not interleave.
    const source = await startRecordedBotCall(stack, `${id}-source`, recordedMeeting(`${id}-source`));
    const sourceState = await untilRecordedPhase(stack, source, 'established');
    const target = await startRecordedBotCall(stack, id, recordedMeeting(id));
    await untilRecordedPhase(stack, target, 'established');

    const invited = await source.executeUpdate(inviteParticipantsUpdate, {
      args: [{ participants: [{ identity: movedParticipant }], clientContext: `${id}-invite` }],
    });
    expectCompleted(`the invite of ${source.workflowId}`, invited);
    await untilQuiet(stack, [source.workflowId, target.workflowId]);
    const carol = (await source.query(botCallStateQuery)).roster.find(
      (participant) => participant.identity.user?.id === movedParticipant.user?.id,
    );
    if (!carol) throw new Error(`Carol is not in the roster of ${source.workflowId} after her invite`);

    const moved = await target.executeUpdate(moveParticipantUpdate, {
      args: [{ participantId: carol.id, identity: movedParticipant, replacesCallId: sourceState.callId! }],
    });
    expectCompleted(`the move into ${target.workflowId}`, moved);
    await untilQuiet(stack, [source.workflowId, target.workflowId]);
    const removed = (await source.query(botCallStateQuery)).roster.find(
      (participant) => participant.id === carol.id,
    );
    if (!removed?.removed)
      throw new Error(`${source.workflowId} was not told that Carol left: ${JSON.stringify(removed)}`);

    const recordedTarget = await hangUpAndRecord(stack, target, problemsBefore);
    const recordedSource = await hangUpAndRecord(stack, source, problemsBefore);
    return { target: recordedTarget, source: recordedSource };
  } finally {
    stack.simulator.configure({ flows: { rosterMode } });
  }
}

/**
 * botCall joins a meeting as a guest (create call, seed 004, example 10): it waits in the lobby
 * until someone admits it (`admitFromLobby`), holds the call, and is hung up.
 */
export async function recordBotCallGuestLobby(
  stack: RecordingStack,
  id: string = BOT_CALL_GUEST_LOBBY_ID,
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const handle = await startRecordedBotCall(stack, id, {
    ...recordedMeeting(id),
    media: { kind: 'serviceHosted' },
    guest: { id: `${id}-guest`, displayName: 'Guest bot' },
  });
  const waiting = await untilRecordedPhase(stack, handle, 'inLobby');
  stack.simulator.admitFromLobby(waiting.callId!);
  await untilRecordedPhase(stack, handle, 'established');
  return hangUpAndRecord(stack, handle, problemsBefore);
}

/**
 * The transfer of a P2P call another system answered (issue 5, item 5), started as
 * `POST /api/transfers` with `alreadyAnswered: true` does: Handoff reads the call instead of
 * answering it, creates the group call, invites with replacesCallId, and reads the call until it
 * is gone (its terminated/deleted go to the other system).
 */
export async function recordAnsweredElsewhereTransfer(
  stack: RecordingStack,
  callId: string = ANSWERED_ELSEWHERE_CALL_ID,
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const otherSystem = await startBotReceiver();
  try {
    stack.simulator.placeAnsweredCall({
      callbackUri: otherSystem.callbackUrl(`/api/calls/${callId}`),
      callId,
    });
    const context = {
      publicBaseUrl: stack.publicBaseUrl,
      callbackSecrets: stack.callbackSecrets,
      botAppId: stack.simulator.botAppId,
      tenantId: stack.simulator.tenantId,
      taskQueue: stack.taskQueue,
    };
    const request: TransferRequestFields = {
      callId,
      invitee: defaultCaller,
      target: seedMeetingTarget,
      alreadyAnswered: true,
    };
    const handle = await stack.client.workflow.start<TransferWorkflow>(
      TRANSFER_WORKFLOW_TYPE,
      transferStartOptions(context, request),
    );
    const outcome = await settleWithin(handle.result(), TRANSFER_TIMEOUT_MS);
    if (outcome === 'timedOut') {
      throw new Error(`transfer ${handle.workflowId} did not finish within ${TRANSFER_TIMEOUT_MS} ms`);
    }
    if ('error' in outcome || outcome.value.outcome !== 'completed') {
      throw new Error(
        `transfer ${handle.workflowId} was expected to complete: ${'error' in outcome ? String(outcome.error) : JSON.stringify(outcome.value)}`,
      );
    }
    return await finishRecording(stack, handle.workflowId, problemsBefore);
  } finally {
    await otherSystem.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Call ownership (issue 10, docs/call-ownership.md): the paths behind its patches and new types.

export const LEAVE_TRANSFER_CALL_ID = 'recorded-leave-transfer';
export const FAILED_HANG_UP_TRANSFER_CALL_ID = 'recorded-failed-hang-up';
export const STAY_TRANSFER_CALL_ID = 'recorded-stay-transfer';

/** The seed transfer with today's code: completed, then the bot leaves its own leg (`leave`). */
export async function recordLeaveTransfer(stack: RecordingStack): Promise<RecordedTransfer> {
  return recordTransfer(stack, LEAVE_TRANSFER_CALL_ID, 'completed');
}

export const FEWER_UPSERTS_TRANSFER_CALL_ID = 'recorded-fewer-upserts-transfer';

/**
 * The leave transfer recorded with the `fewer-search-attribute-upserts` patch (issue 12): no upsert
 * for `answering` (the start set it) nor for `leavingGroupCall`, and only the attributes a phase changed.
 */
export async function recordFewerUpsertsTransfer(stack: RecordingStack): Promise<RecordedTransfer> {
  return recordTransfer(stack, FEWER_UPSERTS_TRANSFER_CALL_ID, 'completed');
}

export const LOCAL_ANSWER_TRANSFER_CALL_ID = 'recorded-local-answer-transfer';

/**
 * The leave transfer recorded with the `local-answer` patch (issue 12, row 3): the answer is a
 * local activity, a `core_local_activity` marker where the activity had three events.
 */
export async function recordLocalAnswerTransfer(stack: RecordingStack): Promise<RecordedTransfer> {
  return recordTransfer(stack, LOCAL_ANSWER_TRANSFER_CALL_ID, 'completed');
}

/** The invite refused (403), no fallback: the group call and then the P2P call the bot answered are hung up. */
export async function recordFailedHangUpTransfer(stack: RecordingStack): Promise<RecordedTransfer> {
  stack.simulator.injectFault({
    method: 'POST',
    path: /\/participants\/invite$/,
    status: 403,
    code: 'Forbidden',
  });
  return recordTransfer(stack, FAILED_HANG_UP_TRANSFER_CALL_ID, 'failed');
}

/**
 * A call reporting to a finished transfer (as a lost create-call response's twin does): the
 * webhook starts a `strayCall` owner, which reads it and hangs it up. Needs the leave transfer.
 */
export async function recordStrayCall(stack: RecordingStack): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const transferId = transferWorkflowId(LEAVE_TRANSFER_CALL_ID);
  const graph = graphClientFor(loadConfig({ PUBLIC_BASE_URL: stack.publicBaseUrl }), stack.simulator);
  const meeting = recordedMeeting('stray');
  const stray = await graph.createCall({
    '@odata.type': '#microsoft.graph.call',
    callbackUri: callbackUriFor(
      { publicBaseUrl: stack.publicBaseUrl, callbackSecrets: stack.callbackSecrets },
      transferId,
    ),
    requestedModalities: [],
    chatInfo: meeting.chatInfo,
    meetingInfo: { '@odata.type': '#microsoft.graph.organizerMeetingInfo', organizer: meeting.organizer },
  });
  const workflowId = strayCallWorkflowId(stray.id!);
  await stack.simulator.whenIdle();
  const outcome = await settleWithin(
    (async () => {
      for (;;) {
        try {
          return await stack.client.workflow.getHandle(workflowId).result();
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          await sleep(100);
        }
      }
    })(),
    TRANSFER_TIMEOUT_MS,
  );
  if (outcome === 'timedOut' || 'error' in outcome || outcome.value.outcome !== 'hungUp') {
    throw new Error(`stray call owner ${workflowId} did not hang up ${stray.id}: ${JSON.stringify(outcome)}`);
  }
  return finishRecording(stack, workflowId, problemsBefore);
}

export const REDIRECTED_CALL_ID = 'recorded-redirect';
export const REJECTED_CALL_ID = 'recorded-reject';

/**
 * An `incomingCall` (issue 11.3), started as `POST /api/incoming-calls/:callId/redirect|reject`
 * does: the incoming notification goes to a bot receiver of its own (the webhook's registered URL
 * would start a transfer that answers the call), the workflow redirects or rejects it and follows
 * `redirecting`/`terminated`/`deleted` on its callback to the outcome.
 */
export async function recordIncomingCall(
  stack: RecordingStack,
  callId: string,
  action: IncomingCallAction,
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const receiver = await startBotReceiver();
  try {
    await stack.simulator.placeIncomingCall({ botUrl: receiver.callbackUrl(), callId });
    await stack.simulator.whenIdle();
    const handle = await stack.client.workflow.start(
      'incomingCall',
      incomingCallStartOptions(
        {
          publicBaseUrl: stack.publicBaseUrl,
          callbackSecrets: stack.callbackSecrets,
          taskQueue: stack.taskQueue,
        },
        callId,
        action,
      ),
    );
    const expected = action.kind === 'redirect' ? 'redirected' : 'rejected';
    const outcome = await settleWithin(handle.result(), TRANSFER_TIMEOUT_MS);
    if (outcome === 'timedOut' || 'error' in outcome || outcome.value.outcome !== expected) {
      throw new Error(`incoming call ${callId} was not ${expected}: ${JSON.stringify(outcome)}`);
    }
    return await finishRecording(stack, incomingCallWorkflowId(callId), problemsBefore);
  } finally {
    await receiver.stop();
  }
}

export const ROUTED_CALL_ID = 'recorded-route-ask-fallback';
export const WITHHELD_CALLER_ROUTED_CALL_ID = 'recorded-route-withheld-caller';

/** What a routeCall recording places and which rule decides it. */
interface RouteRecording {
  callId: string;
  caller: IdentitySet;
  rule: Record<string, unknown>;
  targets?: Record<string, unknown>;
}

/** The decision hook is down (nothing listens on a free port): the `ask` rule's fallback decides. */
async function askFallbackRecording(): Promise<RouteRecording> {
  return {
    callId: ROUTED_CALL_ID,
    caller: { phone: { id: '+14255550123' } },
    rule: {
      name: 'ask-crm',
      match: { callerType: ['phone'] },
      action: {
        kind: 'ask',
        url: `http://127.0.0.1:${await getFreePort()}/route`,
        timeoutMs: 2_000,
        fallback: { kind: 'reject', reason: 'busy' },
      },
    },
  };
}

/** A `transfer` rule for a caller the notification does not name: rejected instead (patch route-call-transfer-needs-caller). */
const withheldCallerRecording: RouteRecording = {
  callId: WITHHELD_CALLER_ROUTED_CALL_ID,
  caller: {},
  rule: {
    name: 'withheld',
    match: { callerType: ['anonymous'] },
    action: { kind: 'transfer', target: 'meeting' },
  },
  targets: { meeting: { transfer: seedMeetingTarget } },
};

/**
 * A `routeCall` (issue 11.4-5) as the webhook starts it for a rule file with one rule whose
 * decision ends in a reject (an `ask` whose hook is down, a transfer of a withheld caller): the
 * workflow decides, starts the call's `incomingCall` as an abandoned child and forwards it the
 * incoming notification. The incoming notification is caught by a bot receiver and handed to the workflow
 * here, with the start, as the webhook's signalWithStart does.
 */
export async function recordRouteCall(
  stack: RecordingStack,
  recording: RouteRecording,
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const receiver = await startBotReceiver();
  try {
    const { callId } = recording;
    await stack.simulator.placeIncomingCall({
      botUrl: receiver.callbackUrl(),
      callId,
      caller: recording.caller,
    });
    const [received] = await receiver.waitFor(1);
    const [incoming] = parseNotifications(received?.body) as CallNotification[];
    if (!incoming) throw new Error(`no incoming notification for ${callId}`);
    const ruleSet = ruleSetFrom(
      {
        version: 'recorded',
        ...(recording.targets ? { targets: recording.targets } : {}),
        rules: [recording.rule],
      },
      'recorded rules',
    );
    const receivedAt = new Date();
    const { options } = routeCallStart(
      {
        publicBaseUrl: stack.publicBaseUrl,
        callbackSecrets: stack.callbackSecrets,
        botAppId: stack.simulator.botAppId,
        tenantId: stack.simulator.tenantId,
        taskQueue: stack.taskQueue,
        incomingCallPolicy: {},
      },
      ruleSet,
      incoming,
      receivedAt,
    );
    const handle = await stack.client.workflow.signalWithStart<RouteCallWorkflow, [unknown]>(
      ROUTE_CALL_WORKFLOW_TYPE,
      {
        ...options,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        signal: graphNotificationsSignal,
        signalArgs: [{ notifications: [incoming], receivedAt: receivedAt.toISOString() }],
      },
    );
    const routed = await settleWithin(handle.result(), TRANSFER_TIMEOUT_MS);
    if (routed === 'timedOut' || 'error' in routed || routed.value.action !== 'reject') {
      throw new Error(`call ${callId} was not rejected: ${JSON.stringify(routed)}`);
    }
    const rejected = await settleWithin(
      stack.client.workflow.getHandle(incomingCallWorkflowId(callId)).result(),
      TRANSFER_TIMEOUT_MS,
    );
    if (rejected === 'timedOut' || 'error' in rejected) {
      throw new Error(`the routed incomingCall of ${callId} did not finish: ${JSON.stringify(rejected)}`);
    }
    return await finishRecording(stack, options.workflowId, problemsBefore);
  } finally {
    await receiver.stop();
  }
}

export const BLIND_TRANSFER_CALL_ID = 'recorded-blind-transfer';
export const CONSULTATIVE_TRANSFER_CALL_ID = 'recorded-consultative-transfer';
export const FAILED_NATIVE_TRANSFER_CALL_ID = 'recorded-native-transfer-failed';
export const UNSETTLED_NATIVE_TRANSFER_CALL_ID = 'recorded-native-transfer-unsettled';
/** A transfer target the simulator is set never to answer: the recorded failed transfer. */
const NEVER_ANSWERS = { user: { id: 'c3a0d1e2-5b6f-4a7c-8d9e-0f1a2b3c4d5e', displayName: 'Nobody' } };
/** A transfer target that rings forever, and a Graph that never says so: the unsettled transfer. */
const RINGS_FOREVER = { user: { id: '5e1f0a9b-7c3d-4e2a-9b8c-1d2e3f4a5b6c', displayName: 'Rings forever' } };

/**
 * A native transfer (issue 11.1-2), started as the API does: the incoming call answered and
 * transferred with Graph's `call: transfer`, blind or after a consultation call.
 */
export async function recordNativeTransfer(
  stack: RecordingStack,
  callId: string,
  mode: NativeTransferMode,
  expected: NativeTransferOutcome,
  timeouts?: Partial<NativeTransferTimeouts>,
): Promise<RecordedTransfer> {
  const problemsBefore = stack.pacingProblems.length;
  const receiver = await startBotReceiver();
  try {
    stack.simulator.declineInvitees([NEVER_ANSWERS.user.id]);
    stack.simulator.configure({ flows: { ringingIdentityIds: [RINGS_FOREVER.user.id] } });
    await stack.simulator.placeIncomingCall({ botUrl: receiver.callbackUrl(), callId });
    await stack.simulator.whenIdle();
    const options = nativeTransferStartOptions(
      {
        publicBaseUrl: stack.publicBaseUrl,
        callbackSecrets: stack.callbackSecrets,
        taskQueue: stack.taskQueue,
        botAppId: stack.simulator.botAppId,
      },
      callId,
      { mode },
    );
    const [input] = options.args;
    const handle = await stack.client.workflow.start('nativeTransfer', {
      ...options,
      args: [timeouts ? { ...input, timeouts } : input],
    });
    const outcome = await settleWithin(handle.result(), TRANSFER_TIMEOUT_MS);
    if (outcome === 'timedOut' || 'error' in outcome || outcome.value.outcome !== expected) {
      throw new Error(`native transfer of call ${callId} was not ${expected}: ${JSON.stringify(outcome)}`);
    }
    return await finishRecording(stack, nativeTransferWorkflowId(callId), problemsBefore);
  } finally {
    await receiver.stop();
  }
}

/**
 * `botLegAfterTransfer: stay` (started as the API does, for a call answered elsewhere, so that the
 * policy is the request's): the transfer continues as new into a `groupCallOwner`, which hangs up
 * after `stayMaxDurationMs`. Two files: the transfer's run and the owner's.
 */
export async function recordStayTransfer(
  stack: RecordingStack,
): Promise<{ transfer: RecordedTransfer; owner: RecordedTransfer }> {
  const problemsBefore = stack.pacingProblems.length;
  const callId = STAY_TRANSFER_CALL_ID;
  const otherSystem = await startBotReceiver();
  try {
    stack.simulator.placeAnsweredCall({
      callbackUri: otherSystem.callbackUrl(`/api/calls/${callId}`),
      callId,
    });
    const context = {
      publicBaseUrl: stack.publicBaseUrl,
      callbackSecrets: stack.callbackSecrets,
      botAppId: stack.simulator.botAppId,
      tenantId: stack.simulator.tenantId,
      taskQueue: stack.taskQueue,
    };
    const request: TransferRequestFields = {
      callId,
      invitee: defaultCaller,
      target: seedMeetingTarget,
      alreadyAnswered: true,
      botLegAfterTransfer: 'stay',
      stayMaxDurationMs: 3_000,
    };
    const handle = await stack.client.workflow.start<TransferWorkflow>(
      TRANSFER_WORKFLOW_TYPE,
      transferStartOptions(context, request),
    );
    const outcome = await settleWithin(handle.result(), TRANSFER_TIMEOUT_MS);
    if (outcome === 'timedOut' || 'error' in outcome) {
      throw new Error(`stay transfer ${handle.workflowId} did not end: ${JSON.stringify(outcome)}`);
    }
    const owner = await finishRecording(stack, handle.workflowId, problemsBefore);
    const transferRun = stack.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    return { transfer: { workflowId: handle.workflowId, history: await transferRun.fetchHistory() }, owner };
  } finally {
    await otherSystem.stop();
  }
}

/** Temporal suggests continue-as-new after this many events on the stack that records it. */
export const CONTINUE_AS_NEW_SUGGESTED_AFTER_EVENTS = '200';

/**
 * A botCall that continues as new (issue 10.6): joined, then 300 roster updates in 30 signals
 * (one at a time, each once the workflow settled) until Temporal suggests continue-as-new; the
 * next run resumes the call and is hung up. Needs a stack started with
 * `dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': CONTINUE_AS_NEW_SUGGESTED_AFTER_EVENTS }`.
 * Two files: the first run (ends ContinuedAsNew) and the resumed run.
 */
export async function recordBotCallContinuedAsNew(
  stack: RecordingStack,
): Promise<{ first: RecordedTransfer; resumed: RecordedTransfer }> {
  const problemsBefore = stack.pacingProblems.length;
  const handle = await startRecordedBotCall(stack, 'recorded-continued', recordedMeeting('continued'));
  const established = await untilRecordedPhase(stack, handle, 'established');
  const callId = established.callId!;
  const firstRunId = (await handle.describe()).runId;
  for (let update = 0; ; update++) {
    if ((await handle.describe()).runId !== firstRunId) break;
    if (update >= 500)
      throw new Error(`bot call ${handle.workflowId} did not continue as new after ${update} signals`);
    await handle.signal(graphNotificationsSignal, {
      receivedAt: new Date(0).toISOString(),
      notifications: Array.from({ length: 10 }, (_, index) => ({
        kind: 'participants' as const,
        changeType: 'updated' as const,
        callId,
        resourceUrl: `/communications/calls/${callId}/participants`,
        participants: [
          {
            id: `guest-${(update * 10 + index) % 7}`,
            info: { identity: { user: { id: `guest-${(update * 10 + index) % 7}` } } },
          },
        ],
      })),
    });
    await untilSettled(stack.client, handle.workflowId);
  }
  const first = {
    workflowId: handle.workflowId,
    history: await stack.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory(),
  };
  const resumed = await hangUpAndRecord(stack, handle, problemsBefore);
  return { first, resumed };
}

/** Compares a new recording's shape with the file it replaces, for the recorder's report. */
function compareWithCommitted(path: string, history: History): string {
  let previous: string[];
  try {
    previous = eventTypes(readHistoryFile(path));
  } catch {
    return 'new file';
  }
  const current = eventTypes(history);
  if (previous.join() === current.join()) return 'same event sequence as the file it replaces';
  const firstDifference = current.findIndex((type, index) => previous[index] !== type);
  const at = firstDifference === -1 ? Math.min(previous.length, current.length) : firstDifference;
  return (
    `EVENT SEQUENCE CHANGED (was ${previous.length} events, now ${current.length}; first difference at event ${at + 1}: ` +
    `${previous[at] ?? 'none'} -> ${current[at] ?? 'none'}). Commit this only for a deliberate, versioned workflow change`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, only: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const outDir = values.out !== undefined ? resolve(values.out) : historiesDir;
  // `--only a,b`: record just these (each file's prerequisites included by the caller).
  const only = values.only?.split(',').map((name) => name.trim());
  // The worker logs every phase, and the failed transfer at length; the recorder's lines say what matters.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const stack = await startRecordingStack({ report: (line) => console.log(`[record] ${line}`) });
  try {
    const recordings: Array<[name: string, record: () => Promise<RecordedTransfer>]> = [
      ['transfer-completed', () => recordCompletedTransfer(stack)],
      ['transfer-failed', () => recordFailedTransfer(stack)],
      ['transfer-answered-elsewhere', () => recordAnsweredElsewhereTransfer(stack)],
      ['bot-call-invite', () => recordBotCallInvite(stack)],
      ['bot-call-transfer-in', () => recordBotCallTransferIn(stack)],
      ['bot-call-blind-transfer', () => recordBotCallBlindTransfer(stack)],
      ['bot-call-guest-lobby', () => recordBotCallGuestLobby(stack)],
      ['transfer-leave', () => recordLeaveTransfer(stack)],
      ['transfer-failed-hang-up-caller', () => recordFailedHangUpTransfer(stack)],
      ['transfer-fewer-upserts', () => recordFewerUpsertsTransfer(stack)],
      ['transfer-local-answer', () => recordLocalAnswerTransfer(stack)],
      // After transfer-leave: it reports to that finished transfer.
      ['stray-call', () => recordStrayCall(stack)],
      [
        'incoming-call-redirect',
        () =>
          recordIncomingCall(stack, REDIRECTED_CALL_ID, {
            kind: 'redirect',
            targets: [
              { identity: { user: { id: 'b7d7d5f5-0a4c-4a5e-9a43-0e9cbd2c3f11', displayName: 'Alice' } } },
            ],
            timeoutSeconds: 30,
          }),
      ],
      [
        'incoming-call-reject',
        () => recordIncomingCall(stack, REJECTED_CALL_ID, { kind: 'reject', reason: 'busy' }),
      ],
      ['route-call-ask-fallback', async () => recordRouteCall(stack, await askFallbackRecording())],
      ['route-call-withheld-caller', () => recordRouteCall(stack, withheldCallerRecording)],
      [
        'native-transfer-blind',
        () =>
          recordNativeTransfer(
            stack,
            BLIND_TRANSFER_CALL_ID,
            { kind: 'blind', target: { identity: { phone: { id: '+14255550123' } } } },
            'transferred',
          ),
      ],
      [
        'native-transfer-consultative',
        () =>
          recordNativeTransfer(
            stack,
            CONSULTATIVE_TRANSFER_CALL_ID,
            {
              kind: 'consultative',
              target: {
                identity: { user: { id: 'b7d7d5f5-0a4c-4a5e-9a43-0e9cbd2c3f11', displayName: 'Alice' } },
              },
              complete: 'whenTargetAnswers',
            },
            'transferred',
          ),
      ],
      [
        'native-transfer-failed',
        () =>
          recordNativeTransfer(
            stack,
            FAILED_NATIVE_TRANSFER_CALL_ID,
            { kind: 'blind', target: { identity: NEVER_ANSWERS } },
            'transferFailed',
          ),
      ],
      [
        'native-transfer-unsettled',
        () =>
          recordNativeTransfer(
            stack,
            UNSETTLED_NATIVE_TRANSFER_CALL_ID,
            { kind: 'blind', target: { identity: RINGS_FOREVER } },
            'unconfirmed',
            { transferOutcomeMs: 1_000, transferSettleMs: 2_500 },
          ),
      ],
    ];
    let stay: Promise<{ transfer: RecordedTransfer; owner: RecordedTransfer }> | undefined;
    const recordStay = () => {
      stay ??= recordStayTransfer(stack);
      return stay;
    };
    recordings.push(
      ['transfer-stay', async () => (await recordStay()).transfer],
      ['group-call-owner', async () => (await recordStay()).owner],
    );
    // The move is recorded once and gives two files: the target's and the source's history.
    let move: Promise<{ target: RecordedTransfer; source: RecordedTransfer }> | undefined;
    const recordMove = () => {
      move ??= recordBotCallMove(stack);
      return move;
    };
    recordings.push(
      ['bot-call-move', async () => (await recordMove()).target],
      ['bot-call-move-source', async () => (await recordMove()).source],
    );

    for (const [name, record] of recordings.filter(([name]) => !only || only.includes(name))) {
      const { workflowId, history } = await record();
      const comparison = compareWithCommitted(join(outDir, `${name}.json`), history);
      const path = writeHistoryFile(outDir, name, history);
      console.log(
        `[record] ${relative(process.cwd(), path)}: workflow ${workflowId}, ${history.events?.length ?? 0} events, ${comparison}`,
      );
    }
  } finally {
    await stack.stop();
  }
  // Continue-as-new needs a server that suggests it soon: a stack of its own.
  const continued = ['bot-call-continued-as-new', 'bot-call-resumed'].filter(
    (name) => !only || only.includes(name),
  );
  if (continued.length > 0) {
    const canStack = await startRecordingStack({
      report: (line) => console.log(`[record] ${line}`),
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': CONTINUE_AS_NEW_SUGGESTED_AFTER_EVENTS },
    });
    try {
      const { first, resumed } = await recordBotCallContinuedAsNew(canStack);
      for (const [name, { workflowId, history }] of [
        ['bot-call-continued-as-new', first],
        ['bot-call-resumed', resumed],
      ] as const) {
        if (!continued.includes(name)) continue;
        const comparison = compareWithCommitted(join(outDir, `${name}.json`), history);
        const path = writeHistoryFile(outDir, name, history);
        console.log(
          `[record] ${relative(process.cwd(), path)}: workflow ${workflowId}, ${history.events?.length ?? 0} events, ${comparison}`,
        );
      }
    } finally {
      await canStack.stop();
    }
  }
}

// Run only as a command: the replay test imports the functions above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(
      `record:histories failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  });
}
