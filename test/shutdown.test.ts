// SIGTERM drains (issue 13.5): a real webhook process (src/bin/webhook.ts) is sent SIGTERM while a
// stream of signed notifications arrives. Like Graph, the test sends every notification again, to a
// second webhook process, when it was refused (503) or its connection was gone; then it checks that no
// notification was lost: every one answered 202 reached its workflow, every refusal was a 503 with
// Retry-After, and the process exited 0. Real Temporal, real JWT verification, a stand-in workflow that
// records its deliveries (test/support/workflows/webhook-recorder.ts).
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { transferWorkflowId } from '../src/workflows/definitions.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';
import { startOtlpCollector } from './support/otlp-collector.js';
import { type LocalTemporalEnvironment, startLocalTemporal } from './support/temporal.js';
import { eventually, incomingCallBody } from './support/webhook-fixtures.js';
import { startWebhookProcess, type WebhookProcess } from './support/webhook-process.js';
import { recordedDeliveriesQuery } from './support/workflows/webhook-recorder.js';

const taskQueue = `shutdown-test-${randomUUID()}`;
/** Long enough to see readiness fail and new notifications refused while the process still listens. */
const DRAIN_DELAY_MS = 1_500;
/** Notifications in flight at any time, as Graph sends them for many calls at once. */
const CONCURRENCY = 6;

let temporal: LocalTemporalEnvironment;
let sim: GraphSimulator;
let receiver: BotReceiver;
let worker: Worker;
let workerRun: Promise<void>;
const processes: WebhookProcess[] = [];

beforeAll(async () => {
  [temporal, sim, receiver] = await Promise.all([startLocalTemporal(), startSimulator(), startBotReceiver()]);
  worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./support/workflows/webhook-recorder.ts', import.meta.url)),
  });
  workerRun = worker.run();
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((process) => process.kill()));
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await workerRun;
  await Promise.all([sim?.stop(), receiver?.stop()]);
  await temporal?.teardown();
});

/** A notification token the simulator signed: it places a call to a bot receiver and keeps the bearer. */
async function simulatorToken(): Promise<string> {
  const before = receiver.received.length;
  await sim.placeIncomingCall({ botUrl: receiver.callbackUrl() });
  const received = await receiver.waitFor(before + 1);
  const token = received[before]?.token;
  if (!token) throw new Error('the simulator sent no bearer token');
  return token;
}

function webhookProcess(name: string, drainDelayMs?: number, env?: Record<string, string>): WebhookProcess {
  const started = startWebhookProcess({
    name,
    temporalAddress: temporal.address,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    simulatorUrl: sim.url,
    ...(drainDelayMs !== undefined ? { drainDelayMs } : {}),
    ...(env ? { env } : {}),
  });
  processes.push(started);
  return started;
}

/** One answer to one POST: a status with its Retry-After, or the network error that stood for one. */
type Attempt =
  | { kind: 'answer'; status: number; retryAfter: string | null; sentAt: number }
  | { kind: 'network'; error: string; sentAt: number };

