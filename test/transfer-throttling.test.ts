// Throttling and faults (issue 4, item 3; design.md, "Failure and retries"): with Graph answering
// a share of requests 429 or 503 with Retry-After, every transfer completes, each retry waits what
// Graph asked, and no request that changes state is sent again once Graph accepted it. A create
// call whose response is lost and whose notifications come only after the workflow created another
// group call leaves an orphan: the workflow hangs it up when its notifications reach its callback.
// (A lost response whose notifications arrive in time, so that the call is adopted and no second
// one is created, is covered in test/transfer-e2e.test.ts.)
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphClientFor } from '../src/app/graph.js';
import { GraphRequestError } from '../src/graph/index.js';
import type { RequestRecord } from '../src/simulator/index.js';
import { graphNotificationsSignal } from '../src/workflows/definitions.js';
import { sharedBotReceiver } from './support/bot-receiver.js';
import {
  type DeliveryProfiles,
  deliveryOrderOf,
  deliveryProfiles,
  describeRequest,
  footprintOf,
  type IdNamer,
  idNamer,
  outcomeOf,
  p2pTransferScenario,
  placeUnhandledCall,
  type RunFootprint,
  startTransferThroughApi,
  startTransferWithClient,
  transferResultOf,
} from './support/flow-properties.js';
import { eventTypeName, sharedHandoffStack, summaryOf } from './support/handoff-stack.js';
import { stackCallbackUri } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();
const receiver = sharedBotReceiver();
let profiles: DeliveryProfiles;

beforeAll(() => {
  profiles = deliveryProfiles(stack.sim);
});

interface Finished {
  run: RunFootprint;
  name: IdNamer;
}

async function finish(callId: string, workflowId: string): Promise<Finished> {
  const outcome = await outcomeOf(stack, workflowId);
  const run = await footprintOf(stack, callId, workflowId, outcome);
  return { run, name: idNamer(p2pTransferScenario.roles(run)) };
}

/** A run's requests grouped by what they ask (`POST /calls/{p2p}/answer`), in the order Graph got them. */
function attemptsByRequest(finished: Finished): Map<string, RequestRecord[]> {
  const byRequest = new Map<string, RequestRecord[]>();
  for (const request of finished.run.requests) {
    const what = describeRequest(request, finished.name).replace(/ \d+$/, '');
    byRequest.set(what, [...(byRequest.get(what) ?? []), request]);
  }
  return byRequest;
}

const isSuccess = (request: RequestRecord) => request.status >= 200 && request.status < 300;
const isThrottled = (request: RequestRecord) => request.status === 429 || request.status === 503;
const stateChanging = /^POST \/calls(\/\{p2p\}\/answer|\/\{group\}\/participants\/invite)?$/;

