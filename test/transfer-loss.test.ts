// Lost and late notifications (issue 4, item 2; design.md, "Routing notifications to workflows"):
// every wait of the transfer has a timeout after which the workflow reads the call or the
// operation from Graph, so a notification that never comes delays a transfer but does not hang it;
// notifications for a finished workflow are acknowledged once and dropped; calls the workflow
// holds get keep-alive from a durable timer, and none once it has finished.
//
// Transfers run concurrently on one stack. Each has its own simulator delivery profile (keyed by
// its call id, which its callback URL carries) that drops or delays some of its notifications.
// Incoming calls go to a plain bot receiver, so that the webhook starts nothing: the test starts
// each transfer with short timeouts (POST /api/transfers, or the Temporal client).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphClientFor } from '../src/app/graph.js';
import { seedMeetingTarget } from '../src/config/env.js';
import type { CommsNotifications } from '../src/simulator/index.js';
import type { NotificationMatch } from '../src/simulator/settings.js';
import { TRANSFER_FAILED, type TransferTimeouts } from '../src/workflows/transfer/types.js';
import { sharedBotReceiver } from './support/bot-receiver.js';
import {
  type DeliveryProfiles,
  deliveryOrderOf,
  deliveryProfiles,
  describeRequest,
  footprintOf,
  idNamer,
  outcomeOf,
  p2pTransferScenario,
  placeUnhandledCall,
  type RunFootprint,
  startTransferThroughApi,
  startTransferWithClient,
  transferResultOf,
} from './support/flow-properties.js';
import {
  eventTimeMs,
  eventTypeName,
  type HistoryEvent,
  sharedHandoffStack,
  summaryOf,
  waitUntil,
} from './support/handoff-stack.js';
import { post, stackCallbackUri } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();
const receiver = sharedBotReceiver();
let profiles: DeliveryProfiles;

beforeAll(() => {
  profiles = deliveryProfiles(stack.sim);
});

/** Short enough that a lost notification costs a second or two; the API takes 1 s at least. */
const shortTimeouts: Partial<TransferTimeouts> = {
  callEstablishedMs: 1_500,
  inviteCompletedMs: 1_500,
  originalCallEndedMs: 1_500,
};

/** What the seed transfer asks of Graph when every notification comes. */
const seedRequests = [
  // The bot's own leg, once the caller is in (botLegAfterTransfer `leave`, the default).
  'DELETE /calls/{group} 204',
  'POST /calls 201',
  'POST /calls/{group}/participants/invite 200',
  'POST /calls/{p2p}/answer 202',
];

interface Finished {
  callId: string;
  workflowId: string;
  run: RunFootprint;
  requests: string[];
  /** Summaries of the activities the workflow scheduled, e.g. `read group call (no established notification)`. */
  activitySummaries: string[];
}

/** Runs one transfer under a delivery profile that drops `drop`, started through the API. */
async function transferLosing(
  drop: NotificationMatch[],
  during?: (callId: string) => Promise<void>,
): Promise<Finished> {
  const callId = await placeUnhandledCall(stack, receiver.callbackUrl());
  profiles.add({ urlContains: callId, seed: 1, drop });
  const workflowId = await startTransferThroughApi(stack, callId, shortTimeouts);
  await during?.(callId);
  return finish(callId, workflowId);
}

async function finish(callId: string, workflowId: string): Promise<Finished> {
  const outcome = await outcomeOf(stack, workflowId);
  await stack.sim.whenIdle();
  const run = await footprintOf(stack, callId, workflowId, outcome);
  profiles.remove(callId);
  const name = idNamer(p2pTransferScenario.roles(run));
  return {
    callId,
    workflowId,
    run,
    requests: run.requests.map((request) => describeRequest(request, name)).sort(),
    activitySummaries: run.history
      .filter((event) => eventTypeName(event) === 'ActivityTaskScheduled')
      .map((event) => summaryOf(event) ?? ''),
  };
}

function droppedKinds(callId: string): string[] {
  return stack.sim.dropped
    .filter((dropped) => dropped.profile === callId)
    .map((dropped) => dropped.kind)
    .sort();
}

