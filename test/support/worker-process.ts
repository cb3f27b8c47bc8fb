// Handoff's worker in a process of its own (src/bin/worker.ts), as docker-compose runs it, so a test
// can SIGKILL it mid-transfer (test/support/handoff-process.ts runs and supervises it).
import { type HandoffProcess, startHandoffProcess } from './handoff-process.js';

export interface WorkerProcessOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** The running simulator the worker reads its Graph connection from (embedded mode). */
  simulatorUrl: string;
  /** A prebuilt workflow bundle, so the worker starts in about a second instead of bundling. */
  workflowBundlePath?: string;
  /** Shown in front of every output line, e.g. `worker-1`. */
  name: string;
  /** How long to wait for the worker's "ready" line; default 60 s. */
  readyTimeoutMs?: number;
  /** More settings, e.g. HANDOFF_WORKER_METRICS_ADDRESS. */
  env?: Record<string, string>;
}

/** Ready once it polls its task queue. */
export type WorkerProcess = HandoffProcess;

export function startWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  return startHandoffProcess({
    entryPoint: 'src/bin/worker.ts',
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: options.namespace,
      HANDOFF_TASK_QUEUE: options.taskQueue,
      SIMULATOR_URL: options.simulatorUrl,
      ...(options.workflowBundlePath ? { HANDOFF_WORKFLOW_BUNDLE: options.workflowBundlePath } : {}),
      ...options.env,
    },
    name: options.name,
    readyLine: '[handoff-worker] ready',
    ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
  });
}
