/**
 * Row 5: worker memory per parked workflow, and the webhook's RSS after a stream of notifications.
 * Each pair starts, for each side, a worker process and a webhook process of its own (their memory
 * is theirs alone, not the bench's), parks workflows in the worker and reads its memory before and
 * after, then posts notifications to those workflows through the webhook and reads its RSS.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { type HandoffTestStack, startHandoffTestStack, waitUntil } from '../../test/support/handoff-stack.js';
import { callStateBody, stackCallbackUri } from '../../test/support/webhook-fixtures.js';
import { bareNotificationBody } from './bare-activities.js';
import { compileWebhookProcess } from './compiled-webhook.js';
import { startBenchSigner } from './handoff-webhook.js';
import { postExpecting, runClosedLoop } from './load.js';
import { type MeasuredProcess, type MemoryReading, startMeasuredProcess } from './memory-processes.js';
import { type BenchContext, checkFailures, type RowBench, type Side, startSeedTransfer } from './rows.js';
import type { Figures } from './stats.js';

/**
 * Parked before the baseline is read: the first workflows load the bundle into the workflow
 * thread's V8 context and warm its code, which is a fixed cost of the worker, not of a workflow.
 */
const WARM_UP_WORKFLOWS = 10;
/** Sticky cache beyond the parked workflows: none of them may be evicted while it is measured. */
const CACHE_HEADROOM = 50;
/** Workflows started (and terminated) at once. */
const START_IN_FLIGHT = 20;
/** A parked transfer waits this long for `established` (row 1's park): the bench ends long before. */
const PARKED_WAIT_MS = 3_600_000;

const KB = 1024;
const MB = 1024 * 1024;

/** A worker's reading without its workflow thread's heap would count a thousand workflows as nothing. */
async function workerMemory(worker: MeasuredProcess): Promise<MemoryReading> {
  const reading = await worker.memory();
  if (reading.threads === 0 || reading.threads < reading.threadsKnown) {
    throw new Error(
      `${worker.name}: ${reading.threads} of ${reading.threadsKnown} workflow threads reported their heap`,
    );
  }
  return reading;
}

/** What one side does in its own processes. */
interface MemorySide {
  name: 'handoff' | 'bare';
  startWorker(maxCachedWorkflows: number): MeasuredProcess;
  startWebhook(): MeasuredProcess;
  /** Starts `count` workflows on the worker's task queue that park; their ids. */
  park(count: number, webhookUrl: string): Promise<string[]>;
  /** One notification POST to a parked workflow through the side's webhook. */
  notify(webhookUrl: string, workflowId: string): Promise<void>;
}

/**
 * Parked: its last workflow task has completed and nothing is pending (no workflow task, no
 * activity), so it sits in the worker's sticky cache waiting for a signal or its timer.
 */
async function waitUntilParked(client: Client, workflowIds: readonly string[]): Promise<void> {
  const waiting = new Set(workflowIds);
  await waitUntil(
    `${workflowIds.length} workflows to park`,
    async () => {
      const unparked = [...waiting];
      await runClosedLoop(unparked.length, 50, async (index) => {
        const workflowId = unparked[index] as string;
        const { raw } = await client.workflow.getHandle(workflowId).describe();
        if (!raw.pendingWorkflowTask && (raw.pendingActivities ?? []).length === 0)
          waiting.delete(workflowId);
      });
      return waiting.size === 0 || undefined;
    },
    { timeoutMs: 600_000, intervalMs: 250 },
  );
}

async function terminateAll(client: Client, workflowIds: readonly string[]): Promise<void> {
  await runClosedLoop(workflowIds.length, START_IN_FLIGHT, (index) =>
    client.workflow
      .getHandle(workflowIds[index] as string)
      .terminate('bench row 5: clean-up')
      .then(() => undefined),
  );
}

