/** The worker alone (docker-compose's `worker` service): runs workflows and Graph activities. */
import { graphClientFor } from '../app/graph.js';
import { connectToSimulator } from '../app/simulator-connection.js';
import { ConfigError, loadConfig } from '../config/env.js';
import { connectWorker } from '../temporal/connection.js';
import { createHandoffWorker } from '../worker/worker.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const address = config.temporal.address;
  if (address === undefined)
    throw new ConfigError([
      'TEMPORAL_ADDRESS is required for a worker that runs on its own (npm start embeds a server)',
    ]);
  if (config.mode === 'embedded' && config.simulator.url === undefined) {
    throw new ConfigError([
      'SIMULATOR_URL or a tenant (GRAPH_TENANT_ID, …) is required for a worker that runs on its own',
    ]);
  }
  const simulator = config.mode === 'embedded' ? await connectToSimulator(config.simulator.url!) : undefined;
  const connection = await connectWorker(config.temporal, address);
  const worker = await createHandoffWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    graph: graphClientFor(config, simulator),
    ...(config.workflowBundlePath ? { workflowBundlePath: config.workflowBundlePath } : {}),
  });
  console.log(`[handoff-worker] ready: polling ${config.temporal.taskQueue} on ${address}`);
  // Worker.run() shuts down gracefully on SIGINT/SIGTERM by default.
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
