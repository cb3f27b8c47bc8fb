// A worker dies in the middle of the transfer, right after Graph took the invite and before the
// worker heard back: the transfer must still complete, and complete exactly once. The worker runs
// in a child process (src/bin/worker.ts, as docker-compose runs it) that the test SIGKILLs; a second
// worker process takes over. Webhook, simulator and Temporal dev server stay up meanwhile.
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import type { RequestRecord } from '../src/simulator/index.js';
import { deliveryProfiles } from './support/flow-properties.js';
import {
  activityTypeOf,
  buildTestWorkflowBundle,
  describeHistory,
  eventTypeName,
  type HandoffTestStack,
  localActivityOf,
  startHandoffTestStack,
  startTestTemporal,
  type TestTemporal,
  type TestWorkflowBundle,
  waitUntil,
} from './support/handoff-stack.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

let temporal: TestTemporal;
let bundle: TestWorkflowBundle;
let stack: HandoffTestStack;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  [temporal, bundle] = await Promise.all([startTestTemporal(), buildTestWorkflowBundle()]);
  stack = await startHandoffTestStack({ temporal, worker: false, workflowBundlePath: bundle.path });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.kill()));
  await stack?.stop();
  await temporal?.stop();
  bundle?.remove();
});

function startWorker(name: string): WorkerProcess {
  const worker = startWorkerProcess({
    name,
    temporalAddress: temporal.address,
    namespace: temporal.namespace,
    taskQueue: stack.taskQueue,
    simulatorUrl: stack.sim.url,
    workflowBundlePath: bundle.path,
  });
  workers.push(worker);
  return worker;
}

/** SIGKILLs `worker` (mid-request) and starts `name` in its place, ready to take the run over. */
async function replaceWorker(worker: WorkerProcess, name: string): Promise<WorkerProcess> {
  await worker.kill();
  expect(await worker.exited).toMatchObject({ signal: 'SIGKILL' });
  const next = startWorker(name);
  await next.ready;
  return next;
}

const invitePath = /\/participants\/invite$/;

function requests(method: string, path: RegExp): RequestRecord[] {
  return stack.sim.requests.filter((request) => request.method === method && path.test(request.path));
}