function memorySide(context: BenchContext, side: MemorySide): Side {
  const { sizes, client, log } = context;
  return {
    async measure(warmUp) {
      const parkedCount = warmUp ? Math.min(2, sizes.parkedWorkflows) : sizes.parkedWorkflows;
      const requests = warmUp ? Math.min(20, sizes.memoryRequests) : sizes.memoryRequests;
      const warmUpCount = Math.min(WARM_UP_WORKFLOWS, parkedCount);
      const cache = warmUpCount + parkedCount + CACHE_HEADROOM;
      const worker = side.startWorker(cache);
      const webhook = side.startWebhook();
      const parked: string[] = [];
      try {
        await Promise.all([worker.ready, webhook.ready]);
        const webhookUrl = webhook.readyWord() as string;
        parked.push(...(await side.park(warmUpCount, webhookUrl)));
        await waitUntilParked(client, parked);
        const before: MemoryReading = await workerMemory(worker);
        const measured = await side.park(parkedCount, webhookUrl);
        parked.push(...measured);
        await waitUntilParked(client, measured);
        const after: MemoryReading = await workerMemory(worker);
        if (!warmUp) {
          log(
            `row 5, ${side.name}: ${parked.length} workflows parked in a worker caching up to ${cache} (maxCachedWorkflows): none evicted; ` +
              `RSS ${(before.rss / MB).toFixed(1)} → ${(after.rss / MB).toFixed(1)} MB, heap ${(before.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB (${after.threads} workflow thread)`,
          );
        }
        const webhookAtStart = await webhook.memory();
        const result = await runClosedLoop(requests, sizes.webhookInFlight, (index) =>
          side.notify(webhookUrl, parked[index % parked.length] as string),
        );
        checkFailures(`row 5, ${side.name} webhook`, result.failed, result.errors);
        const webhookMemory = await webhook.memory();
        return {
          rssPerWorkflowKb: (after.rss - before.rss) / parkedCount / KB,
          heapPerWorkflowKb: (after.heapUsed - before.heapUsed) / parkedCount / KB,
          workerBaselineRssMb: before.rss / MB,
          webhookStartRssMb: webhookAtStart.rss / MB,
          webhookRssMb: webhookMemory.rssBeforeGc / MB,
          webhookHeapMb: webhookMemory.heapUsed / MB,
        } satisfies Figures;
      } catch (error) {
        log(
          `row 5, ${side.name} failed; its processes said:\n${[...worker.output, ...webhook.output].slice(-40).join('\n')}`,
        );
        throw error;
      } finally {
        await terminateAll(client, parked);
        await Promise.all([worker.stop(), webhook.stop()]);
      }
    },
  };
}

/** Handoff: src/bin/worker.ts as docker-compose runs it, and row 1's webhook, on a stack of their own. */
function handoffSide(
  context: BenchContext,
  webhookEntryPoint: string,
  stack: HandoffTestStack,
  jwksUrl: string,
  token: () => Promise<string>,
): MemorySide {
  const standalone = {
    TEMPORAL_ADDRESS: context.temporal.address,
    TEMPORAL_NAMESPACE: context.temporal.namespace,
    HANDOFF_TASK_QUEUE: stack.taskQueue,
    SIMULATOR_URL: stack.sim.url,
    ...context.handoffEnv,
  };
  let authorization: string | undefined;
  return {
    name: 'handoff',
    startWorker: (maxCachedWorkflows) =>
      startMeasuredProcess({
        name: 'handoff-worker',
        entryPoint: 'src/bin/worker.ts',
        env: {
          ...standalone,
          HANDOFF_WORKFLOW_BUNDLE: context.workflowBundlePath,
          HANDOFF_WORKER_STICKY_CACHE_SIZE: String(maxCachedWorkflows),
        },
        readyLine: '[handoff-worker] ready',
      }),
    startWebhook: () =>
      startMeasuredProcess({
        name: 'handoff-webhook',
        entryPoint: webhookEntryPoint,
        env: {
          ...standalone,
          // The stack's: the callback keys of its transfers are signed for this base URL's secret.
          PUBLIC_BASE_URL: stack.webhookUrl,
          BENCH_WEBHOOK_SIDE: 'handoff',
          BENCH_JWKS_URL: jwksUrl,
        },
        readyLine: '[bench-webhook] ready',
      }),
    async park(count) {
      const workflowIds: string[] = [];
      const result = await runClosedLoop(count, START_IN_FLIGHT, async (index) => {
        const { workflowId } = await startSeedTransfer({ stack, receiver: context.receiver }, index, {
          callEstablishedMs: PARKED_WAIT_MS,
        });
        workflowIds.push(workflowId);
      });
      checkFailures('row 5, parking transfers', result.failed, result.errors);
      return workflowIds;
    },
    async notify(webhookUrl, workflowId) {
      // One token for the run, as Graph reuses one for a while (row 1).
      authorization ??= `Bearer ${await token()}`;
      const callId = workflowId.replace(/^transfer-/, '');
      await postExpecting(
        `${webhookUrl}${new URL(stackCallbackUri(stack, workflowId)).pathname}`,
        callStateBody(callId, 'establishing'),
        202,
        { authorization },
      );
    },
  };
}