describe('a lost notification: the wait reads Graph and the transfer goes on', () => {
  it.concurrent('P2P establishing and established: reads the P2P call, finds it established', async ({
    expect,
  }) => {
    const done = await transferLosing([
      { kind: 'establishing', call: 0 },
      { kind: 'established', call: 0 },
    ]);
    expect(transferResultOf(done.run.outcome)).toMatchObject({
      outcome: 'completed',
      originalCallTerminationReason: 'AppInitiated',
    });
    expect(droppedKinds(done.callId)).toEqual(['established', 'establishing']);
    expect(done.requests).toEqual([...seedRequests, 'GET /calls/{p2p} 200'].sort());
    expect(done.activitySummaries).toContain('read P2P call (no established notification)');
  });

  it.concurrent('group call establishing and established: reads the group call, finds it established', async ({
    expect,
  }) => {
    const done = await transferLosing([
      { kind: 'establishing', call: 1 },
      { kind: 'established', call: 1 },
    ]);
    expect(transferResultOf(done.run.outcome)?.outcome).toBe('completed');
    expect(droppedKinds(done.callId)).toEqual(['established', 'establishing']);
    expect(done.requests).toEqual([...seedRequests, 'GET /calls/{group} 200'].sort());
    expect(done.activitySummaries).toContain('read group call (no established notification)');
  });

  it.concurrent('the invite operation: reads the operation, finds it completed', async ({ expect }) => {
    const done = await transferLosing([{ kind: 'operation' }]);
    const result = transferResultOf(done.run.outcome);
    expect(result).toMatchObject({ outcome: 'completed', inviteOperationId: expect.any(String) });
    // The P2P call ended while the workflow still waited for the operation: it read the operation.
    expect(droppedKinds(done.callId)).toEqual(['operation']);
    expect(done.requests).toEqual(
      [...seedRequests, 'GET /calls/{group}/operations/{inviteOperation} 200'].sort(),
    );
    expect(done.activitySummaries).toContain('read invite operation (no notification)');
    expect(result?.timings.inviteCompletedAt).toEqual(expect.any(Number));
  });

  it.concurrent('the P2P call terminated and deleted: reads the P2P call, finds it gone (404)', async ({
    expect,
  }) => {
    const done = await transferLosing([
      { kind: 'terminated', call: 0 },
      { kind: 'deleted', call: 0 },
    ]);
    const result = transferResultOf(done.run.outcome);
    expect(result?.outcome).toBe('completed');
    // Only the lost terminated notification carried the reason; a deleted call cannot be read.
    expect(result?.originalCallTerminationReason).toBeUndefined();
    expect(result?.inviteeSeenInRoster).toBe(true);
    expect(droppedKinds(done.callId)).toEqual(['deleted', 'terminated']);
    expect(done.requests).toEqual([...seedRequests, 'GET /calls/{p2p} 404'].sort());
    expect(done.activitySummaries).toContain('read original call (no terminated notification)');
  });

  it.concurrent('the P2P call terminated only: deleted ends the wait, with no termination reason', async ({
    expect,
  }) => {
    const done = await transferLosing([{ kind: 'terminated', call: 0 }]);
    const result = transferResultOf(done.run.outcome);
    expect(result?.outcome).toBe('completed');
    expect(result?.originalCallTerminationReason).toBeUndefined();
    expect(droppedKinds(done.callId)).toEqual(['terminated']);
    // Nothing to read: `deleted` said the call ended.
    expect(done.requests).toEqual(seedRequests);
  });

  it.concurrent('the P2P call deleted only: terminated ends the wait, nothing to read', async ({
    expect,
  }) => {
    const done = await transferLosing([{ kind: 'deleted', call: 0 }]);
    expect(transferResultOf(done.run.outcome)).toMatchObject({
      outcome: 'completed',
      originalCallTerminationReason: 'AppInitiated',
      inviteeSeenInRoster: true,
    });
    expect(droppedKinds(done.callId)).toEqual(['deleted']);
    expect(done.requests).toEqual(seedRequests);
  });

  it.concurrent('the roster updates: the transfer completes and says the invitee was not seen', async ({
    expect,
  }) => {
    // No wait depends on the roster: it only confirms the move, which the operation and the end
    // of the P2P call already proved. Not seen within endDetailsMs, it is reported as not seen.
    const done = await transferLosing([{ kind: 'roster' }]);
    expect(transferResultOf(done.run.outcome)).toMatchObject({
      outcome: 'completed',
      inviteeSeenInRoster: false,
      originalCallTerminationReason: 'AppInitiated',
    });
    expect(droppedKinds(done.callId)).toEqual(['roster', 'roster']);
    expect(done.requests).toEqual(seedRequests);
    const waited = done.run.history.filter(
      (event) =>
        eventTypeName(event) === 'TimerStarted' &&
        summaryOf(event) === 'wait for the roster update and the termination reason',
    );
    expect(waited).toHaveLength(1);
  });

  it.concurrent('everything about the P2P call, which the caller meanwhile hung up: fails cleanly', async ({
    expect,
  }) => {
    // The right answer is to fail: Graph says the call is gone, so there is nothing to transfer.
    // Nothing was created yet, so nothing is hung up; the failure names the call and why.
    const done = await transferLosing([{ call: 0 }], async (callId) => {
      await waitUntil('the answer to reach Graph', () =>
        stack.sim.requests.some((request) => request.path.endsWith(`/${callId}/answer`)) ? true : undefined,
      );
      stack.sim.endByRemoteParty(callId, 'RemoteHangUp');
    });
    expect(done.run.outcome).toMatchObject({
      status: 'failed',
      failure: {
        type: TRANSFER_FAILED,
        message: `P2P call ${done.callId} ended before it was established (gone)`,
      },
    });
    expect(transferResultOf(done.run.outcome)).toMatchObject({ outcome: 'failed' });
    expect(transferResultOf(done.run.outcome)?.groupCallId).toBeUndefined();
    expect(done.requests).toEqual(['GET /calls/{p2p} 404', 'POST /calls/{p2p}/answer 202']);
    expect(droppedKinds(done.callId)).toEqual(['deleted', 'established', 'establishing', 'terminated']);
    const status = await stack.api(`/api/transfers/${done.workflowId}`);
    expect(status.body).toMatchObject({ status: 'FAILED', phase: 'failed' });
  });
});

