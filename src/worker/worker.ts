import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createGraphActivities } from '../activities/index.js';
import { DEFAULT_WORKER_TUNING, type WorkerTuning } from '../config/env.js';
import type { GraphClient } from '../graph/index.js';
import { checkSearchAttributes } from './search-attributes.js';

// `.ts` when run from source (tsx, vitest), `.js` when run from the compiled dist/.
const ownExtension = extname(fileURLToPath(import.meta.url));
export const workflowsPath = fileURLToPath(new URL(`../workflows/index${ownExtension}`, import.meta.url));

export interface HandoffWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  graph: GraphClient;
  /**
   * A workflow bundle built ahead of time (`npm run build:workflows`), so the worker starts in
   * a second (style.md, `production` sample). Without it the worker bundles the sources itself.
   */
  workflowBundlePath?: string;
  identity?: string;
  /** The frontend `host:port`, for the command a missing search attribute's error names. */
  temporalAddress?: string;
  /** Pollers, slots and sticky cache (config.worker); default DEFAULT_WORKER_TUNING. */
  tuning?: WorkerTuning;
}

/** A worker that runs Handoff's workflows and its Graph activities. */
export async function createHandoffWorker(options: HandoffWorkerOptions): Promise<Worker> {
  const { workflowBundlePath } = options;
  if (workflowBundlePath !== undefined && !existsSync(workflowBundlePath)) {
    throw new Error(
      `Workflow bundle ${workflowBundlePath} does not exist: run \`npm run build:workflows\` first`,
    );
  }
  // Before polling: without them every workflow task would fail, long after "ready" was printed.
  await checkSearchAttributes(options.connection, options.namespace, options.temporalAddress);
  const tuning = options.tuning ?? DEFAULT_WORKER_TUNING;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createGraphActivities(options.graph),
    maxConcurrentWorkflowTaskExecutions: tuning.workflowTaskSlots,
    maxConcurrentActivityTaskExecutions: tuning.activityTaskSlots,
    // The SDK (1.24) ignores maxConcurrentWorkflowTaskPolls/ActivityTaskPolls: the poller behaviour rules.
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.workflowTaskPollers },
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.activityTaskPollers },
    nonStickyToStickyPollRatio: tuning.nonStickyPollRatio,
    ...(tuning.stickyCacheSize !== undefined ? { maxCachedWorkflows: tuning.stickyCacheSize } : {}),
    ...(workflowBundlePath !== undefined
      ? { workflowBundle: { codePath: workflowBundlePath } }
      : { workflowsPath }),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}
