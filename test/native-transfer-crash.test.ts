// A worker dies in a consultative transfer between "the target answered the consultation call"
// and "transfer": Graph has established the consultation call, the worker has not heard yet
// (notifications come late) and is SIGKILLed. A second worker process takes over, and the
// transfer completes exactly once: one answer, one consultation call, one transfer whose
// replacesCallId is that call. Webhook, simulator and Temporal dev server stay up meanwhile.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import type { RequestRecord } from '../src/simulator/index.js';
import type { NativeTransferResult } from '../src/workflows/native-transfer/definitions.js';
import { nativeTransferWorkflowId } from '../src/workflows/native-transfer/definitions.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';
import {
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
import { stackCallbackUri } from './support/webhook-fixtures.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

let temporal: TestTemporal;
let bundle: TestWorkflowBundle;
let stack: HandoffTestStack;
let receiver: BotReceiver;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  [temporal, bundle, receiver] = await Promise.all([
    startTestTemporal(),
    buildTestWorkflowBundle(),
    startBotReceiver(),
  ]);
  stack = await startHandoffTestStack({ temporal, worker: false, workflowBundlePath: bundle.path });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.kill()));
  await stack?.stop();
  await temporal?.stop();
  await receiver?.stop();
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

function requests(method: string, path: RegExp): RequestRecord[] {
  return stack.sim.requests.filter((request) => request.method === method && path.test(request.path));
}

it('completes a consultative transfer exactly once when the worker is killed after the target answered', async () => {
  onTestFailed(() => {
    console.error(workers.flatMap((worker) => worker.output).join('\n'));
  });
  const { sim } = stack;
  const alice = { user: { id: randomUUID(), displayName: 'Alice' } };
  const first = startWorker('worker-1');
  await first.ready;
  const callId = randomUUID();
  await sim.placeIncomingCall({ botUrl: receiver.callbackUrl(), callId });
  const workflowId = nativeTransferWorkflowId(callId);
  const callbackUri = stackCallbackUri(stack, workflowId);
  // From here on Graph's notifications are late: the worker learns of the answered consultation
  // call only after it was killed.
  sim.configure({ notifications: { delayMs: 2_000 } });
  const started = await stack.api(`/api/incoming-calls/${callId}/transfer`, {
    mode: 'consultative',
    target: { identity: alice },
  });
  expect(started.status).toBe(201);

  const consultation = await waitUntil(
    'Graph to establish the consultation call',
    () =>
      sim
        .calls()
        .find(
          (call) => call.callbackUri === callbackUri && call.id !== callId && call.state === 'established',
        ),
    { timeoutMs: 60_000, intervalMs: 20 },
  );
  expect(requests('POST', /\/transfer$/)).toEqual([]);
  await first.kill();
  expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });

  const second = startWorker('worker-2');
  await second.ready;
  const result = (await stack.client.workflow.getHandle(workflowId).result()) as NativeTransferResult;
  await sim.whenIdle();
  sim.configure({ notifications: { delayMs: 10 } });

  expect(result).toMatchObject({
    outcome: 'transferred',
    consultationCallId: consultation.id,
    targetAnswered: true,
  });
  expect(requests('POST', new RegExp(`/calls/${callId}/answer$`))).toHaveLength(1);
  expect(
    requests('POST', /\/communications\/calls$/).filter(
      (request) => (request.body as { callbackUri?: string }).callbackUri === callbackUri,
    ),
  ).toHaveLength(1);
  const transfers = requests('POST', /\/transfer$/);
  expect(transfers.map((request) => request.body)).toEqual([
    { transferTarget: { identity: alice, replacesCallId: consultation.id } },
  ]);
  expect(sim.getCall(callId)).toMatchObject({ deleted: true, terminationReason: 'Transferred' });
  expect(sim.getCall(consultation.id)).toMatchObject({ deleted: true, terminationReason: 'Transferred' });

  const events = await stack.history(workflowId);
  const lastTaskStarted = events.filter((event) => eventTypeName(event) === 'WorkflowTaskStarted').at(-1);
  expect(
    lastTaskStarted?.workflowTaskStartedEventAttributes?.identity,
    describeHistory(events).join('\n'),
  ).toMatch(new RegExp(`^${second.pid}@`));
});
