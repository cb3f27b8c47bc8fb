// The whole of Handoff for end-to-end tests, as `npm start` wires it (src/app), with nothing mocked
// but Microsoft Graph: the Graph simulator, a Temporal client, the webhook over real HTTP with JWT
// verification on, and optionally an in-process worker running the real workflows and activities.
// Each stack gets its own task queue and simulator, so tests sharing one dev server do not meet.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type NativeConnection,
  Runtime,
  type Worker,
} from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { graphClientFor, graphFetchFor } from '../../src/app/graph.js';
import { webhookDepsFor } from '../../src/app/webhook.js';
import { type HandoffConfig, loadConfig } from '../../src/config/env.js';
import { type GraphSimulator, type SimulatorOptions, startSimulator } from '../../src/simulator/index.js';
import { connectClient } from '../../src/temporal/connection.js';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import { getFreePort } from '../../src/temporal/ports.js';
import { connectWorker } from '../../src/temporal/worker-connection.js';
import type { Tracing } from '../../src/tracing/tracing.js';
import { buildApiServer, buildWebhookServer } from '../../src/webhook/index.js';
import { createWebhookMetrics } from '../../src/webhook/metrics.js';
import type { WorkerMetrics } from '../../src/worker/metrics.js';
import { createHandoffWorker, workflowBundleOptions } from '../../src/worker/worker.js';
import { transferWorkflowId } from '../../src/workflows/definitions.js';
import type { transferCall } from '../../src/workflows/transfer/transfer.js';
import { sharedResource } from './shared.js';

// Workers log every state change and workflow phase at INFO: keep test output to warnings. The
// Runtime is per process and may already exist (another helper made a connection first).
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed: keep that one.
}

