// SIGTERM on a worker process (issue 13.5) while one of its activities waits on Graph: the worker stops
// polling, lets the activity finish and report its result, exits 0, and a second worker finishes the
// transfer. The invite is sent
// once and its activity completes on its first attempt: nothing was cut off, nothing runs twice.
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
}, 180_000);

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
const INVITE_DELAY_MS = 3_000;

function invites(): RequestRecord[] {
  return stack.sim.requests.filter((request) => request.method === 'POST' && invitePath.test(request.path));
}

it('lets the running activity finish on SIGTERM, exits 0, and another worker completes the transfer once', async () => {
  onTestFailed(() => {
    console.error(workers.flatMap((worker) => worker.output).join('\n'));
  });
  const { sim } = stack;
  // Graph holds the invite's answer: SIGTERM arrives while the activity waits for it.
  sim.injectFault({ method: 'POST', path: invitePath, delayMs: INVITE_DELAY_MS });

  const first = startWorker('worker-1');
  await first.ready;
  const { callId, workflowId, handle } = await stack.placeCall();

  // The simulator logs a request once it has answered: watch the operation appear on the group call.
  await waitUntil(
    'the invite to reach Graph',
    () => sim.calls().find((call) => call.kind === 'group' && call.operations.length > 0),
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  const sigtermAt = Date.now();
  first.signal('SIGTERM');
  const second = startWorker('worker-2');
  expect(await first.exited).toEqual({ code: 0, signal: null });
  const exitedAfterMs = Date.now() - sigtermAt;
  expect(first.output.join('\n')).toContain('[handoff-worker] stopped');
  // It waited for the invite's answer (held INVITE_DELAY_MS) rather than cut it off.
  expect(invites().map((request) => request.status)).toEqual([200]);
  expect(exitedAfterMs).toBeLessThan(15_000);

  await second.ready;
  const result = await handle.result();
  await sim.whenIdle();
  expect(result).toMatchObject({ outcome: 'completed', p2pCallId: callId });
  expect(invites()).toHaveLength(1);

  // The activity's one attempt completed on the first worker; the second took the workflow on.
  const events = await stack.history(workflowId);
  const history = describeHistory(events).join('\n');
  const inviteEvents = events.filter((event) => activityTypeOf(events, event) === 'inviteParticipants');
  expect(inviteEvents.map(eventTypeName), history).toEqual([
    'ActivityTaskScheduled',
    'ActivityTaskStarted',
    'ActivityTaskCompleted',
  ]);
  const started = inviteEvents[1]?.activityTaskStartedEventAttributes;
  expect(started?.attempt, history).toBe(1);
  expect(started?.identity, history).toMatch(new RegExp(`^${first.pid}@`));
  const lastTaskStarted = events.filter((event) => eventTypeName(event) === 'WorkflowTaskStarted').at(-1);
  expect(lastTaskStarted?.workflowTaskStartedEventAttributes?.identity, history).toMatch(
    new RegExp(`^${second.pid}@`),
  );
  expect(events.at(-1) && eventTypeName(events.at(-1)!)).toBe('WorkflowExecutionCompleted');
}, 180_000);
