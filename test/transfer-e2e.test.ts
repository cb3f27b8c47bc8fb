// The P2P → group transfer end to end (seed 000; seed 001, "replacing an existing peer-to-peer
// call"): the Graph simulator places the call to the real webhook over HTTP (JWT verified), the
// webhook starts the real workflow on a Temporal dev server, and a real worker runs it against the
// simulator. Nothing is mocked but Graph itself.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphClientFor } from '../src/app/graph.js';
import { seedMeetingTarget } from '../src/config/env.js';
import { GraphRequestError } from '../src/graph/index.js';
import type { RequestRecord } from '../src/simulator/index.js';
import { SimulatorConfigError } from '../src/simulator/index.js';
import { defaultCaller } from '../src/simulator/scenarios.js';
import { HandoffCallIds, HandoffTransferState } from '../src/temporal/search-attributes.js';
import type { NotificationDelivery } from '../src/workflows/definitions.js';
import { transferStateQuery } from '../src/workflows/definitions.js';
import {
  TRANSFER_FAILED,
  type TransferResult,
  type TransferSnapshot,
} from '../src/workflows/transfer/types.js';
import { startBotReceiver } from './support/bot-receiver.js';
import {
  activityTypeOf,
  buildTestWorkflowBundle,
  describeHistory,
  eventTimeMs,
  eventTypeName,
  type HandoffTestStack,
  type HistoryEvent,
  startHandoffTestStack,
  startTestTemporal,
  summaryOf,
  type TestTemporal,
  type TestWorkflowBundle,
  waitUntil,
} from './support/handoff-stack.js';
import {
  callStateBody,
  createSigningKey,
  forgeToken,
  post,
  stackCallbackUri,
  unsignedToken,
} from './support/webhook-fixtures.js';

let temporal: TestTemporal;
let bundle: TestWorkflowBundle;
let stack: HandoffTestStack | undefined;

beforeAll(async () => {
  [temporal, bundle] = await Promise.all([startTestTemporal(), buildTestWorkflowBundle()]);
});

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

afterAll(async () => {
  await temporal?.stop();
  bundle?.remove();
});

async function startStack(options: { worker?: boolean } = {}): Promise<HandoffTestStack> {
  stack = await startHandoffTestStack({ temporal, workflowBundlePath: bundle.path, ...options });
  return stack;
}

/** Where the embedded default policy transfers incoming calls (src/config/env.ts): the seed's meeting. */
const seedTarget = (() => {
  if (seedMeetingTarget.kind !== 'meeting')
    throw new Error('the embedded default target should be a meeting');
  return seedMeetingTarget;
})();

const createCallPath = /^\/v1\.0\/communications\/calls$/;
const invitePath = /^\/v1\.0\/communications\/calls\/[^/]+\/participants\/invite$/;

function requestsTo(s: HandoffTestStack, method: string, path: RegExp | string): RequestRecord[] {
  return s.sim.requests.filter(
    (request) =>
      request.method === method &&
      (typeof path === 'string' ? request.path === path : path.test(request.path)),
  );
}

function signalsIn(events: HistoryEvent[]): HistoryEvent[] {
  return events.filter((event) => eventTypeName(event) === 'WorkflowExecutionSignaled');
}

/** The notification delivery a signal event carries. */
function signalled(event: HistoryEvent): NotificationDelivery {
  const payload = event.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`signal event ${event.eventId} has no input`);
  return defaultPayloadConverter.fromPayload(payload);
}

/** The failure a failed or cancelled run ended with. */
async function failureOf(s: HandoffTestStack, workflowId: string): Promise<unknown> {
  try {
    await s.handle(workflowId).result();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowFailedError);
    return (error as WorkflowFailedError).cause;
  }
  throw new Error(`workflow ${workflowId} completed; a failure was expected`);
}

/** Timers the workflow started to wait before sending a request again (`sendOnce`). */
function retryTimers(events: HistoryEvent[]): HistoryEvent[] {
  return events.filter(
    (event) => eventTypeName(event) === 'TimerStarted' && summaryOf(event)?.startsWith('retry '),
  );
}

