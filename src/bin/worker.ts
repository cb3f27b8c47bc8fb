/** The worker alone (docker-compose's `worker` service): runs workflows and Graph activities. */
import { Runtime } from '@temporalio/worker';
import { graphClientFor, graphFetchFor } from '../app/graph.js';
import { prepareStandalone } from '../app/standalone.js';
import { ConfigError } from '../config/env.js';
import { getFreePort } from '../temporal/ports.js';
import { connectWorker } from '../temporal/worker-connection.js';
import { tracingFromSettings } from '../tracing/configured.js';
import { createWorkerMetrics, type WorkerMetrics } from '../worker/metrics.js';
import { startWorkerMetricsServer, type WorkerMetricsServer } from '../worker/metrics-server.js';
import { createHandoffWorker } from '../worker/worker.js';

async function main(): Promise<void> {
  const { config, temporalAddress: address, simulator } = await prepareStandalone('worker');
  const tracing = await tracingFromSettings(config.tracing);
  let metrics: WorkerMetrics | undefined;
  let metricsServer: WorkerMetricsServer | undefined;
  if (config.workerMetricsAddress !== undefined) {
    // The runtime must be installed before the first connection. Its exporter listens on a loopback
    // port of its own; the endpoint operators scrape serves both (src/worker/metrics-server.ts).
    const runtimePort = await getFreePort();
    Runtime.install({
      telemetryOptions: {
        metrics: {
          prometheus: {
            bindAddress: `127.0.0.1:${runtimePort}`,
            countersTotalSuffix: true,
            unitSuffix: true,
            useSecondsForDurations: true,
          },
        },
      },
    });
    metrics = createWorkerMetrics();
    metricsServer = await startWorkerMetricsServer({
      address: config.workerMetricsAddress,
      registry: metrics.registry,
      runtimeMetricsUrl: `http://127.0.0.1:${runtimePort}/metrics`,
    });
    console.log(`[handoff-worker] metrics on ${metricsServer.url}`);
  }
  const connection = await connectWorker(config.temporal, address);
  const worker = await createHandoffWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    // Spans around Graph requests (children of the activity's) and their counts.
    graph: graphClientFor(config, simulator, graphFetchFor(tracing, metrics)),
    temporalAddress: address,
    ...(metrics ? { metrics } : {}),
    ...(tracing ? { tracing } : {}),
    tuning: config.worker,
    ...(config.workflowBundlePath ? { workflowBundlePath: config.workflowBundlePath } : {}),
  });
  console.log(`[handoff-worker] ready: polling ${config.temporal.taskQueue} on ${address}`);
  // Worker.run() shuts down gracefully on SIGINT/SIGTERM by default: it stops polling and resolves once
  // the running activities have finished. Handoff's activities do not stop on cancellation: each is one
  // Graph request, bounded by its timeout, so it finishes and reports its result (test/worker-shutdown.test.ts).
  await worker.run();
  await connection.close();
  await metricsServer?.close();
  await tracing?.shutdown();
  console.log('[handoff-worker] stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
