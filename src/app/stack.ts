/**
 * Starts Handoff's services in one process: the embedded Temporal dev server (unless
 * TEMPORAL_ADDRESS points elsewhere), the Graph simulator (unless a tenant is configured),
 * the worker, the public webhook and the API. `npm start` runs this; so do the end-to-end tests.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { HandoffConfig } from '../config/env.js';
import { type GraphSimulator, startSimulator } from '../simulator/index.js';
import { connectClient } from '../temporal/connection.js';
import { type DevServer, startDevServer } from '../temporal/dev-server.js';
import { connectWorker } from '../temporal/worker-connection.js';
import { tracingFromSettings } from '../tracing/configured.js';
import type { Tracing } from '../tracing/tracing.js';
import { createHandoffWorker } from '../worker/worker.js';
import { graphClientFor, graphFetchFor } from './graph.js';
import { describeListeners, startListeners } from './servers.js';
import { webhookDepsFor } from './webhook.js';

export interface StackOptions {
  /** Run a worker in this process (default true). */
  worker?: boolean;
  workflowBundlePath?: string;
  /** fastify logger option for the webhook; default true (pino JSON lines). */
  logger?: boolean | object;
  /** Tracing for this process; by default as configured (OTEL_EXPORTER_OTLP_*), else none. */
  tracing?: Tracing;
  /** Receives progress lines ("Temporal dev server …", "webhook …"). */
  report?: (line: string) => void;
}

export interface Stack {
  config: HandoffConfig;
  temporalAddress: string;
  uiUrl?: string;
  /** The public listener: Graph's notifications and health. */
  webhookUrl: string;
  /** The API listener: transfers, bot calls, OpenAPI. */
  apiUrl: string;
  simulator?: GraphSimulator;
  client: Client;
  worker?: Worker;
  stop(): Promise<void>;
}

export async function startStack(config: HandoffConfig, options: StackOptions = {}): Promise<Stack> {
  const report = options.report ?? (() => {});
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) {
      await step().catch((error: unknown) => report(`stop failed: ${String(error)}`));
    }
  };
  try {
    let devServer: DevServer | undefined;
    if (config.temporal.address === undefined) {
      report(`starting the Temporal dev server on 127.0.0.1:${config.temporal.embedded.port}`);
      devServer = await startDevServer({
        port: config.temporal.embedded.port,
        uiPort: config.temporal.embedded.uiPort,
        namespace: config.temporal.namespace,
        ...(config.temporal.embedded.dbFile ? { dbFile: config.temporal.embedded.dbFile } : {}),
      });
      stops.push(() => devServer!.stop());
    }
    const temporalAddress = config.temporal.address ?? devServer!.address;
    const uiUrl = config.temporal.uiUrl ?? devServer?.uiUrl;

    let simulator: GraphSimulator | undefined;
    if (config.mode === 'embedded') {
      simulator = await startSimulator({ port: config.simulator.port });
      stops.push(() => simulator!.stop());
      report(`Graph simulator on ${simulator.url}`);
    }
    const tracing = options.tracing ?? (await tracingFromSettings(config.tracing));
    if (tracing && options.tracing === undefined) stops.push(() => tracing.shutdown());
    const graph = graphClientFor(config, simulator, graphFetchFor(tracing, undefined));

    const client = await connectClient(config.temporal, temporalAddress, tracing?.clientInterceptors);
    stops.push(() => client.connection.close());

    let worker: Worker | undefined;
    if (options.worker !== false) {
      const connection = await connectWorker(config.temporal, temporalAddress);
      worker = await createHandoffWorker({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        graph,
        temporalAddress,
        ...(tracing ? { tracing } : {}),
        tuning: config.worker,
        ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
      });
      const running = worker.run();
      stops.push(async () => {
        if (worker!.getState() === 'RUNNING') worker!.shutdown();
        await running;
        await connection.close();
      });
      report(`worker polling task queue ${config.temporal.taskQueue}`);
    }

    const listeners = await startListeners(
      config,
      webhookDepsFor(config, client, {
        ...(simulator ? { simulator } : {}),
        ...(uiUrl ? { temporalUiUrl: uiUrl } : {}),
        logger: options.logger ?? true,
        ...(tracing ? { tracer: tracing.tracer } : {}),
      }),
    );
    // Stopping drains the listeners first (src/app/servers.ts), then the worker and Temporal go.
    stops.push(() => listeners.drainAndClose(config.drainDelayMs));
    for (const line of describeListeners(config, listeners)) report(line);
    const { webhookUrl, apiUrl } = listeners;

    return {
      config,
      temporalAddress,
      ...(uiUrl ? { uiUrl } : {}),
      webhookUrl,
      apiUrl,
      ...(simulator ? { simulator } : {}),
      client,
      ...(worker ? { worker } : {}),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
