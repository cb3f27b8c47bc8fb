/**
 * The bare worker in a process of its own, for row 5's memory (bench/perf/memory-row.ts): the SDK's
 * defaults but for the sticky cache, which must hold every parked workflow. Settings by environment:
 * BENCH_TEMPORAL_ADDRESS, BENCH_NAMESPACE, BENCH_TASK_QUEUE, BENCH_WORKFLOW_BUNDLE,
 * BENCH_MAX_CACHED_WORKFLOWS. Prints `[bench-bare-worker] ready` once it polls; SIGTERM stops it.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import * as bareActivities from './bare-activities.js';

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required (bench/perf/bare-worker.ts)`);
  return value;
}

async function main(): Promise<void> {
  const connection = await NativeConnection.connect({ address: setting('BENCH_TEMPORAL_ADDRESS') });
  const worker = await Worker.create({
    connection,
    namespace: setting('BENCH_NAMESPACE'),
    taskQueue: setting('BENCH_TASK_QUEUE'),
    workflowBundle: { codePath: setting('BENCH_WORKFLOW_BUNDLE') },
    activities: bareActivities,
    maxCachedWorkflows: Number(setting('BENCH_MAX_CACHED_WORKFLOWS')),
  });
  console.log('[bench-bare-worker] ready');
  // Worker.run() shuts down on SIGTERM by itself.
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