/** Bare: bench/perf/bare-worker.ts and the bare route, on a task queue of their own. */
function bareSide(context: BenchContext, webhookEntryPoint: string): MemorySide {
  const taskQueue = `bench-memory-bare-${randomUUID()}`;
  const bare = {
    BENCH_TEMPORAL_ADDRESS: context.temporal.address,
    BENCH_NAMESPACE: context.temporal.namespace,
    BENCH_TASK_QUEUE: taskQueue,
  };
  return {
    name: 'bare',
    startWorker: (maxCachedWorkflows) =>
      startMeasuredProcess({
        name: 'bare-worker',
        entryPoint: 'bench/perf/bare-worker.ts',
        env: {
          ...bare,
          BENCH_WORKFLOW_BUNDLE: context.bareWorkflowBundlePath,
          BENCH_MAX_CACHED_WORKFLOWS: String(maxCachedWorkflows),
        },
        readyLine: '[bench-bare-worker] ready',
      }),
    startWebhook: () =>
      startMeasuredProcess({
        name: 'bare-webhook',
        entryPoint: webhookEntryPoint,
        env: { ...bare, BENCH_WEBHOOK_SIDE: 'bare' },
        readyLine: '[bench-webhook] ready',
      }),
    async park(count, webhookUrl) {
      const workflowIds = Array.from({ length: count }, () => `bench-memory-${randomUUID()}`);
      const result = await runClosedLoop(count, START_IN_FLIGHT, async (index) => {
        await context.client.workflow.start('bareParkedAfterRequest', {
          taskQueue,
          workflowId: workflowIds[index] as string,
          args: [{ notifyUrl: `${webhookUrl}/bare/calls` }],
        });
      });
      checkFailures('row 5, parking bare workflows', result.failed, result.errors);
      return workflowIds;
    },
    notify: (webhookUrl, workflowId) =>
      postExpecting(`${webhookUrl}/bare/calls/${workflowId}`, bareNotificationBody(workflowId, 0), 202),
  };
}

export async function memoryRow(context: BenchContext): Promise<RowBench> {
  const { sizes, log } = context;
  log(
    `row 5: ${sizes.parkedWorkflows} workflows parked per side in a worker process of its own, ${sizes.memoryRequests} notification POSTs to a webhook process of its own`,
  );
  const webhookEntryPoint = await compileWebhookProcess();
  log(
    `row 5: both webhooks run compiled JavaScript under plain node, as the Docker image does (${webhookEntryPoint})`,
  );
  // A stack of its own with no worker in the bench: its transfers run in the worker process only.
  const stack = await startHandoffTestStack({
    temporal: context.temporal,
    worker: false,
    workflowBundlePath: context.workflowBundlePath,
    env: context.handoffEnv,
  });
  context.onStop(() => stack.stop());
  // Parked as row 1 parks them: the answer goes out, its notifications never come back.
  stack.sim.configure({ notifications: { dropRate: 1 } });
  const signer = await startBenchSigner(stack.sim);
  context.onStop(() => signer.stop());
  return {
    handoff: memorySide(
      context,
      handoffSide(context, webhookEntryPoint, stack, signer.jwksUrl, () => signer.token(3_600)),
    ),
    bare: memorySide(context, bareSide(context, webhookEntryPoint)),
    warmsItself: true,
  };
}