function closeTimeOf(history: HistoryEvent[]): number {
  const closed = history.at(-1);
  if (!closed || !/^WorkflowExecution(Completed|Failed)$/.test(eventTypeName(closed))) {
    throw new Error(`the workflow has not closed: last event ${closed ? eventTypeName(closed) : 'none'}`);
  }
  return eventTimeMs(closed);
}

describe('notifications for a finished transfer', () => {
  it('are acknowledged with 202 once and not retried, whether late from Graph or posted again an hour later', async ({
    expect,
  }) => {
    const callId = await placeUnhandledCall(stack, receiver.callbackUrl());
    // The P2P call's deleted comes long after its terminated, which ends the transfer.
    profiles.add({ urlContains: callId, seed: 1, late: [{ kind: 'deleted', call: 0, delayMs: 3_000 }] });
    const workflowId = await startTransferThroughApi(stack, callId, shortTimeouts);
    const done = await finish(callId, workflowId);
    expect(transferResultOf(done.run.outcome)?.outcome).toBe('completed');
    const closedAt = closeTimeOf(done.run.history);

    // The P2P call's (the group call's own deleted follows the bot's hang-up of its leg, in time).
    const late = done.run.deliveries.filter(
      (delivery) => delivery.kind === 'deleted' && delivery.callId === callId,
    );
    expect(late.map((delivery) => [delivery.attempt, delivery.status])).toEqual([[1, 202]]);
    expect(late[0]!.at.getTime()).toBeGreaterThan(closedAt);
    // It never reached the workflow, which had seen everything else.
    const seen = deliveryOrderOf(done.run, p2pTransferScenario, idNamer(p2pTransferScenario.roles(done.run)));
    expect(seen).toContain('p2p:terminated');
    expect(seen).not.toContain('p2p:deleted');

    // The same notifications again, much later (the token is what Graph signs any notification with).
    const token = receiver.received.find((notification) =>
      JSON.stringify(notification.body).includes(callId),
    )?.token;
    expect(token).toEqual(expect.any(String));
    const callback = stackCallbackUri(stack, workflowId);
    const established = done.run.deliveries.find((delivery) => delivery.kind === 'established')!;
    const again = await post(callback, established.body, { token: token! });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ deliveries: [{ workflowId, outcome: 'unknownWorkflow' }] });
    // The incoming call again, on the bot's URL: no second transfer starts for it.
    const incoming = receiver.received.find((notification) =>
      JSON.stringify(notification.body).includes(callId),
    )!;
    const replayed = await post(stack.botUrl, incoming.body, { token: token! });
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ deliveries: [{ workflowId, outcome: 'ignored' }] });

    // Nothing was signalled, nothing started: the history is as the transfer left it.
    expect(await stack.history(workflowId)).toHaveLength(done.run.history.length);
  });
});

