// The worker's Prometheus endpoint (issue 13.3): a worker process (src/bin/worker.ts) with
// HANDOFF_WORKER_METRICS_ADDRESS runs a real transfer against the Graph simulator, with one throttled
// invite and one failed keep-alive; its /metrics then shows Handoff's counts, equal to the requests
// the simulator logged, the workflow runs started, and the Temporal SDK's runtime metrics. SIGTERM then
// stops it gracefully, and it flushes its traces to an OTLP collector on the way out.
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { queriedMetricNames, seriesBaseName } from './support/grafana-dashboard.js';
import {
  buildTestWorkflowBundle,
  type HandoffTestStack,
  startHandoffTestStack,
  startTestTemporal,
  type TestTemporal,
  type TestWorkflowBundle,
  waitUntil,
} from './support/handoff-stack.js';
import { type OtlpCollector, type OtlpSpan, startOtlpCollector } from './support/otlp-collector.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

let temporal: TestTemporal;
let bundle: TestWorkflowBundle;
let stack: HandoffTestStack;
let worker: WorkerProcess | undefined;
let collector: OtlpCollector;

beforeAll(async () => {
  [temporal, bundle, collector] = await Promise.all([
    startTestTemporal(),
    buildTestWorkflowBundle(),
    startOtlpCollector(),
  ]);
  // `stay`: a groupCallOwner keeps the group call alive with a keepAlive every second.
  stack = await startHandoffTestStack({
    temporal,
    worker: false,
    workflowBundlePath: bundle.path,
    env: { HANDOFF_BOT_LEG_AFTER_TRANSFER: 'stay', HANDOFF_KEEP_ALIVE_INTERVAL_MS: '1000' },
  });
}, 180_000);

afterAll(async () => {
  await worker?.kill();
  await stack?.stop();
  await temporal?.stop();
  bundle?.remove();
  await collector?.close();
});

