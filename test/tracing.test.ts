// Traces (issue 13.4, docs/tracing.md): a real transfer through the real webhook, Temporal server and
// worker with an in-memory span exporter. One trace follows the incoming-call notification from the
// webhook's HTTP request through the signal-with-start, the workflow run and each activity to the Graph
// request it made; a later notification's trace reaches the workflow's signal handler. The worker's
// counters see the run start and close. The OTLP test proves the configured exporter sends.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowInfo } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { tracingFromSettings } from '../src/tracing/configured.js';
import { graphRouteTemplate, tracedFetch } from '../src/tracing/graph-fetch.js';
import { startTracing, type Tracing } from '../src/tracing/tracing.js';
import { createWorkerMetrics, type WorkerMetrics } from '../src/worker/metrics.js';
import { handoffWorkflowSinks } from '../src/worker/workflow-sinks.js';
import { workflowOutcomeOf } from '../src/workflows/workflow-metrics.js';
import {
  type HandoffTestStack,
  startHandoffTestStack,
  startTestTemporal,
  type TestTemporal,
  waitUntil,
} from './support/handoff-stack.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let workerMetrics: WorkerMetrics;
let temporal: TestTemporal;
let stack: HandoffTestStack;

beforeAll(async () => {
  tracing = startTracing({ serviceName: 'handoff-test', spanProcessor: new SimpleSpanProcessor(exporter) });
  workerMetrics = createWorkerMetrics();
  temporal = await startTestTemporal();
  // The worker bundles the sources itself here (interceptors.workflowModules); other tests use a
  // prebuilt bundle, which carries the same interceptors (src/worker/bundle.ts).
  stack = await startHandoffTestStack({ temporal, tracing, workerMetrics });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await temporal?.stop();
  await tracing?.shutdown();
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const parentOf = (span: ReadableSpan): ReadableSpan | undefined =>
  spans().find(
    (candidate) =>
      candidate.spanContext().spanId === span.parentSpanId &&
      candidate.spanContext().traceId === span.spanContext().traceId,
  );
const named = (name: string, traceId?: string): ReadableSpan[] =>
  spans().filter(
    (span) => span.name === name && (traceId === undefined || span.spanContext().traceId === traceId),
  );
/** The chain of span names from `span` up to its trace's root. */
function ancestry(span: ReadableSpan): string[] {
  const names: string[] = [];
  for (let current: ReadableSpan | undefined = span; current; current = parentOf(current))
    names.push(current.name);
  return names;
}
function describeSpans(): string {
  return spans()
    .map(
      (span) =>
        `${span.spanContext().traceId.slice(0, 8)} ${span.spanContext().spanId} <- ${span.parentSpanId ?? '-'} ${span.name}`,
    )
    .join('\n');
}

describe('one trace per notification', () => {
  it('follows the incoming call from the webhook request through the signal, the workflow and its activities to the Graph requests', async () => {
    const { workflowId, handle } = await stack.placeCall();
    const result = await handle.result();
    expect(result.outcome).toBe('completed');

    // The incoming-call notification's request span: the root of the run's trace.
    const root = await waitUntil(
      'the webhook span of the incoming-call notification',
      () =>
        named('POST /api/calls').find(
          (span) => named('SignalWithStartWorkflow:transferCall', span.spanContext().traceId).length > 0,
        ),
      { timeoutMs: 10_000 },
    );
    const traceId = root.spanContext().traceId;
    expect(root.parentSpanId).toBeUndefined();
    expect(root.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/api/calls',
      'http.response.status_code': 202,
    });

    // Workflow spans come through the worker's sink once the run's tasks are done.
    const graphAnswer = await waitUntil(
      'the Graph answerCall span in the same trace',
      () => named('Graph answerCall', traceId)[0],
      { timeoutMs: 10_000 },
    );
    expect(ancestry(graphAnswer), describeSpans()).toEqual([
      'Graph answerCall',
      'RunActivity:answerCall',
      'StartActivity:answerCall',
      'RunWorkflow:transferCall',
      'SignalWithStartWorkflow:transferCall',
      'POST /api/calls',
    ]);
    expect(graphAnswer.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.template': '/v1.0/communications/calls/{id}/answer',
      'http.response.status_code': 202,
    });
    // Route templates, never ids: the call id is nowhere in a Graph span.
    const callId = workflowId.replace(/^[^:]*:/, '');
    for (const span of named('Graph createCall', traceId).concat(
      named('Graph inviteParticipants', traceId),
    )) {
      expect(JSON.stringify(span.attributes)).not.toContain(callId);
      expect(ancestry(span).at(-1)).toBe('POST /api/calls');
    }
    expect(named('Graph inviteParticipants', traceId)[0]?.attributes['url.template']).toBe(
      '/v1.0/communications/calls/{id}/participants/invite',
    );
    await waitUntil('the closed run span', () => named('RunWorkflow:transferCall', traceId)[0], {
      timeoutMs: 10_000,
    });
  }, 120_000);

  it("traces a later notification's request to the workflow's signal handler", async () => {
    const handled = spans().filter((span) => span.name.startsWith('HandleSignal:'));
    expect(handled.length, describeSpans()).toBeGreaterThan(0);
    const chains = handled.map(ancestry);
    // The callback route (workflow id and key in the path) is named by its template.
    expect(chains).toContainEqual([
      expect.stringMatching(/^HandleSignal:/),
      expect.stringMatching(/^SignalWorkflow:/),
      'POST /api/calls/:workflowId/:callbackKey',
    ]);
  });

  it('counts the run started and closed by workflow type and outcome', async () => {
    const started = await workerMetrics.workflowsStarted.get();
    expect(started.values).toContainEqual(
      expect.objectContaining({ labels: { workflow_type: 'transferCall' }, value: 1 }),
    );
    const closed = await workerMetrics.workflowsClosed.get();
    expect(closed.values).toContainEqual(
      expect.objectContaining({
        labels: { workflow_type: 'transferCall', status: 'completed', outcome: 'completed' },
        value: 1,
      }),
    );
  });
});

