/**
 * The rows of issue 12's table, each as a Handoff side and a bare side of the same shape. A side
 * is set up once per row (parked workflows, say) and then measured once per pair.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { type InjectedSinks, Worker } from '@temporalio/worker';
import type { Sinks } from '@temporalio/workflow';
import { seedMeetingTarget } from '../../src/config/env.js';
import { handoffWorkflowSinks } from '../../src/worker/workflow-sinks.js';
import { transferWorkflowId } from '../../src/workflows/definitions.js';
import type { BotReceiver } from '../../test/support/bot-receiver.js';
import { type HandoffTestStack, waitUntil } from '../../test/support/handoff-stack.js';
import { callStateBody, incomingCallBody, stackCallbackUri } from '../../test/support/webhook-fixtures.js';
import { startWebhookReplicas } from '../soak/webhooks.js';
import { bareNotificationBody } from './bare-activities.js';
import type { BareWebhook } from './bare-webhook.js';
import type { BenchWebhook } from './handoff-webhook.js';
import { postExpecting, runClosedLoop } from './load.js';
import type { RowSizes } from './options.js';
import { type Figures, latencyFigures, percentile } from './stats.js';

export interface BenchContext {
  /** The bench's dev server, for the processes row 5 starts. */
  temporal: { address: string; namespace: string };
  /** The worker and webhook settings passed to Handoff's side (run.ts, tuningFromEnvironment). */
  handoffEnv: Record<string, string>;
  stack: HandoffTestStack;
  client: Client;
  receiver: BotReceiver;
  handoffWebhook: BenchWebhook;
  bare: BareWebhook;
  bareTaskQueue: string;
  /** The bundles both workers run: row 6 replays against them. */
  workflowBundlePath: string;
  bareWorkflowBundlePath: string;
  sizes: RowSizes;
  log(line: string): void;
  /** Registers a clean-up step of a row, run when the bench stops. */
  onStop(step: () => Promise<unknown>): void;
}

/** Webhook replicas row 2 spreads its transfers over at most. */
const MAX_LANES = 16;

export interface Side {
  /** Runs one measurement; `warmUp` runs a small one whose figures are thrown away. */
  measure(warmUp: boolean): Promise<Figures>;
}

export interface RowBench {
  handoff: Side;
  bare: Side;
  /**
   * Every measurement warms itself up (row 5: fresh processes, warmed before their baseline is
   * read), so the row's separate warm-up run would only cost time.
   */
  warmsItself?: boolean;
}

/** Throws when a side's run had failures: a ratio over failed requests would flatter it. */
export function checkFailures(what: string, failed: number, errors: string[]): void {
  if (failed > 0) throw new Error(`${what}: ${failed} requests failed, e.g. ${errors.join('; ')}`);
}

/** A caller in the shape of the seeds' identities. */
function benchCaller(index: number) {
  return { user: { id: randomUUID(), displayName: `Bench caller ${index + 1}` } };
}