/** The value of one sample in Prometheus' text format, 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

it('serves Graph requests, throttles, Retry-After, keep-alives and the SDK runtime metrics after a real transfer', async () => {
  onTestFailed(() => console.error(worker?.output.join('\n')));
  const { sim } = stack;
  sim.injectFault({ method: 'POST', path: /\/participants\/invite$/, status: 429, retryAfterSeconds: 1 });
  sim.injectFault({ method: 'POST', path: /\/keepAlive$/, status: 500 });

  worker = startWorkerProcess({
    name: 'worker-metrics',
    temporalAddress: temporal.address,
    namespace: temporal.namespace,
    taskQueue: stack.taskQueue,
    simulatorUrl: sim.url,
    workflowBundlePath: bundle.path,
    env: {
      HANDOFF_WORKER_METRICS_ADDRESS: '127.0.0.1:0',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'handoff-worker-under-test',
    },
  });
  await worker.ready;
  const metricsUrl = worker.output.map((line) => /metrics on (http:\S+)/.exec(line)?.[1]).find(Boolean);
  expect(metricsUrl, worker.output.join('\n')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

  // With `stay` the transfer holds the group call it created: it runs on, keeping the call alive.
  const { callId } = await stack.placeCall();
  const groupCallId = await waitUntil(
    'the group call the transfer moved the caller into',
    () => {
      const replaced = sim.getCall(callId)?.replacedBy?.callId;
      return replaced && sim.getCall(replaced) ? replaced : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const keepAlives = () =>
    sim.requests.filter(
      (request) => request.method === 'POST' && request.path.endsWith(`/calls/${groupCallId}/keepAlive`),
    );
  // One failed keep-alive (the fault), then at least two sent.
  await waitUntil(
    'two keep-alives answered 200',
    () => (keepAlives().filter((request) => request.status === 200).length >= 2 ? true : undefined),
    { timeoutMs: 30_000 },
  );

  const answer = await fetch(metricsUrl!);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await answer.text();

  // Graph requests by operation and status: as many as the simulator logged, whatever the status.
  const logged = (method: string, path: RegExp, status: number) =>
    sim.requests.filter(
      (request) => request.method === method && path.test(request.path) && request.status === status,
    ).length;
  expect(sample(text, 'handoff_graph_requests_total', { operation: 'answerCall', status: '202' })).toBe(
    logged('POST', /\/answer$/, 202),
  );
  expect(sample(text, 'handoff_graph_requests_total', { operation: 'createCall', status: '201' })).toBe(1);
  expect(
    sample(text, 'handoff_graph_requests_total', { operation: 'inviteParticipants', status: '429' }),
  ).toBe(1);
  expect(sample(text, 'handoff_graph_requests_total', { operation: 'inviteParticipants' })).toBe(
    logged('POST', /\/participants\/invite$/, 429) +
      logged('POST', /\/participants\/invite$/, 200) +
      logged('POST', /\/participants\/invite$/, 202),
  );
  expect(
    sample(text, 'handoff_graph_throttles_total', { operation: 'inviteParticipants', status: '429' }),
  ).toBe(1);
  expect(sample(text, 'handoff_graph_retry_after_seconds_total', { operation: 'inviteParticipants' })).toBe(
    1,
  );
  expect(sample(text, 'handoff_graph_request_duration_seconds_count', { operation: 'createCall' })).toBe(1);

  // Keep-alives, of every call the bot held: a failed one is any answer but 2xx (the fault above, or a
  // call Graph had already ended). The scrape came after the counts were taken: sent may have grown.
  const allKeepAlives = sim.requests.filter(
    (request) => request.method === 'POST' && request.path.endsWith('/keepAlive'),
  );
  const failedKeepAlives = allKeepAlives.filter((request) => request.status >= 300);
  expect(failedKeepAlives.length).toBeGreaterThanOrEqual(1);
  expect(
    sample(text, 'handoff_keep_alives_total', { outcome: 'failed' }),
    JSON.stringify(allKeepAlives.map((request) => [request.path, request.status])),
  ).toBe(failedKeepAlives.length);
  expect(sample(text, 'handoff_keep_alives_total', { outcome: 'sent' })).toBeGreaterThanOrEqual(2);
  expect(sample(text, 'handoff_keep_alives_total', { outcome: 'sent' })).toBe(
    sample(text, 'handoff_graph_requests_total', { operation: 'keepAlive', status: '200' }),
  );

  // Workflow runs by type, counted by the bundle's interceptors through the worker's sink: the
  // transfer started once (its keep-alives above come from the run it started).
  expect(sample(text, 'handoff_workflows_started_total', { workflow_type: 'transferCall' })).toBe(1);

  // The Temporal SDK's runtime metrics on the same endpoint: task latencies, slots, sticky cache.
  expect(text).toMatch(/^temporal_workflow_task_execution_latency_seconds_count\{/m);
  expect(text).toMatch(/^temporal_activity_execution_latency_seconds_count\{/m);
  expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
  expect(text).toMatch(/^temporal_sticky_cache_size\{/m);

  // Every Temporal SDK series the Grafana dashboard (docs/grafana-dashboard.json) queries is exported.
  const sdkSeries = queriedMetricNames().filter((name) => name.startsWith('temporal_'));
  expect(sdkSeries.length).toBeGreaterThan(3);
  const exported = (series: string) =>
    new RegExp(`^${series}[{ ]`, 'm').test(text) ||
    new RegExp(`^${seriesBaseName(series)}_bucket\\{`, 'm').test(text);
  expect(
    sdkSeries.filter((series) => !exported(series)),
    'queried by the dashboard, not exported',
  ).toEqual([]);

  // SIGTERM: the worker stops polling, finishes, exits 0; its endpoint goes with it.
  worker.signal('SIGTERM');
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  expect(worker.output.join('\n')).toContain('[handoff-worker] stopped');
  await expect(fetch(metricsUrl!)).rejects.toThrow();

  // Traces (docs/tracing.md), flushed on the way out: the workflow's spans (made in the bundle's
  // interceptors, exported by the worker's sink) lead to the activity's, and that to the Graph request's.
  expect(collector.serviceNames()).toContain('handoff-worker-under-test');
  const spans = collector.spans();
  const parentOf = (span: OtlpSpan) =>
    spans.find((candidate) => candidate.spanId === span.parentSpanId && candidate.traceId === span.traceId);
  const graphCreate = spans.find((span) => span.name === 'Graph createCall');
  expect(graphCreate, JSON.stringify(spans.map((span) => span.name))).toBeDefined();
  const activity = parentOf(graphCreate!);
  expect(activity?.name).toBe('RunActivity:createCall');
  // The run still holds its group call (`stay`): its own span ends, and is exported, when it closes.
  expect(parentOf(activity!)?.name).toBe('StartActivity:createCall');
  expect(graphCreate!.attributes).toContainEqual({
    key: 'url.template',
    value: { stringValue: '/v1.0/communications/calls' },
  });
}, 180_000);