/** One event of a workflow history, as `WorkflowHandle.fetchHistory()` returns it. */
export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** A Temporal dev server for one test file, with its SQLite data in a temp folder it deletes on stop. */
export interface TestTemporal {
  address: string;
  namespace: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * `temporal server start-dev` from the binaries `npm run setup` installs, through startDevServer
 * (60 s readiness wait, Handoff search attributes registered, killed if this process dies).
 */
export async function startTestTemporal(): Promise<TestTemporal> {
  const dataDir = mkdtempSync(join(tmpdir(), 'handoff-e2e-temporal-'));
  try {
    const server: DevServer = await startDevServer({ dbFile: join(dataDir, 'temporal.db') });
    return {
      address: server.address,
      namespace: server.namespace,
      uiUrl: server.uiUrl,
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** A workflow bundle built once per test file: each worker then starts in well under a second. */
export interface TestWorkflowBundle {
  path: string;
  remove(): void;
}

export async function buildTestWorkflowBundle(): Promise<TestWorkflowBundle> {
  const { code } = await bundleWorkflowCode({
    ...workflowBundleOptions,
    logger: new DefaultLogger('WARN'),
  });
  const dir = mkdtempSync(join(tmpdir(), 'handoff-e2e-bundle-'));
  const path = join(dir, 'workflow-bundle.cjs');
  writeFileSync(path, code);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface HandoffTestStackOptions {
  temporal: Pick<TestTemporal, 'address' | 'namespace'>;
  /** Run a worker in this process (default true). Give false to run it elsewhere (a child process). */
  worker?: boolean;
  /** A prebuilt bundle (buildTestWorkflowBundle); without one the worker bundles the sources itself. */
  workflowBundlePath?: string;
  simulator?: SimulatorOptions;
  /** Tracing for client, webhook, worker and Graph requests (test/tracing.test.ts); none by default. */
  tracing?: Tracing;
  /** The in-process worker counts workflow runs here (and its Graph requests). */
  workerMetrics?: WorkerMetrics;
  /** Extra environment for loadConfig, e.g. HANDOFF_DEFAULT_TARGET. */
  env?: Record<string, string>;
}

/** An HTTP answer of the webhook's API, its JSON body parsed. */
export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted with expect(), not trusted.
  body: any;
}

export interface HandoffTestStack {
  config: HandoffConfig;
  taskQueue: string;
  sim: GraphSimulator;
  client: Client;
  /** http://127.0.0.1:<port>, which is also the PUBLIC_BASE_URL Graph calls back: notifications and health only. */
  webhookUrl: string;
  /** http://127.0.0.1:<port> of the API listener: transfers, bot calls, OpenAPI. */
  apiUrl: string;
  /** The bot's registered calling URL: `${webhookUrl}/api/calls`. */
  botUrl: string;
  apiToken: string;
  worker?: Worker;
  /** The in-process worker's failure, if its run() ended with one. */
  workerError(): unknown;
  /** The API (at apiUrl) with the bearer token: GET when body is undefined, else POST JSON. */
  api(path: string, body?: unknown): Promise<ApiAnswer>;
  /** Places the seed's incoming call to the webhook and returns the transfer it starts. */
  placeCall(): Promise<{ callId: string; workflowId: string; handle: WorkflowHandle<typeof transferCall> }>;
  handle(workflowId: string): WorkflowHandle<typeof transferCall>;
  history(workflowId: string): Promise<HistoryEvent[]>;
  stop(): Promise<void>;
}

/** Starts simulator, Temporal client, webhook and (unless told not to) a worker, on a fresh task queue. */
export async function startHandoffTestStack(options: HandoffTestStackOptions): Promise<HandoffTestStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const taskQueue = `handoff-e2e-${randomUUID()}`;
    const apiToken = `api-token-${randomUUID()}`;
    const sim = await startSimulator({ ...options.simulator });
    stops.push(() => sim.stop());

    // The port is chosen before the webhook is built: its callback URLs name it (PUBLIC_BASE_URL).
    const configFor = (port: number): HandoffConfig =>
      loadConfig({
        TEMPORAL_ADDRESS: options.temporal.address,
        TEMPORAL_NAMESPACE: options.temporal.namespace,
        HANDOFF_TASK_QUEUE: taskQueue,
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        HANDOFF_API_TOKEN: apiToken,
        HANDOFF_API_HOST: '127.0.0.1',
        HANDOFF_API_PORT: '0',
        SIMULATOR_URL: sim.url,
        ...options.env,
      });
    let config = configFor(await getFreePort());
    const { tracing, workerMetrics } = options;
    const client = await connectClient(
      config.temporal,
      options.temporal.address,
      tracing?.clientInterceptors,
    );
    stops.push(() => client.connection.close());

    let worker: Worker | undefined;
    let workerFailure: unknown;
    if (options.worker !== false) {
      const connection: NativeConnection = await connectWorker(config.temporal, options.temporal.address);
      stops.push(() => connection.close());
      worker = await createHandoffWorker({
        connection,
        namespace: config.temporal.namespace,
        taskQueue,
        graph: graphClientFor(config, sim, graphFetchFor(tracing, workerMetrics)),
        ...(tracing ? { tracing } : {}),
        ...(workerMetrics ? { metrics: workerMetrics } : {}),
        tuning: config.worker,
        ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
      });
      const running = worker.run().catch((error: unknown) => {
        workerFailure = error;
      });
      const started = worker;
      stops.push(async () => {
        if (started.getState() === 'RUNNING') started.shutdown();
        await running;
      });
    }

    // One metrics registry for both listeners, as in one process of `npm start`.
    const metrics = createWebhookMetrics();
    const deps = () => ({
      ...webhookDepsFor(config, client, {
        simulator: sim,
        logger: false,
        ...(tracing ? { tracer: tracing.tracer } : {}),
      }),
      metrics,
    });
    let webhook: FastifyInstance | undefined;
    for (let attempt = 1; webhook === undefined; attempt++) {
      const candidate = buildWebhookServer(deps());
      try {
        await candidate.listen({ host: config.webhook.host, port: config.webhook.port });
        webhook = candidate;
      } catch (error) {
        await candidate.close();
        // Someone took the port between choosing and binding it: choose again.
        if (attempt >= 3 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        config = configFor(await getFreePort());
      }
    }
    const listening = webhook;
    stops.push(() => listening.close());
    const webhookUrl = config.webhook.publicBaseUrl;
    // The API's own listener (HANDOFF_API_PORT=0: nothing names its port, so any free one will do).
    const apiServer = buildApiServer(deps());
    stops.push(() => apiServer.close());
    await apiServer.listen({ host: config.api.host, port: config.api.port });
    const apiUrl = `http://127.0.0.1:${(apiServer.server.address() as AddressInfo).port}`;

    const handle = (workflowId: string) => client.workflow.getHandle<typeof transferCall>(workflowId);
    return {
      config,
      taskQueue,
      sim,
      client,
      webhookUrl,
      apiUrl,
      botUrl: `${webhookUrl}/api/calls`,
      apiToken,
      ...(worker ? { worker } : {}),
      workerError: () => workerFailure,
      async api(path, body) {
        const response = await fetch(`${apiUrl}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            authorization: `Bearer ${apiToken}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      },
      async placeCall() {
        const { callId } = await sim.placeIncomingCall({ botUrl: `${webhookUrl}/api/calls` });
        const workflowId = transferWorkflowId(callId);
        // The webhook starts it once the notification arrives; a handle's result() needs it to exist.
        await waitUntil(`workflow ${workflowId} to be started by the webhook`, async () => {
          await handle(workflowId).describe();
          return true;
        });
        return { callId, workflowId, handle: handle(workflowId) };
      },
      handle,
      async history(workflowId) {
        return (await handle(workflowId).fetchHistory()).events ?? [];
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls `check` every `intervalMs` until it returns something other than undefined. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The name of a history event's type without the prefix, e.g. `ActivityTaskScheduled`. */
export function eventTypeName(event: HistoryEvent): string {
  return String(eventTypeNames[event.eventType ?? 0] ?? event.eventType);
}

// EventType numbers of temporal.api.enums.v1.EventType, for readable assertions and messages.
const eventTypeNames: Record<number, string> = {
  1: 'WorkflowExecutionStarted',
  2: 'WorkflowExecutionCompleted',
  3: 'WorkflowExecutionFailed',
  4: 'WorkflowExecutionTimedOut',
  5: 'WorkflowTaskScheduled',
  6: 'WorkflowTaskStarted',
  7: 'WorkflowTaskCompleted',
  8: 'WorkflowTaskTimedOut',
  9: 'WorkflowTaskFailed',
  10: 'ActivityTaskScheduled',
  11: 'ActivityTaskStarted',
  12: 'ActivityTaskCompleted',
  13: 'ActivityTaskFailed',
  14: 'ActivityTaskTimedOut',
  15: 'ActivityTaskCancelRequested',
  16: 'ActivityTaskCanceled',
  17: 'TimerStarted',
  18: 'TimerFired',
  19: 'TimerCanceled',
  20: 'WorkflowExecutionCancelRequested',
  21: 'WorkflowExecutionCanceled',
  25: 'MarkerRecorded',
  26: 'WorkflowExecutionSignaled',
  27: 'WorkflowExecutionTerminated',
  40: 'UpsertWorkflowSearchAttributes',
};

/** The activity type of an ActivityTaskScheduled event, and of the events that refer to it. */
export function activityTypeOf(events: HistoryEvent[], event: HistoryEvent): string | undefined {
  const scheduledId =
    event.activityTaskScheduledEventAttributes !== undefined &&
    event.activityTaskScheduledEventAttributes !== null
      ? event.eventId
      : (event.activityTaskStartedEventAttributes?.scheduledEventId ??
        event.activityTaskCompletedEventAttributes?.scheduledEventId ??
        event.activityTaskFailedEventAttributes?.scheduledEventId ??
        event.activityTaskTimedOutEventAttributes?.scheduledEventId ??
        event.activityTaskCanceledEventAttributes?.scheduledEventId);
  if (scheduledId === undefined || scheduledId === null) return undefined;
  const scheduled = events.find((candidate) => Number(candidate.eventId) === Number(scheduledId));
  return scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? undefined;
}

/** The marker name the SDK's core gives a local activity's MarkerRecorded event. */
export const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** What a local activity's marker says: which activity, when it ran, whether it failed. */
export interface LocalActivityMarker {
  activityType: string;
  /** The worker's clock when the workflow scheduled it (`original_schedule_time`); NaN if absent. */
  scheduledAtMs: number;
  /**
   * Core's `complete_time`: the workflow's time when the task that scheduled it started (that
   * WorkflowTaskStarted's event time) plus how long the activity ran. NaN if absent.
   */
  completeTimeMs: number;
  failed: boolean;
  timedOut: boolean;
}

type MarkerTime = { seconds?: number | string; nanos?: number } | null | undefined;

function markerTimeMs(time: MarkerTime): number {
  return time ? Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6) : Number.NaN;
}

/**
 * A local activity (the answer under patch `local-answer`) has no events of its own: one
 * MarkerRecorded, written with the workflow task that ran it, whose `data` is core's JSON
 * (`activity_type`, `complete_time`, `original_schedule_time`, …) and whose `failure` is set when
 * it failed.
 */
export function localActivityOf(event: HistoryEvent): LocalActivityMarker | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as {
    activity_type?: string;
    complete_time?: MarkerTime;
    original_schedule_time?: MarkerTime;
  };
  if (!parsed.activity_type) return undefined;
  return {
    activityType: parsed.activity_type,
    scheduledAtMs: markerTimeMs(parsed.original_schedule_time),
    completeTimeMs: markerTimeMs(parsed.complete_time),
    failed: Boolean(marker.failure),
    timedOut: Boolean(marker.failure?.cause?.timeoutFailureInfo ?? marker.failure?.timeoutFailureInfo),
  };
}

/** `ActivityTaskScheduled:createCall`, `WorkflowExecutionSignaled`, …: a history at a glance, for messages. */
export function describeHistory(events: HistoryEvent[]): string[] {
  return events.map((event) => {
    const activity = activityTypeOf(events, event);
    const summary = summaryOf(event);
    return `${event.eventId} ${eventTypeName(event)}${activity ? `:${activity}` : ''}${summary ? ` (${summary})` : ''}`;
  });
}

/** The summary a workflow gave a timer or activity (`sleep(ms, { summary })`), if any. */
export function summaryOf(event: HistoryEvent): string | undefined {
  const payload = event.userMetadata?.summary;
  return payload ? defaultPayloadConverter.fromPayload<string>(payload) : undefined;
}

/** When an event happened, in ms since the epoch. */
export function eventTimeMs(event: HistoryEvent): number {
  const time = event.eventTime;
  if (!time) return Number.NaN;
  return Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

/**
 * One dev server, one workflow bundle and one stack shared by every test of a file (started in
 * beforeAll, stopped in afterAll); usable inside tests only.
 */
export function sharedHandoffStack(
  options: Omit<HandoffTestStackOptions, 'temporal' | 'workflowBundlePath'> = {},
): HandoffTestStack {
  let temporal: TestTemporal | undefined;
  let bundle: TestWorkflowBundle | undefined;
  return sharedResource(
    'Handoff stack',
    async () => {
      [temporal, bundle] = await Promise.all([startTestTemporal(), buildTestWorkflowBundle()]);
      return startHandoffTestStack({ temporal, workflowBundlePath: bundle.path, ...options });
    },
    async (stack) => {
      await stack.stop();
      await temporal?.stop();
      bundle?.remove();
    },
  );
}