async function postNotification(url: string, callId: string, token: string): Promise<Attempt> {
  const sentAt = Date.now();
  try {
    const response = await fetch(`${url}/api/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(incomingCallBody(callId)),
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return {
      kind: 'answer',
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      sentAt,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { kind: 'network', error: cause?.code ?? String(error), sentAt };
  }
}

describe('SIGTERM on the webhook process', () => {
  it('drains under a stream of notifications: readiness fails, new ones get 503 + Retry-After, none is lost', async () => {
    const draining = webhookProcess('webhook-draining', DRAIN_DELAY_MS);
    const spare = webhookProcess('webhook-spare');
    const [{ webhookUrl: drainingUrl, apiUrl: drainingApiUrl }, { webhookUrl: spareUrl }] = await Promise.all(
      [draining.ready, spare.ready],
    );
    const token = await simulatorToken();

    // Health of the draining process, probed over fresh connections all along.
    const health: Array<{
      at: number;
      readyz: number | 'down';
      healthz: number | 'down';
      apiReadyz: number | 'down';
    }> = [];
    const probe = async (path: string, base = drainingUrl): Promise<number | 'down'> =>
      fetch(`${base}${path}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(3_000) })
        .then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        })
        .catch(() => 'down' as const);

    const firstAttempts = new Map<string, Attempt>();
    const deliveredBy = new Map<string, 'draining' | 'spare'>();
    const spareAttempts: Attempt[] = [];
    let sigtermAt = Number.POSITIVE_INFINITY;
    let exitedAt = Number.POSITIVE_INFINITY;
    void draining.exited.then(() => {
      exitedAt = Date.now();
    });

    /** Graph's side: the draining process first; anything but a 202 goes again, to the spare. */
    const deliver = async (callId: string): Promise<void> => {
      const first = await postNotification(drainingUrl, callId, token);
      firstAttempts.set(callId, first);
      if (first.kind === 'answer' && first.status === 202) {
        deliveredBy.set(callId, 'draining');
        return;
      }
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const retry = await postNotification(spareUrl, callId, token);
        spareAttempts.push(retry);
        if (retry.kind === 'answer' && retry.status === 202) {
          deliveredBy.set(callId, 'spare');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };

    // The stream: CONCURRENCY senders, each posting one new call after the other, until the draining
    // process has been gone for a while.
    const callIds: string[] = [];
    let streaming = true;
    const senders = Array.from({ length: CONCURRENCY }, async () => {
      while (streaming) {
        const callId = randomUUID();
        callIds.push(callId);
        await deliver(callId);
      }
    });
    const prober = (async () => {
      while (streaming) {
        const [readyz, healthz, apiReadyz] = await Promise.all([
          probe('/readyz'),
          probe('/healthz'),
          probe('/readyz', drainingApiUrl),
        ]);
        health.push({ at: Date.now(), readyz, healthz, apiReadyz });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    // SIGTERM once it has accepted a good number of notifications, then stream on past its exit.
    await eventually('20 notifications accepted before SIGTERM', async () =>
      deliveredBy.size >= 20 ? true : undefined,
    );
    sigtermAt = Date.now();
    draining.signal('SIGTERM');
    const exit = await draining.exited;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    streaming = false;
    await Promise.all([...senders, prober]);

    const output = draining.output.join('\n');
    expect(exit, output).toEqual({ code: 0, signal: null });
    expect(output).toContain('SIGTERM: draining for 1500 ms');
    expect(output).toContain('[handoff-webhook] stopped');

    // No notification was lost from Graph's side: each was finally answered 202 by one of the two.
    const undelivered = callIds.filter((callId) => !deliveredBy.has(callId));
    expect(undelivered, `spare attempts: ${JSON.stringify(spareAttempts.slice(0, 5))}`).toEqual([]);

    // Every refusal by the draining process was a 503 with Retry-After, answered between SIGTERM and the exit.
    const refusals = [...firstAttempts.values()].filter(
      (attempt): attempt is Extract<Attempt, { kind: 'answer' }> =>
        attempt.kind === 'answer' && attempt.status !== 202,
    );
    expect(refusals.length, 'notifications refused while draining').toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal.status).toBe(503);
      expect(refusal.retryAfter).toBe('5');
      expect(refusal.sentAt).toBeGreaterThanOrEqual(sigtermAt - 50);
    }
    // A connection that failed did so once the process had closed its listener, never before SIGTERM.
    for (const attempt of firstAttempts.values()) {
      if (attempt.kind === 'network') expect(attempt.sentAt).toBeGreaterThanOrEqual(sigtermAt);
    }

    // Liveness and readiness stay distinct: while draining, /readyz answered 503 and /healthz 200.
    const whileDraining = health.filter(
      (sample) => sample.at > sigtermAt + 200 && sample.at < exitedAt - 200,
    );
    expect(whileDraining.length).toBeGreaterThan(0);
    expect(whileDraining.some((sample) => sample.readyz === 503 && sample.healthz === 200)).toBe(true);
    // The API listener of the same process drains with it.
    expect(whileDraining.some((sample) => sample.apiReadyz === 503)).toBe(true);
    expect(health.some((sample) => sample.at < sigtermAt && sample.readyz === 200)).toBe(true);

    // Every 202 reached its workflow: the stand-in transfer of each call recorded the incoming call.
    const accepted = [...deliveredBy.keys()];
    expect(accepted.length).toBe(callIds.length);
    const fromDraining = accepted.filter((callId) => deliveredBy.get(callId) === 'draining');
    expect(fromDraining.length).toBeGreaterThanOrEqual(20);
    for (const callId of accepted) {
      const deliveries = await eventually(`the delivery to ${callId}`, async () => {
        const recorded = await temporal.client.workflow
          .getHandle(transferWorkflowId(callId))
          .query(recordedDeliveriesQuery);
        return recorded.length > 0 ? recorded : undefined;
      });
      expect(deliveries[0]?.notifications[0]?.callId).toBe(callId);
    }
  }, 180_000);
});

describe('SIGTERM on a webhook process that exports traces', () => {
  it('sends the spans of its last requests to the OTLP endpoint before it exits', async () => {
    const collector = await startOtlpCollector();
    try {
      const traced = webhookProcess('webhook-traced', undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: 'handoff-webhook-under-test',
      });
      const { webhookUrl } = await traced.ready;
      const answer = await postNotification(webhookUrl, randomUUID(), await simulatorToken());
      expect(answer).toMatchObject({ kind: 'answer', status: 202 });
      // The batch exporter waits 5 s between exports: an immediate SIGTERM leaves the spans to the
      // flush on the way out.
      traced.signal('SIGTERM');
      expect(await traced.exited, traced.output.join('\n')).toEqual({ code: 0, signal: null });

      const spans = collector.spans();
      expect(collector.serviceNames()).toContain('handoff-webhook-under-test');
      const request = spans.find((span) => span.name === 'POST /api/calls');
      expect(request, JSON.stringify(spans.map((span) => span.name))).toBeDefined();
      // The signal-with-start the request sent is its child, in the same trace.
      const signal = spans.find((span) => span.name === 'SignalWithStartWorkflow:transferCall');
      expect(signal).toMatchObject({ traceId: request!.traceId, parentSpanId: request!.spanId });
    } finally {
      await collector.close();
    }
  }, 120_000);
});
