/**
 * One bench run: a Temporal dev server of its own (SQLite on a RAM disk where there is one), the
 * Handoff test stack with its worker, a bare worker on its own task queue, and for each row a
 * warm-up of both sides and then `pairs` pairs measured Handoff first, bare second.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { startBotReceiver } from '../../test/support/bot-receiver.js';
import { buildTestWorkflowBundle, startHandoffTestStack } from '../../test/support/handoff-stack.js';
import * as bareActivities from './bare-activities.js';
import { startBareWebhook } from './bare-webhook.js';
import { type BenchEnvironment, currentEnvironment } from './environment.js';
import { startBenchWebhook } from './handoff-webhook.js';
import { memoryRow } from './memory-row.js';
import type { BenchOptions, BenchRow } from './options.js';
import {
  type BenchContext,
  incomingCallsRow,
  nextRequestRow,
  type RowBench,
  replayRow,
  transfersRow,
  webhookRow,
} from './rows.js';
import {
  type Figures,
  type PairResult,
  ratioSpreads,
  type Spread,
  sideMedian,
  type TableLine,
} from './stats.js';

export interface RowResult {
  row: BenchRow;
  pairs: PairResult[];
  ratios: Record<string, Spread>;
}

export interface BenchResult {
  date: string;
  options: BenchOptions;
  environmentBefore: BenchEnvironment;
  environmentAfter: BenchEnvironment;
  wallSeconds: number;
  rows: RowResult[];
}

/** What each row reports, and how the table names it. */
export const rowMetrics: Record<BenchRow, Array<{ metric: string; measure: string; unit: string }>> = {
  webhook: [
    {
      metric: 'throughput',
      measure: '1. Webhook: notification POST → signal → 202, throughput',
      unit: 'req/s',
    },
    { metric: 'p50Ms', measure: '1. Webhook latency p50', unit: 'ms' },
    { metric: 'p99Ms', measure: '1. Webhook latency p99', unit: 'ms' },
  ],
  transfers: [
    { metric: 'perMinute', measure: '2. Completed seed transfers per minute', unit: '/min' },
    { metric: 'p50Seconds', measure: '2. Transfer start → close p50', unit: 's' },
    { metric: 'p99Seconds', measure: '2. Transfer start → close p99', unit: 's' },
  ],
  incoming: [
    { metric: 'answerP50Ms', measure: '3. Incoming-call notification → answer at Graph, p50', unit: 'ms' },
    { metric: 'answerP99Ms', measure: '3. Incoming-call notification → answer at Graph, p99', unit: 'ms' },
  ],
  next: [
    { metric: 'nextP50Ms', measure: '4. Notification → next Graph request, p50', unit: 'ms' },
    { metric: 'nextP99Ms', measure: '4. Notification → next Graph request, p99', unit: 'ms' },
  ],
  memory: [
    { metric: 'rssPerWorkflowKb', measure: '5. Worker RSS per parked workflow', unit: 'KB' },
    {
      metric: 'heapPerWorkflowKb',
      measure: '5. Worker heap per parked workflow (main + workflow thread)',
      unit: 'KB',
    },
    { metric: 'workerBaselineRssMb', measure: '5. Worker RSS after warm-up, before parking', unit: 'MB' },
    {
      metric: 'webhookStartRssMb',
      measure: '5. Webhook RSS before any POST (after GC)',
      unit: 'MB',
    },
    { metric: 'webhookRssMb', measure: '5. Webhook RSS after the notification POSTs', unit: 'MB' },
    { metric: 'webhookHeapMb', measure: '5. Webhook heap after the POSTs (after GC)', unit: 'MB' },
  ],
  replay: [{ metric: 'historiesPerSecond', measure: '6. Replay, histories/s', unit: '/s' }],
};

const rowBuilders: Record<BenchRow, (context: BenchContext) => Promise<RowBench>> = {
  webhook: webhookRow,
  transfers: transfersRow,
  incoming: incomingCallsRow,
  next: nextRequestRow,
  memory: memoryRow,
  replay: replayRow,
};

const bareWorkflowsPath = fileURLToPath(new URL('./bare-workflows.ts', import.meta.url));

export function tableLines(rows: readonly RowResult[]): TableLine[] {
  return rows.flatMap((row) =>
    rowMetrics[row.row].map(({ metric, measure, unit }) => ({
      measure,
      unit,
      ratio: row.ratios[metric] as Spread,
      handoff: sideMedian(row.pairs, 'handoff', metric),
      bare: sideMedian(row.pairs, 'bare', metric),
    })),
  );
}