describe('Graph throttles 30% of requests with 429 or 503 and Retry-After 1', () => {
  it('completes ten concurrent transfers, each answer, create call and invite accepted once and never sent again', async () => {
    stack.sim.configure({
      faults: { throttleRate: 0.3, throttleStatuses: [429, 503], retryAfterSeconds: 1 },
    });
    // The first read of a call anyone makes is refused with a longer Retry-After: Temporal's own
    // activity retry must wait that long too.
    stack.sim.injectFault({ method: 'GET', path: /\/calls\/[^/]+$/, status: 503, retryAfterSeconds: 2 });
    try {
      // Seven transfers as incoming calls start them; three through the API with short timeouts and
      // the group call's established lost, so that they read the call (GET, throttled too).
      const started = await Promise.all([
        ...Array.from({ length: 7 }, async () => {
          const callId = randomUUID();
          await stack.sim.placeIncomingCall({ botUrl: `${stack.botUrl}?run=${callId}`, callId });
          return { callId, workflowId: `transfer-${callId}` };
        }),
        ...Array.from({ length: 3 }, async () => {
          const callId = await placeUnhandledCall(stack, receiver.callbackUrl());
          profiles.add({
            urlContains: callId,
            seed: 1,
            drop: [
              { kind: 'establishing', call: 1 },
              { kind: 'established', call: 1 },
            ],
          });
          const workflowId = await startTransferThroughApi(stack, callId, {
            callEstablishedMs: 1_000,
            inviteCompletedMs: 10_000,
            originalCallEndedMs: 10_000,
          });
          return { callId, workflowId };
        }),
      ]);
      const finished = await Promise.all(started.map(({ callId, workflowId }) => finish(callId, workflowId)));

      const everyRequest = finished.flatMap(({ run }) => run.requests);
      const report = finished
        .map(
          ({ run, name }) =>
            `${run.workflowId}: ${run.requests.map((r) => describeRequest(r, name)).join(', ')}`,
        )
        .join('\n');
      // Graph did throttle, both ways, and reads as well as requests that change state.
      expect(everyRequest.filter((request) => request.status === 429).length, report).toBeGreaterThan(0);
      expect(everyRequest.filter((request) => request.status === 503).length, report).toBeGreaterThan(0);

      for (const done of finished) {
        const { run } = done;
        const result = transferResultOf(run.outcome);
        expect({ workflowId: run.workflowId, outcome: result?.outcome }).toEqual({
          workflowId: run.workflowId,
          outcome: 'completed',
        });
        // One group call, which took the caller; nothing hung up but the bot's own leg in it once
        // the caller was in (botLegAfterTransfer `leave`, the default).
        expect(run.calls.filter((call) => call.kind === 'group').map((call) => call.id)).toEqual([
          result?.groupCallId,
        ]);
        expect(
          run.requests
            .filter((request) => request.method === 'DELETE' && request.status < 400)
            .map((request) => request.path),
        ).toEqual([`/v1.0/communications/calls/${result?.groupCallId}`]);

        const attempts = attemptsByRequest(done);
        for (const [what, sent] of attempts) {
          const statuses = `${run.workflowId} ${what}: ${sent.map((request) => request.status).join(', ')}`;
          if (stateChanging.test(what)) {
            // Refused attempts, then exactly one success, and nothing after it.
            expect(sent.slice(0, -1).every(isThrottled), statuses).toBe(true);
            expect(isSuccess(sent.at(-1)!), statuses).toBe(true);
          }
          // Every refused attempt was followed by the next one at least Retry-After (1 s) later.
          sent.forEach((request, index) => {
            const next = sent[index + 1];
            if (!isThrottled(request) || !next) return;
            expect(next.at.getTime() - request.at.getTime(), statuses).toBeGreaterThanOrEqual(1_000);
          });
        }
        for (const what of [
          'POST /calls',
          'POST /calls/{p2p}/answer',
          'POST /calls/{group}/participants/invite',
        ]) {
          expect({ what, successes: (attempts.get(what) ?? []).filter(isSuccess).length }).toEqual({
            what,
            successes: 1,
          });
        }

        // The workflow's own retry timers (answer, create call, invite) waited what Graph asked.
        const retryTimers = run.history.filter(
          (event) => eventTypeName(event) === 'TimerStarted' && summaryOf(event)?.startsWith('retry '),
        );
        const refusedStateChanges = [...attempts]
          .filter(([what]) => stateChanging.test(what))
          .flatMap(([, sent]) => sent.filter(isThrottled));
        expect(retryTimers).toHaveLength(refusedStateChanges.length);
        for (const timer of retryTimers) {
          expect(
            Number(timer.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0),
          ).toBeGreaterThanOrEqual(1);
        }
      }

      // The read refused with Retry-After 2 was retried by Temporal (nextRetryDelay) 2 s later.
      const reads = everyRequest.filter((request) => request.method === 'GET');
      const first = reads.sort((a, b) => a.at.getTime() - b.at.getTime())[0]!;
      expect(first.status).toBe(503);
      const retried = reads.find((request) => request !== first && request.path === first.path)!;
      expect(retried.at.getTime() - first.at.getTime()).toBeGreaterThanOrEqual(2_000);
    } finally {
      stack.sim.configure({ faults: { throttleRate: 0 } });
      stack.sim.clearFaults();
    }
  }, 120_000);
});