describe('keep-alive', () => {
  it('keeps the answered P2P call and the group call alive while the transfer holds them, and stops when it ends', async ({
    expect,
  }) => {
    const callId = await placeUnhandledCall(stack, receiver.callbackUrl());
    // The group call's established comes 2.5 s late: the workflow holds both calls meanwhile.
    profiles.add({ urlContains: callId, seed: 1, late: [{ kind: 'established', call: 1, delayMs: 2_500 }] });
    const workflowId = await startTransferWithClient(stack, callId, { keepAliveIntervalMs: 1_000 });
    const done = await finish(callId, workflowId);
    const result = transferResultOf(done.run.outcome);
    expect(result?.outcome).toBe('completed');
    const closedAt = closeTimeOf(done.run.history);

    const keepAlives = () =>
      stack.sim.requests.filter(
        (request) => request.method === 'POST' && request.path.endsWith('/keepAlive'),
      );
    const forCall = (id: string) => keepAlives().filter((request) => request.path.includes(`/${id}/`));
    expect(forCall(callId).length).toBeGreaterThanOrEqual(1);
    expect(forCall(result!.groupCallId!).length).toBeGreaterThanOrEqual(1);
    // Graph ends the P2P call when the transfer takes effect: a keep-alive round already under way
    // then finds it gone (404), which ends keep-alive for that call. Any other answer is a fault.
    expect(forCall(callId).some((request) => request.status === 200)).toBe(true);
    expect(forCall(callId).every((request) => request.status === 200 || request.status === 404)).toBe(true);
    expect(forCall(result!.groupCallId!).every((request) => request.status === 200)).toBe(true);
    expect(stack.sim.getCall(result!.groupCallId!)?.lastKeepAliveAt).toBeInstanceOf(Date);
    const ours = [...forCall(callId), ...forCall(result!.groupCallId!)];
    expect(ours.every((request) => request.at.getTime() <= closedAt)).toBe(true);

    // From a durable timer of the interval asked for.
    const timers = done.run.history.filter(
      (event) => eventTypeName(event) === 'TimerStarted' && summaryOf(event) === 'keep-alive timer',
    );
    expect(timers.length).toBeGreaterThanOrEqual(2);
    for (const timer of timers) {
      expect(Number(timer.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0)).toBe(1);
    }

    // Two more intervals: nothing more once the workflow has ended.
    const sentBefore = ours.length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(forCall(callId).length + forCall(result!.groupCallId!).length).toBe(sentBefore);
  });
});