export async function runBench(options: BenchOptions, log: (line: string) => void): Promise<BenchResult> {
  const environmentBefore = currentEnvironment();
  const started = Date.now();
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed already (the test stack's module does it on import).
  }
  const stops: Array<() => Promise<unknown> | unknown> = [];
  // SQLite's fsyncs on a disk would be the bottleneck of both sides alike, and noisy: a RAM disk.
  const dbDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'handoff-bench-db-'));
  stops.push(() => rmSync(dbDir, { recursive: true, force: true }));
  try {
    log('starting the Temporal dev server and bundling the workflows');
    const [devServer, bundle] = await Promise.all([
      startDevServer({ dbFile: join(dbDir, 'temporal.db') }),
      buildTestWorkflowBundle(),
    ]);
    stops.push(() => devServer.stop());
    stops.push(() => bundle.remove());
    const handoffEnv = tuningFromEnvironment();
    const stack = await startHandoffTestStack({
      temporal: devServer,
      workflowBundlePath: bundle.path,
      env: handoffEnv,
    });
    stops.push(() => stack.stop());
    const receiver = await startBotReceiver();
    stops.push(() => receiver.stop());
    const handoffWebhook = await startBenchWebhook(stack);
    stops.push(() => handoffWebhook.stop());

    const bareTaskQueue = `bench-bare-${randomUUID()}`;
    const bareConnection = await NativeConnection.connect({ address: devServer.address });
    stops.push(() => bareConnection.close());
    // Bundled once, like Handoff's: the worker and row 6's replays run the same code.
    const bareWorkflowBundlePath = join(dbDir, 'bare-workflows.cjs');
    writeFileSync(
      bareWorkflowBundlePath,
      (await bundleWorkflowCode({ workflowsPath: bareWorkflowsPath, logger: new DefaultLogger('WARN') }))
        .code,
    );
    const bareWorker = await Worker.create({
      connection: bareConnection,
      namespace: devServer.namespace,
      taskQueue: bareTaskQueue,
      workflowBundle: { codePath: bareWorkflowBundlePath },
      activities: bareActivities,
    });
    const bareRunning = bareWorker.run();
    stops.push(async () => {
      if (bareWorker.getState() === 'RUNNING') bareWorker.shutdown();
      await bareRunning;
    });
    const bare = await startBareWebhook(stack.client, bareTaskQueue);
    stops.push(() => bare.stop());

    const context: BenchContext = {
      temporal: { address: devServer.address, namespace: devServer.namespace },
      handoffEnv,
      stack,
      client: stack.client,
      receiver,
      handoffWebhook,
      bare,
      bareTaskQueue,
      workflowBundlePath: bundle.path,
      bareWorkflowBundlePath,
      sizes: options.sizes,
      log,
      onStop: (step) => {
        stops.push(step);
      },
    };
    const rows: RowResult[] = [];
    for (const row of options.rows) {
      const bench = await rowBuilders[row](context);
      if (!bench.warmsItself) {
        log(`${row}: warming up both sides`);
        await bench.handoff.measure(true);
        await bench.bare.measure(true);
      }
      const pairs: PairResult[] = [];
      for (let pair = 1; pair <= options.pairs; pair++) {
        const handoff: Figures = await bench.handoff.measure(false);
        const bareFigures: Figures = await bench.bare.measure(false);
        pairs.push({ handoff, bare: bareFigures });
        log(
          `${row}: pair ${pair}/${options.pairs} handoff ${JSON.stringify(round(handoff))} bare ${JSON.stringify(round(bareFigures))}`,
        );
      }
      rows.push({
        row,
        pairs,
        ratios: ratioSpreads(
          pairs,
          rowMetrics[row].map((item) => item.metric),
        ),
      });
    }
    return {
      date: new Date(started).toISOString(),
      options,
      environmentBefore,
      environmentAfter: currentEnvironment(),
      wallSeconds: (Date.now() - started) / 1000,
      rows,
    };
  } finally {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        log(`clean-up step failed: ${String(error)}`);
      }
    }
  }
}

/**
 * The settings issue 12 added, passed through from the bench's environment, so that one setting
 * can be measured against another (`NOTIFICATION_TOKEN_CACHE_SIZE=0 npm run bench -- --rows 1`).
 */
function tuningFromEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        entry[0] !== 'HANDOFF_WORKER_METRICS_ADDRESS' &&
        (entry[0].startsWith('HANDOFF_WORKER_') || entry[0] === 'NOTIFICATION_TOKEN_CACHE_SIZE'),
    ),
  );
}

function round(figures: Figures): Figures {
  return Object.fromEntries(
    Object.entries(figures).map(([key, value]) => [key, Math.round(value * 100) / 100]),
  );
}
