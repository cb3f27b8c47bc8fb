// A worker dies in the middle of the transfer, right after Graph took the invite and before the
// worker heard back: the transfer must still complete, and complete exactly once. The worker runs
// in a child process (src/bin/worker.ts, as docker-compose runs it) that the test SIGKILLs; a second
// worker process takes over. Webhook, simulator and Temporal dev server stay up meanwhile.
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import type { RequestRecord } from '../src/simulator/index.js';
import {
  activityTypeOf,
  buildTestWorkflowBundle,
  describeHistory,
  eventTypeName,
  type HandoffTestStack,
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
  await first.kill();
  expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });

  const second = startWorker('worker-2');
  await second.ready;
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