/** POST /api/transfers for an incoming call placed to the bot receiver; the transfer's workflow id. */
export async function startSeedTransfer(
  context: Pick<BenchContext, 'stack' | 'receiver'>,
  index: number,
  timeouts: Record<string, number> = {},
): Promise<{ callId: string; workflowId: string }> {
  const { stack, receiver } = context;
  const caller = benchCaller(index);
  const { callId } = await stack.sim.placeIncomingCall({ botUrl: receiver.callbackUrl(), caller });
  const answer = await stack.api('/api/transfers', {
    callId,
    invitee: caller,
    target: seedMeetingTarget,
    timeouts,
  });
  if (answer.status !== 201) {
    throw new Error(`POST /api/transfers answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return { callId, workflowId: transferWorkflowId(callId) };
}

/**
 * Row 1: signed notification POST → signal → 202, `webhookInFlight` in flight. Handoff's side
 * posts a call state change to transfers parked before their call is established (their answer
 * was sent, its notifications dropped, the wait for `established` set to an hour); the bare side
 * posts the same body to parked bare workflows through a bare route.
 */
export async function webhookRow(context: BenchContext): Promise<RowBench> {
  const { stack, sizes, log } = context;
  log(`row 1: parking ${sizes.webhookWorkflows} transfers and ${sizes.webhookWorkflows} bare workflows`);
  stack.sim.configure({ notifications: { dropRate: 1 } });
  const parked: Array<{ callId: string; path: string }> = [];
  try {
    for (let index = 0; index < sizes.webhookWorkflows; index++) {
      const { callId, workflowId } = await startSeedTransfer(context, index, {
        callEstablishedMs: 3_600_000,
      });
      parked.push({ callId, path: new URL(stackCallbackUri(stack, workflowId)).pathname });
    }
    // Parked once the answer went out: from then on the transfer waits for notifications only.
    await waitUntil(
      'the parked transfers to answer their calls',
      () =>
        parked.every(({ callId }) =>
          stack.sim.requests.some(
            (request) => request.method === 'POST' && request.path.includes(`${callId}/answer`),
          ),
        ) || undefined,
      { timeoutMs: 120_000, intervalMs: 200 },
    );
  } finally {
    stack.sim.configure({ notifications: { dropRate: 0 } });
  }
  const bareIds: string[] = [];
  for (let index = 0; index < sizes.webhookWorkflows; index++) {
    const workflowId = `bench-parked-${randomUUID()}`;
    await context.client.workflow.start('bareParked', { taskQueue: context.bareTaskQueue, workflowId });
    bareIds.push(workflowId);
  }

  const requestsFor = (warmUp: boolean) =>
    warmUp ? Math.min(20, sizes.webhookRequests) : sizes.webhookRequests;
  const figuresOf = (total: number, result: Awaited<ReturnType<typeof runClosedLoop>>): Figures => ({
    throughput: (total - result.failed) / (result.wallMs / 1000),
    ...latencyFigures(result.latenciesMs),
  });
  return {
    handoff: {
      async measure(warmUp) {
        const total = requestsFor(warmUp);
        // One token for the run, as Graph reuses one for a while: a token seen before.
        const authorization = `Bearer ${await context.handoffWebhook.token()}`;
        const result = await runClosedLoop(total, sizes.webhookInFlight, (index) => {
          const target = parked[index % parked.length]!;
          return postExpecting(
            `${context.handoffWebhook.url}${target.path}`,
            callStateBody(target.callId, 'establishing'),
            202,
            { authorization },
          );
        });
        checkFailures('row 1, Handoff', result.failed, result.errors);
        return figuresOf(total, result);
      },
    },
    bare: {
      async measure(warmUp) {
        const total = requestsFor(warmUp);
        const result = await runClosedLoop(total, sizes.webhookInFlight, (index) => {
          const workflowId = bareIds[index % bareIds.length]!;
          return postExpecting(
            `${context.bare.notifyUrl}/${workflowId}`,
            bareNotificationBody(workflowId, 0),
            202,
          );
        });
        checkFailures('row 1, bare', result.failed, result.errors);
        return figuresOf(total, result);
      },
    },
  };
}

/** Transfers per minute and the p50/p99 of start → close, in seconds. */
function transferFigures(count: number, wallMs: number, durationsMs: number[]): Figures {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  return {
    perMinute: count / (wallMs / 60_000),
    p50Seconds: percentile(sorted, 0.5) / 1000,
    p99Seconds: percentile(sorted, 0.99) / 1000,
  };
}

/**
 * Row 2: `transfers` seed transfers started at once (POST /api/transfers, seed meeting target,
 * the simulator answering and notifying) until every one has completed; bare: as many bareTransfer
 * workflows (3 activities, 10 signals) started through the bare route.
 */
export async function transfersRow(context: BenchContext): Promise<RowBench> {
  const { stack, sizes, client } = context;
  // The simulator posts one callback origin's notifications one at a time, where Graph posts them
  // concurrently (bench/soak/webhooks.ts): a lane per transfer, up to MAX_LANES, as the bare
  // side's notifications run one lane per workflow.
  const replicas = await startWebhookReplicas(stack, Math.min(sizes.transfers, MAX_LANES) - 1);
  context.onStop(() => Promise.all(replicas.map((replica) => replica.stop())));
  const apiUrls = [stack.apiUrl, ...replicas.map((replica) => replica.apiUrl)];
  return {
    handoff: {
      async measure(warmUp) {
        const count = warmUp ? 1 : sizes.transfers;
        const callers = Array.from({ length: count }, (_, index) => benchCaller(index));
        // Graph's side first: the calls ring before the clock starts.
        const callIds = await Promise.all(
          callers.map(async (caller) => {
            const { callId } = await stack.sim.placeIncomingCall({
              botUrl: context.receiver.callbackUrl(),
              caller,
            });
            return callId;
          }),
        );
        const started = performance.now();
        const durations = await Promise.all(
          callIds.map(async (callId, index) => {
            const at = performance.now();
            await postExpecting(
              `${apiUrls[index % apiUrls.length]}/api/transfers`,
              { callId, invitee: callers[index], target: seedMeetingTarget },
              201,
              { authorization: `Bearer ${stack.apiToken}` },
            );
            await stack.handle(transferWorkflowId(callId)).result();
            return performance.now() - at;
          }),
        );
        return transferFigures(count, performance.now() - started, durations);
      },
    },
    bare: {
      async measure(warmUp) {
        const count = warmUp ? 1 : sizes.transfers;
        const ids = Array.from({ length: count }, () => `bench-transfer-${randomUUID()}`);
        const started = performance.now();
        const durations = await Promise.all(
          ids.map(async (workflowId) => {
            const at = performance.now();
            await postExpecting(
              `${context.bare.url}/bare/transfers/${workflowId}`,
              { notifyUrl: context.bare.notifyUrl },
              201,
            );
            await client.workflow.getHandle(workflowId).result();
            return performance.now() - at;
          }),
        );
        return transferFigures(count, performance.now() - started, durations);
      },
    },
  };
}

/**
 * Row 3: `incomingCalls` incoming-call notifications posted together (signed, to the bot's calling
 * URL; the webhook starts each transfer with the default target), timed from the burst to each
 * answer request the simulator received; then every transfer runs to its end before the next side.
 * Bare: the same bodies to a bare route that signal-with-starts a bareTransfer, whose first
 * request is timed at the bare webhook.
 */
export async function incomingCallsRow(context: BenchContext): Promise<RowBench> {
  const { stack, sizes, client } = context;
  return {
    handoff: {
      async measure(warmUp) {
        const count = warmUp ? 1 : sizes.incomingCalls;
        const callIds = await Promise.all(
          Array.from({ length: count }, async (_, index) => {
            const { callId } = await stack.sim.placeIncomingCall({
              botUrl: context.receiver.callbackUrl(),
              caller: benchCaller(index),
            });
            return callId;
          }),
        );
        const authorization = `Bearer ${await context.handoffWebhook.token()}`;
        const burstAt = Date.now();
        await Promise.all(
          callIds.map((callId) =>
            postExpecting(`${context.handoffWebhook.url}/api/calls`, incomingCallBody(callId), 202, {
              authorization,
            }),
          ),
        );
        const answeredAt = await waitUntil(
          'every incoming call of the burst to be answered',
          () => {
            const times = callIds.map(
              (callId) =>
                stack.sim.requests.find(
                  (request) => request.method === 'POST' && request.path.endsWith(`/calls/${callId}/answer`),
                )?.at,
            );
            return times.every((time) => time !== undefined) ? (times as Date[]) : undefined;
          },
          { timeoutMs: 300_000, intervalMs: 50 },
        );
        await Promise.all(callIds.map((callId) => stack.handle(transferWorkflowId(callId)).result()));
        return latencyFigures(
          answeredAt.map((time) => time.getTime() - burstAt),
          'answer',
        );
      },
    },
    bare: {
      async measure(warmUp) {
        const count = warmUp ? 1 : sizes.incomingCalls;
        const ids = Array.from({ length: count }, () => `bench-incoming-${randomUUID()}`);
        const burstAt = performance.now();
        await Promise.all(
          ids.map((workflowId) =>
            postExpecting(`${context.bare.incomingUrl}/${workflowId}`, incomingCallBody(workflowId), 202),
          ),
        );
        await Promise.all(ids.map((workflowId) => client.workflow.getHandle(workflowId).result()));
        const latencies = ids.map((workflowId) => {
          const at = context.bare.answeredAt.get(workflowId);
          if (at === undefined) throw new Error(`row 3, bare: ${workflowId} finished without an answer`);
          return at - burstAt;
        });
        return latencyFigures(latencies, 'answer');
      },
    },
  };
}

/** Completed workflows each side records once per bench for row 6, replayed over and over. */
const REPLAY_POOL = 5;

/**
 * Row 6: histories replayed per second. Each side first runs a few workflows to completion on the
 * bench's server (seed transfers; bareTransfers) and fetches their histories; a pair then replays
 * `replayHistories` of them (the pool, round robin) with Worker.runReplayHistories against that
 * side's bundled workflow code, as `npm run replay` and a deployment's replay check do.
 */
export async function replayRow(context: BenchContext): Promise<RowBench> {
  const { stack, sizes, client, log } = context;
  const pool = Math.min(REPLAY_POOL, sizes.replayHistories);
  log(`row 6: recording ${pool} seed transfers and ${pool} bare transfers to replay`);
  const handoffHistories = await Promise.all(
    Array.from({ length: pool }, async (_, index) => {
      const { workflowId } = await startSeedTransfer(context, index);
      await stack.handle(workflowId).result();
      return stack.handle(workflowId).fetchHistory();
    }),
  );
  const bareHistories = await Promise.all(
    Array.from({ length: pool }, async () => {
      const workflowId = `bench-replayed-${randomUUID()}`;
      await postExpecting(
        `${context.bare.url}/bare/transfers/${workflowId}`,
        { notifyUrl: context.bare.notifyUrl },
        201,
      );
      await client.workflow.getHandle(workflowId).result();
      return client.workflow.getHandle(workflowId).fetchHistory();
    }),
  );
  const replaySide = (histories: History[], codePath: string, sinks?: InjectedSinks<Sinks>): Side => ({
    async measure(warmUp) {
      const count = warmUp ? Math.min(2, sizes.replayHistories) : sizes.replayHistories;
      const items = Array.from({ length: count }, (_, index) => ({
        workflowId: `replayed-${index}`,
        history: histories[index % histories.length] as History,
      }));
      const started = performance.now();
      let failed = 0;
      const options = { workflowBundle: { codePath }, ...(sinks ? { sinks } : {}) };
      for await (const result of Worker.runReplayHistories(options, items)) {
        if (result.error) failed += 1;
      }
      if (failed > 0) throw new Error(`row 6: ${failed} of ${count} histories did not replay`);
      return { historiesPerSecond: count / ((performance.now() - started) / 1000) };
    },
  });
  return {
    // With the sinks its workflows call, as `npm run replay` registers them (src/bin/replay.ts).
    handoff: replaySide(handoffHistories, context.workflowBundlePath, handoffWorkflowSinks({})),
    bare: replaySide(bareHistories, context.bareWorkflowBundlePath),
  };
}

/** The sim's first create-call request for a transfer's group call, after `since`. */
function groupCallRequestAt(stack: HandoffTestStack, workflowId: string, since: number): number | undefined {
  const request = stack.sim.requests.find(
    (candidate) =>
      candidate.method === 'POST' &&
      /\/communications\/calls$/.test(candidate.path) &&
      candidate.at.getTime() >= since - 5 &&
      JSON.stringify(candidate.body ?? '').includes(workflowId),
  );
  return request?.at.getTime();
}

/**
 * Row 4: a notification → the next Graph request, `nextInFlight` transfers at once. Handoff: that
 * many transfers parked after their answer (its notifications dropped, the wait for `established`
 * an hour), then each is sent a signed `established` for its P2P call through the webhook, timed
 * to its create-call request at the simulator; then they run to their end. Bare: as many
 * bareNextRequest workflows, each sent one notification through the bare route, timed to its
 * request at the bare webhook.
 */
export async function nextRequestRow(context: BenchContext): Promise<RowBench> {
  const { stack, sizes, client } = context;
  const countFor = (warmUp: boolean) => (warmUp ? Math.min(2, sizes.nextInFlight) : sizes.nextInFlight);
  return {
    handoff: {
      async measure(warmUp) {
        const count = countFor(warmUp);
        stack.sim.configure({ notifications: { dropRate: 1 } });
        const parked: Array<{ callId: string; workflowId: string }> = [];
        try {
          for (let index = 0; index < count; index++) {
            parked.push(await startSeedTransfer(context, index, { callEstablishedMs: 3_600_000 }));
          }
          await waitUntil(
            'the parked transfers to answer their calls',
            () =>
              parked.every(({ callId }) =>
                stack.sim.requests.some(
                  (request) => request.method === 'POST' && request.path.endsWith(`/calls/${callId}/answer`),
                ),
              ) || undefined,
            { timeoutMs: 120_000, intervalMs: 100 },
          );
        } finally {
          stack.sim.configure({ notifications: { dropRate: 0 } });
        }
        const authorization = `Bearer ${await context.handoffWebhook.token()}`;
        const sentAt = new Map<string, number>();
        await Promise.all(
          parked.map(async ({ callId, workflowId }) => {
            const path = new URL(stackCallbackUri(stack, workflowId)).pathname;
            sentAt.set(workflowId, Date.now());
            await postExpecting(
              `${context.handoffWebhook.url}${path}`,
              callStateBody(callId, 'established'),
              202,
              { authorization },
            );
          }),
        );
        const latencies = await waitUntil(
          'every parked transfer to send its create-call request',
          () => {
            const times = parked.map(({ workflowId }) => {
              const at = groupCallRequestAt(stack, workflowId, sentAt.get(workflowId) ?? 0);
              return at === undefined ? undefined : at - (sentAt.get(workflowId) ?? 0);
            });
            return times.every((time) => time !== undefined) ? (times as number[]) : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 50 },
        );
        // To their end before the other side runs; how they end is not this row's business.
        await Promise.all(
          parked.map(({ workflowId }) =>
            stack
              .handle(workflowId)
              .result()
              .catch(() => undefined),
          ),
        );
        return latencyFigures(latencies, 'next');
      },
    },
    bare: {
      async measure(warmUp) {
        const count = countFor(warmUp);
        const ids = Array.from({ length: count }, () => `bench-next-${randomUUID()}`);
        await Promise.all(
          ids.map((workflowId) =>
            client.workflow.start('bareNextRequest', {
              taskQueue: context.bareTaskQueue,
              workflowId,
              args: [{ notifyUrl: context.bare.notifyUrl, answerUrl: context.bare.answerUrl }],
            }),
          ),
        );
        // Parked: each has run its first workflow task and waits for its notification.
        await waitUntil(
          'the bare workflows to park',
          async () => {
            const histories = await Promise.all(
              ids.map((workflowId) => client.workflow.getHandle(workflowId).fetchHistory()),
            );
            return (
              histories.every((history) =>
                (history.events ?? []).some((event) => event.workflowTaskCompletedEventAttributes),
              ) || undefined
            );
          },
          { timeoutMs: 120_000, intervalMs: 100 },
        );
        const sentAt = new Map<string, number>();
        await Promise.all(
          ids.map(async (workflowId) => {
            sentAt.set(workflowId, performance.now());
            await postExpecting(
              `${context.bare.notifyUrl}/${workflowId}`,
              bareNotificationBody(workflowId, 1),
              202,
            );
          }),
        );
        await Promise.all(ids.map((workflowId) => client.workflow.getHandle(workflowId).result()));
        const latencies = ids.map((workflowId) => {
          const at = context.bare.answeredAt.get(workflowId);
          if (at === undefined) throw new Error(`row 4, bare: ${workflowId} finished without its request`);
          return at - (sentAt.get(workflowId) ?? 0);
        });
        return latencyFigures(latencies, 'next');
      },
    },
  };
}