describe('delivery profiles: the simulator knobs these tests use', () => {
  const meetingCall = (callbackUri: string) => ({
    '@odata.type': '#microsoft.graph.call' as const,
    callbackUri,
    requestedModalities: [],
    chatInfo: seedMeetingTarget.kind === 'meeting' ? seedMeetingTarget.chatInfo : undefined,
    meetingInfo: {
      '@odata.type': '#microsoft.graph.organizerMeetingInfo' as const,
      organizer: seedMeetingTarget.kind === 'meeting' ? seedMeetingTarget.organizer : {},
    },
  });

  /** Creates group calls reporting to a receiver callback carrying `key`; returns the call ids. */
  async function createCalls(key: string, count: number): Promise<string[]> {
    const graph = graphClientFor(stack.config, stack.sim);
    const ids: string[] = [];
    for (let index = 0; index < count; index++) {
      const call = await graph.createCall(meetingCall(receiver.callbackUrl(`/api/calls/knob-${key}`)));
      ids.push(call.id!);
    }
    return ids;
  }

  function receivedFor(key: string): Array<{ callId: string; state: string }> {
    return receiver.received
      .filter((notification) => notification.path.includes(key))
      .map((notification) => {
        const [value] = (notification.body as CommsNotifications).value;
        const data = value.resourceData as { id?: string; state?: string };
        return {
          callId: value.resourceUrl.split('/')[3] ?? '',
          state: Array.isArray(value.resourceData) ? 'roster' : (data.state ?? value.changeType),
        };
      });
  }

  it('late by call: the first call reports after the second, without holding up anyone else', async () => {
    const key = randomUUID();
    profiles.add({ urlContains: key, seed: 3, late: [{ call: 0, delayMs: 700 }] });
    try {
      const otherKey = randomUUID();
      const [first, second] = await createCalls(key, 2);
      const [other] = await createCalls(otherKey, 1);
      await stack.sim.whenIdle();
      const order = receivedFor(key).map(({ callId }) => callId);
      expect(order).toEqual([second, second, second, first, first, first]);
      // A callback without a profile is not queued behind the late ones.
      const otherArrival = receiver.received.find((notification) => notification.path.includes(otherKey))!.at;
      const firstArrival = receiver.received.find(
        (notification) =>
          notification.path.includes(key) && JSON.stringify(notification.body).includes(first!),
      )!.at;
      expect(otherArrival.getTime()).toBeLessThan(firstArrival.getTime());
      expect(other).toEqual(expect.any(String));
    } finally {
      profiles.remove(key);
    }
  });

  it('drops by kind and call, recording the profile, and leaves the rest of the profile as it was', async () => {
    const key = randomUUID();
    profiles.add({ urlContains: key, seed: 3, drop: [{ kind: 'established', call: 1 }, { kind: 'roster' }] });
    try {
      const [first, second] = await createCalls(key, 2);
      await stack.sim.whenIdle();
      expect(receivedFor(key)).toEqual([
        { callId: first, state: 'establishing' },
        { callId: first, state: 'established' },
        { callId: second, state: 'establishing' },
      ]);
      const dropped = stack.sim.dropped.filter((entry) => entry.profile === key);
      expect(dropped.map((entry) => [entry.callId, entry.kind, entry.reason])).toEqual([
        [first, 'roster', 'profile'],
        [second, 'established', 'profile'],
        [second, 'roster', 'profile'],
      ]);
    } finally {
      profiles.remove(key);
    }
  });

  it('shuffles and duplicates from its own seed, whatever other traffic draws meanwhile', async () => {
    const deliveriesWith = async (seed: number, noise: boolean) => {
      const key = randomUUID();
      profiles.add({ urlContains: key, seed, reorder: 1, duplicateRate: 0.5 });
      try {
        // Other traffic drawing from the simulator's shared random source in between.
        if (noise) {
          stack.sim.configure({ notifications: { duplicateRate: 0.5, reorder: 1 } });
          await createCalls(randomUUID(), 2);
          stack.sim.configure({ notifications: { duplicateRate: 0, reorder: false } });
        }
        const calls = await createCalls(key, 3);
        await stack.sim.whenIdle();
        return receivedFor(key).map(({ callId, state }) => `${calls.indexOf(callId)}:${state}`);
      } finally {
        profiles.remove(key);
      }
    };
    const quiet = await deliveriesWith(11, false);
    expect(await deliveriesWith(11, true)).toEqual(quiet);
    // Duplicates: more than the 9 notifications three calls make.
    expect(quiet.length).toBeGreaterThan(9);
    // Shuffled: some call did not report establishing first.
    const firstOfEach = [0, 1, 2].map((call) => quiet.find((label) => label.startsWith(`${call}:`)));
    expect(
      firstOfEach.some((label) => !label?.endsWith(':establishing')),
      quiet.join(' '),
    ).toBe(true);
  });

  it('independent: jitter lets notifications of later events overtake earlier ones', async () => {
    const key = randomUUID();
    profiles.add({ urlContains: key, seed: 5, independent: true, jitterMs: 400 });
    try {
      const calls = await createCalls(key, 4);
      await stack.sim.whenIdle();
      const firstSeen = receivedFor(key).map(({ callId }) => calls.indexOf(callId));
      expect([...firstSeen].sort((a, b) => a - b)).not.toEqual(firstSeen);
      expect(firstSeen).toHaveLength(12);
    } finally {
      profiles.remove(key);
    }
  });

  it('refuses a profile that makes no sense, naming the field, and changes nothing', () => {
    const before = stack.sim.settings().notifications.profiles;
    expect(() =>
      stack.sim.configure({ notifications: { profiles: [{ urlContains: '', seed: 1 }] } }),
    ).toThrow(/urlContains/);
    expect(() =>
      stack.sim.configure({
        notifications: {
          profiles: [{ urlContains: 'x', seed: 1, late: [{ kind: 'ringing' as 'roster', delayMs: 5 }] }],
        },
      }),
    ).toThrow(/kind/);
    expect(() =>
      stack.sim.configure({
        notifications: {
          profiles: [
            { urlContains: 'x', seed: 1 },
            { urlContains: 'x', seed: 2 },
          ],
        },
      }),
    ).toThrow(/distinct urlContains/);
    expect(stack.sim.settings().notifications.profiles).toEqual(before);
  });
});