describe('the workflow metrics sink', () => {
  it('counts a run closed once, even when its close is reported again', async () => {
    const metrics = createWorkerMetrics();
    const { closed } = handoffWorkflowSinks({ metrics }).handoffMetrics;
    const info = { runId: 'run-1' } as WorkflowInfo;
    closed.fn(info, 'botCall', 'completed', 'ended');
    closed.fn(info, 'botCall', 'completed', 'ended');
    closed.fn({ runId: 'run-2' } as WorkflowInfo, 'botCall', 'failed', 'failed');
    const values = (await metrics.workflowsClosed.get()).values;
    expect(values.map(({ labels, value }) => [labels.outcome, value])).toEqual([
      ['ended', 1],
      ['failed', 1],
    ]);
  });

  it("labels the result's own outcome, and nothing else from a result", () => {
    expect(workflowOutcomeOf({ outcome: 'completedUnverified' })).toBe('completedUnverified');
    expect(workflowOutcomeOf({ outcome: '19:meeting_abc@thread.v2' })).toBe('completed');
    expect(workflowOutcomeOf(undefined)).toBe('completed');
  });
});

describe('Graph route templates', () => {
  it('replace ids, keep actions', () => {
    expect(
      graphRouteTemplate(
        'https://graph.microsoft.com/v1.0/communications/calls/57dab8b1-894c-409a-b240-bd8beae78896/operations/0fe0623f-d628-42ed-b4bd-8ac290072cc5',
      ),
    ).toBe('/v1.0/communications/calls/{id}/operations/{id}');
    expect(graphRouteTemplate('https://graph.microsoft.com/v1.0/communications/calls')).toBe(
      '/v1.0/communications/calls',
    );
    expect(graphRouteTemplate('https://graph.microsoft.com/v1.0/communications/calls/abc/keepAlive')).toBe(
      '/v1.0/communications/calls/{id}/keepAlive',
    );
  });
});

describe('OTLP export', () => {
  let collector: Server;
  const received: Array<{ path: string; body: string; contentType: string }> = [];
  const readBody = (request: IncomingMessage) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });

  beforeAll(async () => {
    collector = createServer((request, response) => {
      void readBody(request).then((body) => {
        received.push({
          path: request.url ?? '',
          body,
          contentType: String(request.headers['content-type']),
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it('sends the spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces with OTEL_SERVICE_NAME', async () => {
    const { port } = collector.address() as AddressInfo;
    const config = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_SERVICE_NAME: 'handoff-otlp-test',
    });
    expect(config.tracing).toEqual({
      tracesEndpoint: `http://127.0.0.1:${port}/v1/traces`,
      serviceName: 'handoff-otlp-test',
    });
    const otlp = (await tracingFromSettings(config.tracing))!;
    // A Graph request's span, as a worker makes it (to the collector itself: any answer will do).
    await tracedFetch(otlp.tracer)(`http://127.0.0.1:${port}/v1.0/communications/calls/some-call-id`);
    await otlp.shutdown();

    const exports = received.filter((request) => request.path === '/v1/traces');
    expect(exports.length).toBeGreaterThan(0);
    expect(exports[0]!.contentType).toMatch(/^application\/json/);
    const body = exports.map((request) => request.body).join('\n');
    expect(body).toContain('"handoff-otlp-test"');
    expect(body).toContain('"Graph getCall"');
    expect(body).toContain('/v1.0/communications/calls/{id}');
    expect(body).not.toContain('some-call-id');
  });

  it('is off without an endpoint, and OTEL_SDK_DISABLED turns it off', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }).tracing,
    ).toBeUndefined();
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom/traces' }).tracing,
    ).toEqual({ tracesEndpoint: 'http://collector:4318/custom/traces', serviceName: 'handoff' });
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toThrow(
      /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be a URL/,
    );
    expect(() => loadConfig({ OTEL_SDK_DISABLED: 'yes' })).toThrow(/OTEL_SDK_DISABLED must be true or false/);
  });
});
