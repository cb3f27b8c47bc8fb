import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createGraphActivities, createRoutingActivities } from '../activities/index.js';
import { DEFAULT_WORKER_TUNING, type WorkerTuning } from '../config/env.js';
import type { GraphClient } from '../graph/index.js';
import type { Tracing } from '../tracing/tracing.js';
import type { WorkerMetrics } from './metrics.js';
import { checkSearchAttributes } from './search-attributes.js';
import { handoffWorkflowSinks } from './workflow-sinks.js';

// `.ts` when run from source (tsx, vitest), `.js` when run from the compiled dist/.
const ownExtension = extname(fileURLToPath(import.meta.url));
export const workflowsPath = fileURLToPath(new URL(`../workflows/index${ownExtension}`, import.meta.url));
/**
 * Handoff's workflow interceptors (tracing, run counts): part of every bundle and every replay, so
 * all workers run the same workflow code whether tracing and metrics are on or not.
 */
export const workflowInterceptorModules = [
  fileURLToPath(new URL(`../workflows/interceptors${ownExtension}`, import.meta.url)),
];
/**
 * Modules evaluated once per worker and shared by all its workflows, instead of once per workflow:
 * only modules that hold no workflow's state (src/workflows/tracing/active-span.ts says why this one).
 */
export const workflowPreloadModules = [
  fileURLToPath(new URL(`../workflows/tracing/active-span${ownExtension}`, import.meta.url)),
];
/** What every bundle of Handoff's workflows is built from: the worker's, `npm run build:workflows`', replay's. */
export const workflowBundleOptions = {
  workflowsPath,
  workflowInterceptorModules,
  preloadModules: workflowPreloadModules,
};

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
  /** Counts workflow runs started and closed (the `handoffMetrics` sink). */
  metrics?: WorkerMetrics;
  /** Traces activities and exports the workflows' spans (issue 13.4); off when undefined. */
  tracing?: Tracing;
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
    activities: { ...createGraphActivities(options.graph), ...createRoutingActivities() },
    maxConcurrentWorkflowTaskExecutions: tuning.workflowTaskSlots,
    maxConcurrentActivityTaskExecutions: tuning.activityTaskSlots,
    // The SDK (1.24) ignores maxConcurrentWorkflowTaskPolls/ActivityTaskPolls: the poller behaviour rules.
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.workflowTaskPollers },
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.activityTaskPollers },
    nonStickyToStickyPollRatio: tuning.nonStickyPollRatio,
    ...(tuning.stickyCacheSize !== undefined ? { maxCachedWorkflows: tuning.stickyCacheSize } : {}),
    // A prebuilt bundle carries the workflow interceptors itself (src/worker/bundle.ts).
    ...(workflowBundlePath !== undefined
      ? { workflowBundle: { codePath: workflowBundlePath } }
      : { workflowsPath }),
    // A prebuilt bundle has the preloaded modules in it too.
    ...(workflowBundlePath === undefined
      ? { bundlerOptions: { preloadModules: workflowPreloadModules } }
      : {}),
    interceptors: {
      ...(workflowBundlePath === undefined ? { workflowModules: workflowInterceptorModules } : {}),
      activity: options.tracing?.activityInterceptors ?? [],
    },
    sinks: handoffWorkflowSinks({ metrics: options.metrics, tracing: options.tracing }),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}
