/** The worker alone (docker-compose's `worker` service): runs workflows and Graph activities. */
import { graphClientFor } from '../app/graph.js';
import { prepareStandalone } from '../app/standalone.js';
import { ConfigError } from '../config/env.js';
import { connectWorker } from '../temporal/connection.js';
import { createHandoffWorker } from '../worker/worker.js';

async function main(): Promise<void> {
  const { config, temporalAddress: address, simulator } = await prepareStandalone('worker');
  const connection = await connectWorker(config.temporal, address);
  const worker = await createHandoffWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    graph: graphClientFor(config, simulator),
    temporalAddress: address,
    shutdownGraceMs: config.workerShutdownGraceMs,
    ...(config.workflowBundlePath ? { workflowBundlePath: config.workflowBundlePath } : {}),
  });
  console.log(`[handoff-worker] ready: polling ${config.temporal.taskQueue} on ${address}`);
  // Worker.run() shuts down gracefully on SIGINT/SIGTERM by default: it stops polling, lets running
  // activities finish for HANDOFF_WORKER_SHUTDOWN_GRACE_MS, then resolves.
  await worker.run();
  await connection.close();
  console.log('[handoff-worker] stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