/** Waits until the workflow waits to retry a request, so that it is parked for a while. */
async function untilRetryTimerStarted(s: HandoffTestStack, workflowId: string): Promise<HistoryEvent> {
  return waitUntil(`a retry timer in ${workflowId}`, async () => retryTimers(await s.history(workflowId))[0]);
}

describe('the seed transfer, end to end', () => {
  it('answers, creates the group call without media, invites with replacesCallId and completes once Graph ended the P2P call', async () => {
    const s = await startStack();
    // Slower notifications stretch the run, so the query is seen answering while it runs.
    s.sim.configure({ notifications: { delayMs: 150 } });
    const { callId, workflowId, handle } = await s.placeCall();

    const snapshots: TransferSnapshot[] = [];
    let closed = false;
    const polling = (async () => {
      while (!closed) {
        try {
          const description = await handle.describe();
          if (description.status.name !== 'RUNNING') break;
          snapshots.push(await handle.query(transferStateQuery));
        } catch {
          // The run closed between describe and query: the loop ends on the next round.
        }
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    const result: TransferResult = await handle.result().finally(() => {
      closed = true;
    });
    await polling;
    await s.sim.whenIdle();

    // The outcome.
    const groupCalls = s.sim.calls().filter((call) => call.kind === 'group');
    expect(groupCalls).toHaveLength(1);
    const groupCallId = groupCalls[0]!.id;
    const [invite] = requestsTo(s, 'POST', invitePath);
    expect(result).toMatchObject({
      outcome: 'completed',
      p2pCallId: callId,
      groupCallId,
      inviteOperationId: (invite?.response as { id?: string } | undefined)?.id,
      inviteClientContext: expect.any(String),
      originalCallTerminationReason: 'AppInitiated',
      inviteeSeenInRoster: true,
    });
    expect(result.inviteOperationId).toEqual(expect.any(String));
    expect(result.reason).toBeUndefined();
    const { timings } = result;
    const ordered = [
      timings.startedAt,
      timings.p2pEstablishedAt,
      timings.groupCallEstablishedAt,
      timings.inviteSentAt,
      timings.inviteCompletedAt,
      timings.originalCallEndedAt,
      timings.finishedAt,
    ];
    for (const time of ordered) expect(time).toEqual(expect.any(Number));
    expect([...ordered].sort((a, b) => a! - b!)).toEqual(ordered);

    // What Graph was asked, exactly once each.
    const callbackUri = stackCallbackUri(s, workflowId);
    const answers = requestsTo(s, 'POST', `/v1.0/communications/calls/${callId}/answer`);
    expect(answers.map((request) => request.status)).toEqual([202]);
    expect(answers[0]?.body).toMatchObject({ callbackUri });
    const creates = requestsTo(s, 'POST', createCallPath);
    expect(creates.map((request) => request.status)).toEqual([201]);
    const createBody = creates[0]?.body as Record<string, unknown>;
    expect(createBody).toMatchObject({
      callbackUri,
      requestedModalities: [],
      chatInfo: seedTarget.chatInfo,
      meetingInfo: {
        '@odata.type': '#microsoft.graph.organizerMeetingInfo',
        organizer: seedTarget.organizer,
      },
      source: { identity: { application: { id: s.sim.botAppId } } },
      tenantId: s.sim.tenantId,
    });
    expect(createBody).not.toHaveProperty('mediaConfig');
    const invites = requestsTo(s, 'POST', invitePath);
    expect(invites.map((request) => `${request.path} ${request.status}`)).toEqual([
      `/v1.0/communications/calls/${groupCallId}/participants/invite 200`,
    ]);
    const inviteBody = invites[0]?.body as { participants: unknown[]; clientContext: string };
    expect(inviteBody.participants).toEqual([
      expect.objectContaining({
        replacesCallId: callId,
        identity: expect.objectContaining({ user: expect.objectContaining({ id: defaultCaller.user?.id }) }),
      }),
    ]);
    expect(inviteBody.clientContext).toBe(result.inviteClientContext);
    expect(inviteBody.clientContext.length).toBeLessThanOrEqual(256);
    // Graph ended the P2P call itself; the workflow hung up only the bot's own leg in the group
    // call once the caller was in (botLegAfterTransfer `leave`, the default: docs/call-ownership.md).
    expect(result.botLeg).toBe('left');
    expect(requestsTo(s, 'DELETE', /./).map((request) => `${request.path} ${request.status}`)).toEqual([
      `/v1.0/communications/calls/${groupCallId} 204`,
    ]);
    const inviteAt = invites[0]!.at.getTime();
    expect(requestsTo(s, 'DELETE', /./)[0]!.at.getTime()).toBeGreaterThan(inviteAt);

    // Graph's view: the P2P call is gone, the caller was moved into the group call.
    expect(s.sim.getCall(callId)).toMatchObject({
      state: 'terminated',
      deleted: true,
      replacedBy: { callId: groupCallId },
    });
    const graph = graphClientFor(s.config, s.sim);
    await expect(graph.getCall(callId)).rejects.toSatisfy(
      (error) => error instanceof GraphRequestError && error.status === 404,
    );
    // The simulator ends the whole call when its only bot leaves; Graph would keep it for the others.
    expect(s.sim.getCall(groupCallId)).toMatchObject({ deleted: true, terminationReason: 'AppInitiated' });

    // Every notification reached the webhook and was accepted.
    expect(s.sim.deliveries.length).toBeGreaterThanOrEqual(8);
    expect(s.sim.deliveries.filter((delivery) => delivery.status !== 202)).toEqual([]);
    expect(s.sim.dropped).toEqual([]);

    // The query answered while the transfer ran, with the phases in order.
    const phases = [...new Set(snapshots.map((snapshot) => snapshot.phase))];
    expect(phases.filter((phase) => phase !== 'completed').length).toBeGreaterThan(0);
    const order = [
      'answering',
      'creatingGroupCall',
      'inviting',
      'awaitingOriginalCallEnd',
      'leavingGroupCall',
      'completed',
    ];
    expect(phases.map((phase) => order.indexOf(phase))).toEqual(
      phases.map((phase) => order.indexOf(phase)).sort((a, b) => a - b),
    );
    expect(phases.every((phase) => order.includes(phase))).toBe(true);
    const last = snapshots.at(-1)!;
    expect(last.result.p2pCallId).toBe(callId);
    expect(last.notificationsSeen).toBeGreaterThan(0);

    // Operators find it by state and by either call id.
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(HandoffTransferState)).toBe('completed');
    expect(description.typedSearchAttributes.get(HandoffCallIds)).toEqual(
      expect.arrayContaining([callId, groupCallId]),
    );

    // And the transfers API says the same.
    const status = await s.api(`/api/transfers/${workflowId}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      status: 'COMPLETED',
      phase: 'completed',
      result: { outcome: 'completed', groupCallId },
    });
  });

  it('completes when the group call notifications arrive before the create-call response', async () => {
    const s = await startStack();
    // Graph acts on the request at once; only its HTTP answer comes late.
    s.sim.injectFault({ method: 'POST', path: /\/communications\/calls$/, delayMs: 1_500 });
    const { workflowId, handle } = await s.placeCall();
    const result = await handle.result();
    expect(result.outcome).toBe('completed');
    expect(requestsTo(s, 'POST', createCallPath)).toHaveLength(1);

    const events = await s.history(workflowId);
    const createCompleted = events.findIndex(
      (event) =>
        eventTypeName(event) === 'ActivityTaskCompleted' && activityTypeOf(events, event) === 'createCall',
    );
    expect(createCompleted, describeHistory(events).join('\n')).toBeGreaterThan(0);
    const earlyGroupCallStates = signalsIn(events.slice(0, createCompleted))
      .flatMap((event) => signalled(event).notifications)
      .filter((notification) => notification.callId === result.groupCallId && notification.kind === 'call')
      .map((notification) => (notification.kind === 'call' ? notification.call.state : undefined));
    expect(earlyGroupCallStates, describeHistory(events).join('\n')).toEqual(
      expect.arrayContaining(['establishing', 'established']),
    );
  });
});

describe('a create-call response that never arrives', () => {
  it('adopts the group call its notifications announce instead of creating a second one', async () => {
    const s = await startStack();
    // Graph creates the call, but its answer comes after the Graph client gave up (10 s).
    s.sim.injectFault({ method: 'POST', path: /\/communications\/calls$/, delayMs: 10_500 });
    const { workflowId, handle } = await s.placeCall();
    const result = await handle.result();

    expect(requestsTo(s, 'POST', createCallPath)).toHaveLength(1);
    const groupCalls = s.sim.calls().filter((call) => call.kind === 'group');
    expect(groupCalls.map((call) => call.id)).toEqual([result.groupCallId]);
    expect(result.outcome).toBe('completed');
    // Only the bot's own leg, after the transfer (botLegAfterTransfer `leave`): no twin to hang up.
    expect(requestsTo(s, 'DELETE', /./).map((request) => request.path)).toEqual([
      `/v1.0/communications/calls/${result.groupCallId}`,
    ]);

    const events = await s.history(workflowId);
    const history = describeHistory(events).join('\n');
    const createEvents = events.filter((event) => activityTypeOf(events, event) === 'createCall');
    expect(createEvents.map(eventTypeName), history).toEqual([
      'ActivityTaskScheduled',
      'ActivityTaskStarted',
      'ActivityTaskFailed',
    ]);
    expect(createEvents[2]?.activityTaskFailedEventAttributes?.failure?.message, history).toMatch(
      /no response within/,
    );
  });
});

describe('notification authentication on a running transfer', () => {
  it('refuses unsigned and wrongly signed notifications at the workflow callback: 401, nothing signalled', async () => {
    const s = await startStack();
    // The invite is refused with a long Retry-After: the transfer waits, running, with a group call.
    s.sim.injectFault({
      method: 'POST',
      path: /\/participants\/invite$/,
      status: 503,
      retryAfterSeconds: 30,
    });
    const { callId, workflowId, handle } = await s.placeCall();
    await untilRetryTimerStarted(s, workflowId);
    await s.sim.whenIdle();

    expect((await handle.describe()).status.name).toBe('RUNNING');
    const before = await handle.query(transferStateQuery);
    const signalsBefore = signalsIn(await s.history(workflowId)).length;
    const callbackUrl = stackCallbackUri(s, workflowId);
    // Had it been accepted, it would end the transfer.
    const body = callStateBody(callId, 'terminated');
    const { issuer, audience, jwksUrl } = s.sim.notificationAuth;
    const published = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
    const impostor = await createSigningKey(published.keys[0]!.kid);
    const stranger = await createSigningKey('not-a-published-key');

    const attempts = {
      'no Authorization header': await post(callbackUrl, body),
      'an unsigned token (alg none)': await post(callbackUrl, body, {
        token: unsignedToken({ iss: issuer, aud: audience, exp: Math.floor(Date.now() / 1000) + 300 }),
      }),
      "another key under the simulator's key id": await post(callbackUrl, body, {
        token: await forgeToken(impostor, { issuer, audience }),
      }),
      'a key the simulator never published': await post(callbackUrl, body, {
        token: await forgeToken(stranger, { issuer, audience }),
      }),
    };
    for (const [what, answer] of Object.entries(attempts)) {
      expect({ what, status: answer.status }).toEqual({ what, status: 401 });
    }

    const after = await handle.query(transferStateQuery);
    expect(after.notificationsSeen).toBe(before.notificationsSeen);
    expect(after.calls.find((call) => call.callId === callId)?.state).toBe('established');
    expect(signalsIn(await s.history(workflowId))).toHaveLength(signalsBefore);

    // The same POST signed by the simulator does reach the workflow: the measure above can see one.
    const receiver = await startBotReceiver();
    try {
      await s.sim.placeIncomingCall({ botUrl: receiver.callbackUrl() });
      const [received] = await receiver.waitFor(1);
      const harmless = callStateBody(callId, 'established');
      expect((await post(callbackUrl, harmless, { token: received!.token! })).status).toBe(202);
    } finally {
      await receiver.stop();
    }
    expect((await handle.query(transferStateQuery)).notificationsSeen).toBe(before.notificationsSeen + 1);
    expect(signalsIn(await s.history(workflowId))).toHaveLength(signalsBefore + 1);

    await handle.terminate('test over');
  });
});

describe('when the transfer cannot complete', () => {
  it('fails with TransferFailed when Graph refuses the invite, hangs up its group call and the P2P call it answered', async () => {
    const s = await startStack();
    s.sim.injectFault({ method: 'POST', path: /\/participants\/invite$/, status: 403, code: 'Forbidden' });
    const { callId, workflowId, handle } = await s.placeCall();

    const failure = await failureOf(s, workflowId);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const applicationFailure = failure as ApplicationFailure;
    expect(applicationFailure.type).toBe(TRANSFER_FAILED);
    const result = applicationFailure.details?.[0] as TransferResult;
    expect(result).toMatchObject({ outcome: 'failed', p2pCallId: callId, groupCallId: expect.any(String) });
    expect(result.reason).toMatch(/403|Forbidden/);
    expect(applicationFailure.message).toBe(result.reason);

    const groupCallId = result.groupCallId!;
    expect(requestsTo(s, 'POST', invitePath).map((request) => request.status)).toEqual([403]);
    // The group call it created, then the P2P call it answered: the caller is not left in a
    // silent call (issue 10.3; no fallbackTarget).
    expect(requestsTo(s, 'DELETE', /./).map((request) => `${request.path} ${request.status}`)).toEqual([
      `/v1.0/communications/calls/${groupCallId} 204`,
      `/v1.0/communications/calls/${callId} 204`,
    ]);
    expect(result.p2pCallHungUp).toBe(true);
    expect(s.sim.getCall(groupCallId)).toMatchObject({ deleted: true, terminationReason: 'AppInitiated' });
    expect(s.sim.getCall(callId)).toMatchObject({ deleted: true, terminationReason: 'AppInitiated' });
    expect(s.sim.getCall(callId)?.replacedBy).toBeUndefined();

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(HandoffTransferState)).toBe('failed');
    const status = await s.api(`/api/transfers/${workflowId}`);
    expect(status.body).toMatchObject({
      status: 'FAILED',
      phase: 'failed',
      failure: { type: TRANSFER_FAILED },
      result: { outcome: 'failed', groupCallId },
    });
  });

  it('waits what Graph asks after a 429 on create call, then creates exactly one group call', async () => {
    const s = await startStack();
    s.sim.injectFault({
      method: 'POST',
      path: /\/communications\/calls$/,
      status: 429,
      retryAfterSeconds: 1,
    });
    const { workflowId, handle } = await s.placeCall();
    const result = await handle.result();
    expect(result.outcome).toBe('completed');

    expect(requestsTo(s, 'POST', createCallPath).map((request) => request.status)).toEqual([429, 201]);
    expect(
      s.sim
        .calls()
        .filter((call) => call.kind === 'group')
        .map((call) => call.id),
    ).toEqual([result.groupCallId]);

    const events = await s.history(workflowId);
    const history = describeHistory(events).join('\n');
    const createEvents = events.filter((event) => activityTypeOf(events, event) === 'createCall');
    expect(createEvents.map(eventTypeName), history).toEqual([
      'ActivityTaskScheduled',
      'ActivityTaskStarted',
      'ActivityTaskFailed',
      'ActivityTaskScheduled',
      'ActivityTaskStarted',
      'ActivityTaskCompleted',
    ]);
    const [, , failed, retried] = createEvents;
    const timers = retryTimers(events);
    expect(
      timers.map((event) => [
        summaryOf(event),
        Number(event.timerStartedEventAttributes?.startToFireTimeout?.seconds),
      ]),
      history,
    ).toEqual([['retry create group call', 1]]);
    expect(eventTimeMs(retried!) - eventTimeMs(failed!)).toBeGreaterThanOrEqual(1_000);
  });

  it('cancels through the HTTP API while waiting: the group call is hung up and the result says cancelled', async () => {
    const s = await startStack();
    s.sim.injectFault({
      method: 'POST',
      path: /\/participants\/invite$/,
      status: 503,
      retryAfterSeconds: 30,
    });
    const { callId, workflowId, handle } = await s.placeCall();
    await untilRetryTimerStarted(s, workflowId);
    const groupCallId = (await handle.query(transferStateQuery)).result.groupCallId!;
    expect(groupCallId).toEqual(expect.any(String));

    const cancelled = await s.api(`/api/transfers/${workflowId}/cancel`, {});
    expect(cancelled).toMatchObject({ status: 202, body: { workflowId, status: 'CANCEL_REQUESTED' } });

    expect(await failureOf(s, workflowId)).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    // Cancelled: the group call, then the P2P call the bot answered (nobody is left in silence).
    expect(requestsTo(s, 'DELETE', /./).map((request) => `${request.path} ${request.status}`)).toEqual([
      `/v1.0/communications/calls/${groupCallId} 204`,
      `/v1.0/communications/calls/${callId} 204`,
    ]);
    expect(s.sim.getCall(groupCallId)?.deleted).toBe(true);
    expect(s.sim.getCall(callId)).toMatchObject({ deleted: true });
    // Graph refused the only invite: the caller was never moved.
    expect(requestsTo(s, 'POST', invitePath).map((request) => request.status)).toEqual([503]);

    const finalState = await handle.query(transferStateQuery);
    expect(finalState.phase).toBe('cancelled');
    expect(finalState.result).toMatchObject({
      outcome: 'cancelled',
      reason: 'cancelled by request',
      groupCallId,
    });
    const status = await s.api(`/api/transfers/${workflowId}`);
    expect(status.body).toMatchObject({ status: 'CANCELLED', phase: 'cancelled' });
    expect((await s.api(`/api/transfers/${workflowId}/cancel`, {})).status).toBe(409);
  });
});

describe('the simulator knob these tests use: delayed responses', () => {
  it('injectFault with delayMs and no status serves the request at once and answers late', async () => {
    const s = await startStack({ worker: false });
    const receiver = await startBotReceiver();
    try {
      s.sim.injectFault({ method: 'POST', path: /\/communications\/calls$/, delayMs: 800 });
      const graph = graphClientFor(s.config, s.sim);
      const call = await graph.createCall({
        '@odata.type': '#microsoft.graph.call',
        callbackUri: receiver.callbackUrl('/api/calls/knob-test'),
        requestedModalities: [],
        chatInfo: seedTarget.chatInfo,
        meetingInfo: {
          '@odata.type': '#microsoft.graph.organizerMeetingInfo',
          organizer: seedTarget.organizer,
        },
      });
      const answeredAt = Date.now();
      expect(call.state).toBe('establishing');
      // The call's notifications arrived while the response was held back.
      const early = receiver.received.filter((notification) => notification.at.getTime() < answeredAt);
      expect(early.length).toBeGreaterThanOrEqual(2);
      const [record] = requestsTo(s, 'POST', createCallPath);
      expect(record?.status).toBe(201);
      expect(answeredAt - record!.at.getTime()).toBeGreaterThanOrEqual(800);

      // With a status too, the error comes late.
      s.sim.injectFault({ method: 'GET', status: 503, retryAfterSeconds: 2, delayMs: 300 });
      const askedAt = Date.now();
      await expect(graph.getCall(call.id!)).rejects.toSatisfy(
        (error) =>
          error instanceof GraphRequestError && error.status === 503 && error.retryAfterSeconds === 2,
      );
      expect(Date.now() - askedAt).toBeGreaterThanOrEqual(300);
      expect((await graph.getCall(call.id!)).id).toBe(call.id);

      // A fault needs a status or a delay, and a delay Graph clients could wait for.
      expect(() => s.sim.injectFault({ method: 'POST' })).toThrow(SimulatorConfigError);
      expect(() => s.sim.injectFault({ delayMs: -1 })).toThrow(/delayMs/);
      expect(() => s.sim.injectFault({ delayMs: 120_000 })).toThrow(/delayMs/);
    } finally {
      await receiver.stop();
    }
  });
});
