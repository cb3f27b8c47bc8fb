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
 *     hangs up the group call it created and fails with TransferFailed.
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
import { Client, Connection, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { graphClientFor } from '../src/app/graph.js';
import { webhookDepsFor } from '../src/app/webhook.js';
import { eventTypes, readHistoryFile, writeHistoryFile } from '../src/bin/replay.js';
import { loadConfig } from '../src/config/env.js';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { projectRoot } from '../src/temporal/project-root.js';
import { buildWebhookServer } from '../src/webhook/index.js';
import { createHandoffWorker } from '../src/worker/worker.js';
import { transferWorkflowId } from '../src/workflows/definitions.js';

export const historiesDir = join(projectRoot(), 'test', 'histories');

/** Fixed P2P call ids, so that a re-recording changes as little of the committed files as it can. */
export const COMPLETED_TRANSFER_CALL_ID = 'recorded-seed-transfer';
export const FAILED_TRANSFER_CALL_ID = 'recorded-failed-transfer';

/**
 * The failure type of a transfer that could not complete: TRANSFER_FAILED in src/workflows/transfer.ts,
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
  /** Notifications the pacer could not deliver in order: a recording with any of them is spoilt. */
  pacingProblems: string[];
  stop(): Promise<void>;
}

export interface RecordingStackOptions {
  /** A prebuilt workflow bundle (`npm run build:workflows`); without it the worker bundles src/workflows. */
  workflowBundlePath?: string;
  report?: (line: string) => void;
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
    const devServer = await startDevServer({ dbFile: join(dataDir, 'temporal.db') });
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
    options: { out: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const outDir = values.out !== undefined ? resolve(values.out) : historiesDir;
  // The worker logs every phase, and the failed transfer at length; the recorder's lines say what matters.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const stack = await startRecordingStack({ report: (line) => console.log(`[record] ${line}`) });
  try {
    const recordings: Array<[name: string, record: () => Promise<RecordedTransfer>]> = [
      ['transfer-completed', () => recordCompletedTransfer(stack)],
      ['transfer-failed', () => recordFailedTransfer(stack)],
    ];
    for (const [name, record] of recordings) {
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