describe('a create call whose response is lost and whose notifications come after the retry', () => {
  it('hangs up the orphaned first group call when its notifications reach the callback; one group call survives', async () => {
    const callId = await placeUnhandledCall(stack, receiver.callbackUrl());
    // Graph creates the first group call but its answer never arrives (the client gives up after
    // 10 s); its notifications arrive 22 s after it was created, when the workflow has waited for
    // them (5 s), created a second group call and invited the caller into it. The P2P call's end
    // comes 10 s after the invite, so the transfer is still running when the orphan reports.
    stack.sim.injectFault({
      method: 'POST',
      path: /\/communications\/calls$/,
      bodyContains: callId,
      delayMs: 10_500,
    });
    profiles.add({
      urlContains: callId,
      seed: 1,
      late: [
        { call: 1, kind: 'establishing', delayMs: 22_000 },
        { call: 1, kind: 'established', delayMs: 22_000 },
        { call: 1, kind: 'roster', delayMs: 22_000 },
        { call: 0, kind: 'terminated', delayMs: 10_000 },
        { call: 0, kind: 'deleted', delayMs: 10_000 },
      ],
    });
    const workflowId = await startTransferWithClient(stack, callId, {});
    const done = await finish(callId, workflowId);
    const { run, name } = done;
    const result = transferResultOf(run.outcome)!;
    expect(result.outcome).toBe('completed');

    // Two group calls were created, both with the workflow's callback.
    const callback = stackCallbackUri(stack, workflowId);
    const groupCalls = run.calls.filter((call) => call.kind === 'group');
    expect(groupCalls).toHaveLength(2);
    for (const call of groupCalls) expect(call.callbackUri).toBe(callback);
    const orphan = groupCalls.find((call) => call.id !== result.groupCallId)!;
    expect(orphan.createdAt.getTime()).toBeLessThan(
      groupCalls.find((call) => call.id === result.groupCallId)!.createdAt.getTime(),
    );

    // The workflow hung the orphan up; the group call that took the caller is the one the bot
    // stayed in until the caller was in, then left (botLegAfterTransfer `leave`, the default).
    expect(result.orphanedCallsHungUp).toEqual([orphan.id]);
    expect(stack.sim.getCall(orphan.id)).toMatchObject({ deleted: true, terminationReason: 'AppInitiated' });
    expect(stack.sim.getCall(callId)?.replacedBy?.callId).toBe(result.groupCallId);
    expect(stack.sim.getCall(result.groupCallId!)).toMatchObject({
      deleted: true,
      terminationReason: 'AppInitiated',
    });
    expect(
      stack.sim
        .calls()
        .filter((call) => call.callbackUri === callback && call.kind === 'group' && !call.deleted)
        .map((call) => call.id),
    ).toEqual([]);
    // Before hanging the orphan up, the workflow read it to confirm its callbackUri is its own.
    expect(run.requests.map((request) => describeRequest(request, name)).sort()).toEqual([
      'DELETE /calls/{group} 204',
      'DELETE /calls/{other call 1} 204',
      'GET /calls/{other call 1} 200',
      'POST /calls 201',
      'POST /calls 201',
      'POST /calls/{group}/participants/invite 200',
      'POST /calls/{p2p}/answer 202',
    ]);

    // The webhook path: the orphan's notifications were posted to the workflow's callback,
    // accepted, and signalled to the workflow before it finished.
    const orphanDeliveries = run.deliveries.filter(
      (delivery) =>
        delivery.callId === orphan.id && delivery.kind !== 'terminated' && delivery.kind !== 'deleted',
    );
    expect(orphanDeliveries.map((delivery) => [delivery.url, delivery.status])).toEqual(
      orphanDeliveries.map(() => [callback, 202]),
    );
    expect(orphanDeliveries.map((delivery) => delivery.kind).sort()).toEqual([
      'established',
      'establishing',
      'roster',
    ]);
    const seen = deliveryOrderOf(run, p2pTransferScenario, name);
    expect(seen).toEqual(expect.arrayContaining(['other call 1:establishing', 'other call 1:established']));
    expect(seen.indexOf('other call 1:established')).toBeLessThan(seen.indexOf('p2p:terminated'));
    expect(seen.filter((label) => label.startsWith('group:')).length).toBeGreaterThan(0);
    const signals = run.history.filter((event) => eventTypeName(event) === 'WorkflowExecutionSignaled');
    expect(
      signals.every(
        (event) =>
          event.workflowExecutionSignaledEventAttributes?.signalName === graphNotificationsSignal.name,
      ),
    ).toBe(true);
  }, 90_000);
});

describe('the simulator knob these tests use: faults for one run among many', () => {
  it('bodyContains faults only the requests whose body carries the text', async () => {
    const graph = graphClientFor(stack.config, stack.sim);
    const key = randomUUID();
    const groupCall = (path: string) => ({
      '@odata.type': '#microsoft.graph.call' as const,
      callbackUri: receiver.callbackUrl(path),
      requestedModalities: [],
      chatInfo: { threadId: '19:meeting_knob@thread.v2', messageId: '0' },
      meetingInfo: {
        '@odata.type': '#microsoft.graph.organizerMeetingInfo' as const,
        organizer: { user: { id: '90ed37dc-d8e3-4e11-9de3-30a955dda06f' } },
      },
    });
    stack.sim.injectFault({
      method: 'POST',
      path: /\/communications\/calls$/,
      bodyContains: key,
      status: 503,
      retryAfterSeconds: 3,
    });
    // Another run's request is served; this run's is refused, once.
    expect((await graph.createCall(groupCall(`/api/calls/transfer-${randomUUID()}`))).id).toEqual(
      expect.any(String),
    );
    await expect(graph.createCall(groupCall(`/api/calls/transfer-${key}`))).rejects.toSatisfy(
      (error) => error instanceof GraphRequestError && error.status === 503 && error.retryAfterSeconds === 3,
    );
    expect((await graph.createCall(groupCall(`/api/calls/transfer-${key}`))).id).toEqual(expect.any(String));
    expect(() => stack.sim.injectFault({ bodyContains: '', status: 503 })).toThrow(/bodyContains/);
  });
});