it('completes the transfer exactly once when the worker is killed right after sending the invite', async () => {
  onTestFailed(() => {
    console.error(workers.flatMap((worker) => worker.output).join('\n'));
  });
  const { sim } = stack;
  // Notifications come late, so the invite's outcome reaches Handoff only after the kill; Graph
  // holds the invite's response, so the worker is killed while it waits for it.
  sim.configure({ notifications: { delayMs: 1_500 } });
  sim.injectFault({ method: 'POST', path: invitePath, delayMs: 5_000 });

  const first = startWorker('worker-1');
  await first.ready;
  const { callId, workflowId, handle } = await stack.placeCall();

  const [invite] = await waitUntil(
    'the invite to reach Graph',
    () => {
      const sent = requests('POST', invitePath);
      return sent.length > 0 ? sent : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  const second = await replaceWorker(first, 'worker-2');
  const result = await handle.result();
  await sim.whenIdle();

  const groupCallId = result.groupCallId!;
  const inviteBody = invite!.body as { clientContext: string };
  const [operation] = sim.getCall(groupCallId)!.operations;
  expect(result).toMatchObject({
    outcome: 'completed',
    p2pCallId: callId,
    inviteClientContext: inviteBody.clientContext,
    inviteOperationId: operation!.id,
    originalCallTerminationReason: 'AppInitiated',
  });

  // Exactly once: one group call, one invite, nothing hung up but the bot's own leg once the
  // caller was in (botLegAfterTransfer `leave`, the default).
  expect(requests('POST', /\/communications\/calls$/).map((request) => request.status)).toEqual([201]);
  expect(
    sim
      .calls()
      .filter((call) => call.kind === 'group')
      .map((call) => call.id),
  ).toEqual([groupCallId]);
  expect(requests('POST', invitePath).map((request) => request.path)).toEqual([
    `/v1.0/communications/calls/${groupCallId}/participants/invite`,
  ]);
  expect(requests('DELETE', /./).map((request) => request.path)).toEqual([
    `/v1.0/communications/calls/${groupCallId}`,
  ]);
  expect(sim.getCall(groupCallId)).toMatchObject({ deleted: true, terminationReason: 'AppInitiated' });
  expect(sim.getCall(callId)).toMatchObject({ deleted: true, replacedBy: { callId: groupCallId } });

  // The kill landed mid-request: the invite attempt timed out, was never sent again, and the
  // second worker finished the run.
  const events = await stack.history(workflowId);
  const history = describeHistory(events).join('\n');
  const inviteEvents = events.filter((event) => activityTypeOf(events, event) === 'inviteParticipants');
  expect(inviteEvents.map(eventTypeName), history).toEqual([
    'ActivityTaskScheduled',
    'ActivityTaskStarted',
    'ActivityTaskTimedOut',
  ]);
  const lastTaskStarted = events.filter((event) => eventTypeName(event) === 'WorkflowTaskStarted').at(-1);
  expect(lastTaskStarted?.workflowTaskStartedEventAttributes?.identity, history).toMatch(
    new RegExp(`^${second.pid}@`),
  );
  expect(events.at(-1) && eventTypeName(events.at(-1)!)).toBe('WorkflowExecutionCompleted');
});

it('takes its own answer when the worker is killed while the answer, a local activity, waits for Graph', async () => {
  onTestFailed(() => {
    console.error(workers.flatMap((worker) => worker.output).join('\n'));
  });
  // Only this test's workers: one left running would take the workflow task of the killed one.
  await Promise.all(workers.map((worker) => worker.kill()));
  const { sim } = stack;
  sim.configure({ notifications: { delayMs: 10 } });
  sim.clearFaults();
  // The P2P call's establishing/established come 20 s late: after the workflow task of the killed
  // worker timed out and the next worker ran the workflow again. Graph holds the answer's response,
  // so the worker is killed after Graph took the answer and before the local activity returned.
  const profiles = deliveryProfiles(sim);
  profiles.add({
    urlContains: '/api/calls/transfer-',
    seed: 1,
    late: [
      { kind: 'establishing', call: 0, delayMs: 20_000 },
      { kind: 'established', call: 0, delayMs: 20_000 },
    ],
  });
  sim.injectFault({ method: 'POST', path: answerPath, delayMs: 5_000 });
  try {
    const first = startWorker('worker-3');
    await first.ready;
    const { callId, workflowId, handle } = await stack.placeCall();
    await waitUntil(
      'the answer to reach Graph',
      () =>
        requests('POST', answerPath).some((request) => request.path.includes(callId)) ? true : undefined,
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    await replaceWorker(first, 'worker-4');
    const result = await handle.result();
    await sim.whenIdle();
    expect(result).toMatchObject({ outcome: 'completed', p2pCallId: callId });

    // A local activity leaves no trace until its workflow task completes: the next worker sent the
    // answer again, Graph refused it (409), and the call, read, reported this workflow's callback.
    const answers = requests('POST', answerPath).filter((request) => request.path.includes(callId));
    expect(answers.map((request) => request.status)).toEqual([202, 409]);
    expect(
      requests('POST', /\/communications\/calls$/).filter((request) => bodyNames(request, callId)),
    ).toHaveLength(1);
    expect(requests('DELETE', new RegExp(`/calls/${callId}$`))).toEqual([]);

    const events = await stack.history(workflowId);
    const history = describeHistory(events).join('\n');
    expect(
      events.some((event) => eventTypeName(event) === 'WorkflowTaskTimedOut'),
      history,
    ).toBe(true);
    const answerMarkers = events.flatMap((event) => {
      const local = localActivityOf(event);
      return local?.activityType === 'answerCall' ? [local] : [];
    });
    expect(
      answerMarkers.map((marker) => marker.failed),
      history,
    ).toEqual([true]);
    expect(
      events.some((event) => activityTypeOf(events, event) === 'getCall'),
      history,
    ).toBe(true);
    expect(events.at(-1) && eventTypeName(events.at(-1)!)).toBe('WorkflowExecutionCompleted');
  } finally {
    profiles.remove('/api/calls/transfer-');
    sim.clearFaults();
  }
});

const answerPath = /\/answer$/;

/** Whether a create-call request is this transfer's (its callbackUri names the workflow). */
function bodyNames(request: RequestRecord, callId: string): boolean {
  return JSON.stringify(request.body ?? '').includes(callId);
}
