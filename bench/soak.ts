/**
 * The soak (issue 4, "Done when"; docs/soak.md): many transfers at once through the Graph
 * simulator with hostile notification traffic and throttling, while the worker process is
 * SIGKILLed and restarted at random moments. Then it checks what Graph was asked to do: no
 * answer, group call or invite carried out twice for one transfer, no group call left behind.
 *
 *   npm run soak -- --transfers 200 --kills 2 --seed 7
 *
 * Everything runs on this machine: a Temporal dev server (SQLite in a temp folder), the
 * simulator, the webhook with JWT verification on (in this process) and the worker as a child
 * process (`node --import tsx src/bin/worker.ts`), as docker-compose runs it.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { seedMeetingTarget } from '../src/config/env.js';
import type { IdentitySet } from '../src/graph/index.js';
import { createRandom, type Random } from '../src/simulator/random.js';
import { type DevServer, startDevServer } from '../src/temporal/dev-server.js';
import { projectRoot } from '../src/temporal/project-root.js';
import { HandoffTransferState } from '../src/temporal/search-attributes.js';
import { transferWorkflowId } from '../src/workflows/definitions.js';
import type { GroupCallOwnerResult } from '../src/workflows/group-call-owner/group-call-owner.js';
import {
  TRANSFER_FAILED,
  type TransferResult,
  type TransferTimeouts,
} from '../src/workflows/transfer/types.js';
import { type BotReceiver, startBotReceiver } from '../test/support/bot-receiver.js';
import {
  buildTestWorkflowBundle,
  describeHistory,
  type HandoffTestStack,
  type HistoryEvent,
  startHandoffTestStack,
  type TestWorkflowBundle,
} from '../test/support/handoff-stack.js';
import { startWorkerProcess, type WorkerProcess } from '../test/support/worker-process.js';
import {
  describeDuplicate,
  findCallsWithoutOwner,
  findDuplicateSideEffects,
  findInconsistentTransfers,
  findLapsedKeepAlives,
  findOrphanedGroupCalls,
  findSilentCallers,
  isCompensatedTwin,
  type TransferOutcome,
} from './soak/audit.js';
import { type SoakCluster, soakCluster, startWebhookPool, type WebhookPool } from './soak/cluster.js';
import { summarizeHistories } from './soak/histories.js';
import { type ReportPoint, type SoakReportInput, writeSoakReport } from './soak/html-report.js';
import { countNotificationSignals, findLostNotifications } from './soak/lost-notifications.js';
import { startUsageMonitor, type UsageMonitor } from './soak/monitor.js';
import { parseSoakArgs, type SoakOptions, SoakUsageError, usage } from './soak/options.js';
import { type Disruption, type DisruptionKind, graphSideOutages } from './soak/outages.js';
import {
  type ClusterSoakReport,
  formatSummary,
  graphRequestStats,
  groupReasons,
  notificationStats,
  peakConcurrency,
  percentile,
  type SoakSummary,
  type WorkerKill,
} from './soak/report.js';
import { startWebhookReplicas } from './soak/webhooks.js';

/**
 * Waits short enough that a dropped notification is reconciled (a GET of the call or operation)
 * in seconds; the workflow defaults (30 s / 60 s) suit Graph's real pace. The transfers are
 * started through POST /api/transfers, which takes these; the incoming-call policy would use the
 * defaults.
 */
const soakTimeouts: Partial<TransferTimeouts> = {
  callEstablishedMs: 5_000,
  inviteCompletedMs: 5_000,
  originalCallEndedMs: 5_000,
};

/** Graph ends a call that had no keepAlive for 45 minutes (design.md, "Known traps"). */
const GRAPH_KEEP_ALIVE_LAPSE_MS = 45 * 60 * 1000;

/** Waits until no strayCall workflow runs (bounded); returns how many there were in all. */
async function untilStrayOwnersDone(client: Client, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = await client.workflow.count(`WorkflowType = 'strayCall' AND ExecutionStatus = 'Running'`);
    if (running.count === 0 || Date.now() > deadline) break;
    await sleep(500);
  }
  return (await client.workflow.count(`WorkflowType = 'strayCall'`)).count;
}

/** Longer than the Graph client's request timeout (10 s): the response is lost. */
const LOST_RESPONSE_DELAY_MS = 12_000;

/** A kill comes this long, plus up to KILL_JITTER_MS, after the worker it kills started polling. */
const MIN_KILL_DELAY_MS = 2_000;
const KILL_JITTER_MS = 3_000;
/** Kills come before this share of the transfers has closed. */
const MAX_KILL_SHARE = 0.75;

function log(line: string): void {
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
}

/** An id in the shape of a Graph id, drawn from the soak's seed. */
function seededGuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => random.int(16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** What the transfer's closing says: its result, or the TransferResult its TransferFailed failure carries. */
async function outcomeOf(
  stack: HandoffTestStack,
  workflowId: string,
  p2pCallId: string,
): Promise<TransferOutcome> {
  // While the cluster's Temporal services restart, the long poll fails with UNAVAILABLE: ask again.
  for (let attempt = 1; ; attempt++) {
    const outcome = await outcomeOnce(stack, workflowId, p2pCallId);
    if (!outcome.transportError || attempt >= OUTCOME_ATTEMPTS) {
      const { transportError: _, ...rest } = outcome;
      return rest;
    }
    await sleep(2_000);
  }
}

/** Reading a transfer's outcome survives this many failed reads, 2 s apart (a Temporal restart). */
const OUTCOME_ATTEMPTS = 150;

async function outcomeOnce(
  stack: HandoffTestStack,
  workflowId: string,
  p2pCallId: string,
): Promise<TransferOutcome & { transportError?: boolean }> {
  try {
    const closed = (await stack.handle(workflowId).result()) as TransferResult | GroupCallOwnerResult;
    // With --hold-group-call the run chain ends with the group call's owner, which carries the transfer's result.
    const result = 'transfer' in closed ? closed.transfer : closed;
    return { workflowId, p2pCallId, status: 'completed', result };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) {
      return {
        workflowId,
        p2pCallId,
        status: 'other',
        reason: `could not read the outcome: ${String(error)}`,
        transportError: true,
      };
    }
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.type === TRANSFER_FAILED) {
      const result = cause.details?.[0] as TransferResult | undefined;
      return {
        workflowId,
        p2pCallId,
        status: 'failed',
        ...(result ? { result } : {}),
        reason: result?.reason ?? cause.message,
      };
    }
    const failed = cause instanceof ApplicationFailure;
    return {
      workflowId,
      p2pCallId,
      status: failed ? 'failed' : 'other',
      reason: `${cause?.name ?? 'failure'}: ${cause?.message ?? error.message}`,
    };
  }
}

interface StartAnswer {
  started: boolean;
  reason?: string;
}

/**
 * POST /api/transfers, as another service would. A 503 says Temporal did not answer within the
 * webhook's deadline (a busy machine), not that the start failed: it may have gone through. So
 * before each retry the soak asks Temporal whether the workflow exists; a 409 on a retry says
 * the same.
 */
async function startTransfer(
  stack: HandoffTestStack,
  /** Asked again for each attempt: a webhook restarted by the cluster soak listens elsewhere. */
  apiUrl: () => string,
  callId: string,
  invitee: IdentitySet,
): Promise<StartAnswer> {
  const exists = () =>
    stack
      .handle(transferWorkflowId(callId))
      .describe()
      .then(
        () => true,
        () => false,
      );
  let last = '';
  for (let attempt = 1; attempt <= 10; attempt++) {
    try {
      const response = await fetch(`${apiUrl()}/api/transfers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ callId, invitee, target: seedMeetingTarget, timeouts: soakTimeouts }),
      });
      const text = await response.text();
      if (response.status === 201) return { started: true };
      if (response.status === 409 && attempt > 1) return { started: true };
      last = `HTTP ${response.status}: ${text}`;
      if (response.status < 500) return { started: false, reason: last };
    } catch (error) {
      last = `POST /api/transfers failed: ${String(error)}`;
    }
    await sleep(1_000 * attempt);
    if (await exists()) return { started: true };
  }
  return { started: false, reason: last };
}

interface SoakRun {
  summary: SoakSummary;
  runDir: string;
  /** The HTML report's chart (bench/soak/html-report.ts). */
  chart: Omit<SoakReportInput, 'summaryText' | 'pass' | 'title'>;
}

/**
 * Graph's retries on the cluster: a restart of the Temporal services takes tens of seconds, during
 * which the webhooks answer 503. The simulator's default (3 attempts, 20 ms apart) would give up on
 * those notifications within 100 ms; 10 attempts from 500 ms, doubling, span about 4 minutes.
 */
const clusterNotificationRetries = { maxAttempts: 10, retryDelayMs: 500 };

/**
 * The signals in every run of a workflow (a transfer that continued as new keeps its id): asked only
 * for workflows whose latest run holds fewer signals than the webhooks acknowledged.
 */
async function signalsInEveryRun(client: Client, workflowId: string): Promise<number> {
  let total = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    total += countNotificationSignals(history.events ?? []);
  }
  return total;
}

async function runSoak(options: SoakOptions): Promise<SoakRun> {
  const random = createRandom(options.seed);
  const runDir = mkdtempSync(join(tmpdir(), 'handoff-soak-'));
  // The dev server writes every signal, task and timer to SQLite, and on a disk its fsyncs are the
  // soak's bottleneck (notifications then queue for a minute). A RAM disk, where there is one.
  const dbDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'handoff-soak-db-'));
  const dbFile = join(dbDir, 'temporal.db');
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanUp = async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        log(`clean-up step failed: ${String(error)}`);
      }
    }
  };
  const monitor: UsageMonitor = startUsageMonitor();
  const workers: WorkerProcess[] = [];
  let summary: SoakSummary | undefined;

  try {
    log(`run folder ${runDir}`);
    let temporal: { address: string; namespace: string };
    let cluster: SoakCluster | undefined;
    let bundle: TestWorkflowBundle;
    if (options.cluster) {
      log(
        options.clusterAddress
          ? `using the cluster at ${options.clusterAddress}; bundling the workflows`
          : 'starting a Temporal cluster (PostgreSQL + 4 services) and bundling the workflows',
      );
      const [started, built] = await Promise.all([
        soakCluster(options.clusterAddress, log),
        buildTestWorkflowBundle(),
      ]);
      cluster = started;
      bundle = built;
      cleanups.push(() => {
        // Its logs outlive its temp folder.
        if (started.dataDir && existsSync(join(started.dataDir, 'logs')))
          cpSync(join(started.dataDir, 'logs'), join(runDir, 'cluster-logs'), { recursive: true });
        return started.stop();
      });
      for (const process of started.processes()) monitor.watch(process.name, process.pid);
      temporal = { address: started.address, namespace: started.namespace };
      log(`cluster frontend ${started.address}`);
    } else {
      log('starting the Temporal dev server and bundling the workflows');
      const temporalLog: string[] = [];
      const [devServer, built]: [DevServer, TestWorkflowBundle] = await Promise.all([
        startDevServer({ dbFile, log: (line) => temporalLog.push(line) }),
        buildTestWorkflowBundle(),
      ]);
      bundle = built;
      cleanups.push(() => {
        writeFileSync(join(runDir, 'temporal.log'), temporalLog.join('\n'));
        return devServer.stop();
      });
      monitor.watch('temporal dev server', devServer.pid);
      temporal = devServer;
    }
    cleanups.push(() => bundle.remove());

    const receiver: BotReceiver = await startBotReceiver();
    cleanups.push(() => receiver.stop());
    // Call ownership (issue 10): hold each group call to its end, with short keep-alive intervals.
    const policyEnv: Record<string, string> = {
      HANDOFF_KEEP_ALIVE_INTERVAL_MS: String(options.keepAliveMs),
      ...(options.holdGroupCallSeconds > 0
        ? {
            HANDOFF_BOT_LEG_AFTER_TRANSFER: 'stay',
            HANDOFF_STAY_MAX_DURATION_MS: String(options.holdGroupCallSeconds * 1000),
          }
        : {}),
    };
    const stack = await startHandoffTestStack({
      temporal,
      worker: false,
      workflowBundlePath: bundle.path,
      env: policyEnv,
      simulator: {
        seed: options.seed,
        notifications: {
          reorder: true,
          duplicateRate: options.duplicate,
          dropRate: options.drop,
          delayMs: options.delayMs,
          ...(options.cluster ? clusterNotificationRetries : {}),
        },
        faults: { throttleRate: options.throttle, throttleStatuses: [429, 503], retryAfterSeconds: 1 },
      },
    });
    cleanups.push(() => stack.stop());
    const { sim } = stack;
    let apiUrlFor: (index: number) => string;
    let pool: WebhookPool | undefined;
    if (options.cluster) {
      // Webhook processes behind the round-robin proxy; the stack's own webhook stays unused.
      log(`starting ${options.webhooks} webhook processes behind a round-robin proxy`);
      const started = await startWebhookPool({
        count: options.webhooks,
        temporalAddress: temporal.address,
        namespace: temporal.namespace,
        taskQueue: stack.taskQueue,
        simulatorUrl: sim.url,
        apiToken: stack.apiToken,
        env: policyEnv,
      });
      pool = started;
      cleanups.push(async () => {
        await started.stop();
        for (const webhook of started.all())
          writeFileSync(join(runDir, `${webhook.name}.log`), webhook.output.join('\n'));
      });
      for (const webhook of started.current()) monitor.watch(webhook.name, webhook.pid);
      apiUrlFor = (index) => started.apiUrl(index);
      log(
        `simulator ${sim.url}, proxy ${started.proxy.url} -> ${started.proxy.backends().join(' ')} (JWT verification on), task queue ${stack.taskQueue}`,
      );
    } else {
      const replicas = await startWebhookReplicas(stack, options.webhooks - 1);
      cleanups.push(async () => {
        await Promise.all(replicas.map((replica) => replica.stop()));
      });
      const webhookUrls = [stack.webhookUrl, ...replicas.map((replica) => replica.url)];
      const apiUrls = [stack.apiUrl, ...replicas.map((replica) => replica.apiUrl)];
      apiUrlFor = (index) => apiUrls[index % apiUrls.length] as string;
      log(
        `simulator ${sim.url}, webhooks ${webhookUrls.join(' ')} (JWT verification on), task queue ${stack.taskQueue}`,
      );
    }

    if (options.lostResponses > 0) {
      // Served at once (notifications queued as usual), answered after the client's 10 s timeout.
      for (const path of [/\/answer$/, /\/communications\/calls$/, /\/participants\/invite$/]) {
        sim.injectFault({
          method: 'POST',
          path,
          delayMs: LOST_RESPONSE_DELAY_MS,
          times: options.lostResponses,
        });
      }
    }

    // The simulator sends one Retry-After for every throttled answer: re-roll it between 1 and 2 s.
    // Its own random stream, so that the ticks before a kill do not change the kill moments.
    const retryAfterRandom = createRandom(options.seed + 1);
    const retryAfterTimer = setInterval(() => {
      sim.configure({ faults: { retryAfterSeconds: retryAfterRandom.chance(0.5) ? 1 : 2 } });
    }, 200);
    cleanups.push(() => clearInterval(retryAfterTimer));

    const startWorker = (name: string): WorkerProcess => {
      const worker = startWorkerProcess({
        name,
        temporalAddress: temporal.address,
        namespace: temporal.namespace,
        taskQueue: stack.taskQueue,
        simulatorUrl: sim.url,
        workflowBundlePath: bundle.path,
      });
      workers.push(worker);
      monitor.watch(name, worker.pid);
      return worker;
    };
    cleanups.push(async () => {
      await Promise.all(workers.map((worker) => worker.kill()));
      for (const worker of workers)
        writeFileSync(join(runDir, `${worker.name}.log`), worker.output.join('\n'));
    });
    // Worker slots: one on the dev server, --workers on the cluster; a killed worker's slot gets a new one.
    const active: WorkerProcess[] = [];
    for (let slot = 0; slot < options.workers; slot++) active.push(startWorker(`worker-${slot + 1}`));
    for (const worker of active) {
      await worker.ready;
      log(`${worker.name} (pid ${worker.pid}) polling`);
    }

    // Place the calls and start their transfers.
    const t0 = Date.now();
    const sinceStart = () => (Date.now() - t0) / 1000;
    const deadline = t0 + options.timeoutSeconds * 1000;
    const outcomes = new Map<string, TransferOutcome>();
    const open = new Set<string>();
    let started = 0;
    let closed = 0;
    let lastPlacedAt = t0;
    const callers = Array.from({ length: options.transfers }, (_, index) => ({
      user: { id: seededGuid(random), displayName: `Soak caller ${index + 1}` },
    }));
    // Graph posts the notifications of different calls concurrently. The simulator posts those for
    // one callback origin one at a time, and behind the proxy every callback has the same origin:
    // a delivery profile per transfer gives each its own lane (the global knobs still apply).
    const profiles: Array<{ urlContains: string; seed: number }> = [];
    const laneFor = (workflowId: string, index: number) => {
      profiles.push({ urlContains: `/${workflowId}/`, seed: options.seed + 1000 + index });
      sim.configure({ notifications: { profiles: [...profiles] } });
    };
    log(`placing ${options.transfers} incoming calls over ${options.spreadSeconds} s`);
    const transfers = callers.map(async (caller, index) => {
      await sleep((options.spreadSeconds * 1000 * index) / options.transfers);
      // The incoming-call notification goes to a bot receiver, not to the webhook: the webhook's
      // incoming-call policy would start a transfer with the default waits (see soakTimeouts).
      const { callId } = await sim.placeIncomingCall({ botUrl: receiver.callbackUrl(), caller });
      const workflowId = transferWorkflowId(callId);
      if (options.cluster) laneFor(workflowId, index);
      const answer = await startTransfer(stack, () => apiUrlFor(index), callId, caller);
      lastPlacedAt = Date.now();
      if (!answer.started) {
        closed += 1;
        outcomes.set(workflowId, {
          workflowId,
          p2pCallId: callId,
          status: 'notStarted',
          ...(answer.reason ? { reason: answer.reason } : {}),
        });
        return;
      }
      started += 1;
      open.add(workflowId);
      outcomes.set(workflowId, { workflowId, p2pCallId: callId, status: 'running' });
      const outcome = await outcomeOf(stack, workflowId, callId);
      if (Date.now() <= deadline) {
        open.delete(workflowId);
        closed += 1;
        outcomes.set(workflowId, outcome);
      }
    });
    let allClosed = false;
    const everyTransferClosed = Promise.all(transfers).then(() => {
      allClosed = true;
    });

    // Kill the worker at random moments of the run: each kill waits until a random share (under
    // MAX_KILL_SHARE) of the transfers has closed, and 2-5 s after the worker it kills started
    // polling. Drawn in progress rather than in seconds, every kill lands while transfers run,
    // however fast this machine is.
    // On the cluster, webhook kills and Temporal restarts join the worker kills, in a seeded order.
    const kills: WorkerKill[] = [];
    const disruptions: Disruption[] = [];
    let killsSkipped = 0;
    const plan: DisruptionKind[] = Array.from({ length: options.kills }, () => 'worker' as const);
    if (options.cluster) {
      plan.push(...Array.from({ length: options.webhookKills }, () => 'webhook' as const));
      plan.push(...Array.from({ length: options.temporalRestarts }, () => 'temporal' as const));
    }
    const killShares = Array.from({ length: plan.length }, () => random.next() * MAX_KILL_SHARE).sort(
      (a, b) => a - b,
    );
    const order = options.cluster ? random.shuffle(plan) : plan;
    let workerKills = 0;
    let webhookKills = 0;
    const killing = (async () => {
      let readyAt = t0;
      for (let number = 1; number <= order.length; number++) {
        const share = killShares[number - 1] as number;
        const notBefore = readyAt + MIN_KILL_DELAY_MS + random.next() * KILL_JITTER_MS;
        while (
          !allClosed &&
          Date.now() <= deadline &&
          (Date.now() < notBefore || closed < share * options.transfers)
        ) {
          await sleep(50);
        }
        if (allClosed || Date.now() > deadline) {
          killsSkipped = order.length - number + 1;
          return;
        }
        const kind = order[number - 1] as DisruptionKind;
        const atSeconds = sinceStart();
        const openTransfers = open.size;
        const closedTransfers = closed;
        let description: string;
        if (kind === 'worker') {
          const slot = workerKills++ % active.length;
          const killed = active[slot] as WorkerProcess;
          await killed.kill();
          log(
            `disruption #${number}: SIGKILL ${killed.name} (pid ${killed.pid}) with ${openTransfers} transfers open`,
          );
          const worker = startWorker(`worker-${workers.length + 1}`);
          active[slot] = worker;
          await worker.ready;
          log(`${worker.name} (pid ${worker.pid}) polling`);
          kills.push({
            number: kills.length + 1,
            atSeconds,
            killedPid: killed.pid,
            killedWorker: killed.name,
            openTransfers,
            closedTransfers,
            nextWorker: worker.name,
            nextPid: worker.pid,
            nextReadyAtSeconds: sinceStart(),
          });
          description = `SIGKILL ${killed.name} (pid ${killed.pid}); ${worker.name} (pid ${worker.pid}) polling`;
        } else if (kind === 'webhook' && pool) {
          log(`disruption #${number}: SIGKILL a webhook with ${openTransfers} transfers open`);
          const { killed, next } = await pool.killAndReplace(webhookKills++);
          monitor.watch(next.name, next.pid);
          log(`${next.name} (pid ${next.pid}) listening in place of ${killed.name}`);
          description = `SIGKILL ${killed.name} (pid ${killed.pid}); ${next.name} (pid ${next.pid}) listening`;
        } else if (kind === 'temporal' && cluster?.restartTemporal) {
          log(
            `disruption #${number}: restarting every Temporal service with ${openTransfers} transfers open`,
          );
          const { downMs } = await cluster.restartTemporal();
          for (const process of cluster.processes()) monitor.watch(process.name, process.pid);
          log(`Temporal services back after ${(downMs / 1000).toFixed(1)} s`);
          description = `Temporal services stopped and started again (${(downMs / 1000).toFixed(1)} s down)`;
        } else {
          continue;
        }
        readyAt = Date.now();
        disruptions.push({
          number,
          kind,
          description,
          atSeconds,
          backAtSeconds: sinceStart(),
          openTransfers,
          closedTransfers,
        });
      }
    })();

    const progress = setInterval(() => {
      log(`${sinceStart().toFixed(0)} s: ${started} started, ${open.size} open, ${closed} closed`);
    }, 10_000);
    cleanups.push(() => clearInterval(progress));

    await Promise.race([everyTransferClosed, sleep(Math.max(0, deadline - Date.now()))]);
    const endOfRun = new Date();
    const wallSeconds = sinceStart();
    clearInterval(progress);
    await killing;
    log(
      allClosed
        ? `every transfer closed after ${wallSeconds.toFixed(1)} s`
        : `deadline reached with ${open.size} open`,
    );

    // Late notifications and hang-ups still in the simulator's queue settle before the audit: up to
    // --delay late. A live call reporting to a finished transfer (a lost response's twin) starts a
    // strayCall owner (issue 10.4), which must have hung it up before Graph is audited.
    await Promise.race([sim.whenIdle(), sleep(Math.max(10_000, options.delayMs + 15_000))]);
    const strayOwners = await untilStrayOwnersDone(stack.client, 60_000);
    if (strayOwners > 0) log(`${strayOwners} stray call owners ran`);

    // Temporal's own start and close times, and the phase of anything still running.
    const all = [...outcomes.values()];
    const running: Array<{ workflowId: string; phase?: string }> = [];
    await mapLimit(
      all.filter((outcome) => outcome.status !== 'notStarted'),
      10,
      async (outcome) => {
        const description = await stack.handle(outcome.workflowId).describe();
        outcome.startedAt = description.startTime;
        if (description.closeTime) outcome.closedAt = description.closeTime;
        if (outcome.status === 'running') {
          const phase = description.typedSearchAttributes.get(HandoffTransferState);
          running.push({ workflowId: outcome.workflowId, ...(phase ? { phase } : {}) });
        }
      },
    );

    const calls = sim.calls();
    const duplicates = findDuplicateSideEffects(sim.requests, calls);
    const orphans = findOrphanedGroupCalls(calls, all);
    const inconsistencies = findInconsistentTransfers(calls, all);
    // Issue 10: no call without an owner. Owners still running keep their calls.
    const runningIds = new Set(running.map((item) => item.workflowId.toLowerCase()));
    const callsWithoutOwner = findCallsWithoutOwner(calls, runningIds);
    // A call holds up to three intervals without keepAlive (a failed round is retried at the next).
    const lapsedKeepAlives = findLapsedKeepAlives(
      calls,
      sim.requests,
      new Date(),
      Math.min(GRAPH_KEEP_ALIVE_LAPSE_MS, 3 * options.keepAliveMs),
    );
    const silentCallers = findSilentCallers(calls, all);
    const byStatus = (status: TransferOutcome['status']) =>
      all.filter((outcome) => outcome.status === status);
    const failed = byStatus('failed');
    const durations = all
      .filter((outcome) => outcome.startedAt && outcome.closedAt)
      .map((outcome) => (outcome.closedAt!.getTime() - outcome.startedAt!.getTime()) / 1000)
      .sort((a, b) => a - b);

    // Every history, for what the kills and lost notifications did; the suspects' are saved.
    const histories = new Map<string, HistoryEvent[]>();
    await mapLimit(
      all.filter((outcome) => outcome.status !== 'notStarted'),
      8,
      async (outcome) => {
        try {
          histories.set(outcome.workflowId, await stack.history(outcome.workflowId));
        } catch (error) {
          log(`could not fetch the history of ${outcome.workflowId}: ${String(error)}`);
        }
      },
    );
    const fallout = summarizeHistories([...histories.values()]);

    // Issue 13.2 on the cluster: every 202 the webhooks gave reached its workflow, and what each
    // disruption looked like from Graph's side.
    let clusterReport: ClusterSoakReport | undefined;
    if (pool) {
      const acknowledged = pool.proxy.acknowledgedSignals();
      const signalled = new Map<string, number>();
      for (const [workflowId, events] of histories)
        signalled.set(workflowId, countNotificationSignals(events));
      for (const candidate of findLostNotifications(acknowledged, signalled)) {
        try {
          signalled.set(candidate.workflowId, await signalsInEveryRun(stack.client, candidate.workflowId));
        } catch (error) {
          log(`could not read every run of ${candidate.workflowId}: ${String(error)}`);
        }
      }
      const lostNotifications = findLostNotifications(acknowledged, signalled);
      const toProxy = sim.deliveries.filter((delivery) => delivery.url.startsWith(pool.proxy.url));
      const proxyByStatus: Record<string, number> = {};
      for (const request of pool.proxy.requests)
        proxyByStatus[String(request.status)] = (proxyByStatus[String(request.status)] ?? 0) + 1;
      const sum = (values: Iterable<number>) => [...values].reduce((total, value) => total + value, 0);
      clusterReport = {
        address: temporal.address,
        startedBySoak: cluster?.restartTemporal !== undefined,
        workers: options.workers,
        webhooks: options.webhooks,
        disruptions,
        outages: graphSideOutages(disruptions, toProxy, new Date(t0)),
        lostNotifications,
        acknowledgedSignals: sum(acknowledged.values()),
        signalsInHistories: sum(signalled.values()),
        proxy: {
          requests: pool.proxy.requests.length,
          handedOver: pool.proxy.requests.filter((request) => request.refusedBy > 0).length,
          byStatus: proxyByStatus,
        },
      };
    }
    const suspects = new Set([
      ...failed.map((outcome) => outcome.workflowId),
      ...byStatus('other').map((outcome) => outcome.workflowId),
      ...running.map((entry) => entry.workflowId),
      ...duplicates.map((duplicate) => duplicate.workflowId),
      ...orphans.flatMap((orphan) => (orphan.workflowId ? [orphan.workflowId] : [])),
      ...inconsistencies.map((problem) => problem.workflowId),
    ]);
    if (suspects.size > 0) {
      const dir = join(runDir, 'histories');
      mkdirSync(dir, { recursive: true });
      for (const workflowId of suspects) {
        const events = histories.get(workflowId);
        if (events) writeFileSync(join(dir, `${workflowId}.txt`), describeHistory(events).join('\n'));
      }
      log(`histories of ${suspects.size} suspect transfers in ${dir}`);
    }

    const problems: string[] = [];
    const notStarted = byStatus('notStarted');
    if (notStarted.length > 0) problems.push(`${notStarted.length} transfers did not start`);
    if (running.length > 0) problems.push(`${running.length} transfers still running at the deadline`);
    // With lost responses injected, a twin group call that was hung up is the documented price of
    // not knowing (isCompensatedTwin); every other duplicate is a fault.
    const compensatedTwins =
      options.lostResponses > 0
        ? duplicates.filter((duplicate) =>
            isCompensatedTwin(duplicate, calls, outcomes.get(duplicate.workflowId)),
          )
        : [];
    const faultyDuplicates = duplicates.length - compensatedTwins.length;
    if (faultyDuplicates > 0) problems.push(`${faultyDuplicates} duplicate Graph side effects`);
    if (orphans.length > 0) problems.push(`${orphans.length} orphaned group calls`);
    if (inconsistencies.length > 0)
      problems.push(`${inconsistencies.length} completed transfers Graph disagrees with`);
    if (callsWithoutOwner.length > 0)
      problems.push(`${callsWithoutOwner.length} calls left open with no running owner`);
    if (lapsedKeepAlives.length > 0)
      problems.push(`${lapsedKeepAlives.length} calls whose keep-alive lapsed`);
    if (silentCallers.length > 0)
      problems.push(`${silentCallers.length} P2P calls left silent after a failed transfer`);
    if (clusterReport && clusterReport.lostNotifications.length > 0)
      problems.push(
        `${clusterReport.lostNotifications.length} workflows got fewer notification signals than the webhooks acknowledged`,
      );
    const unsuccessful = failed.length + byStatus('other').length;
    if (unsuccessful > options.maxFailed)
      problems.push(`${unsuccessful} transfers failed (--max-failed ${options.maxFailed})`);

    summary = {
      date: new Date(t0).toISOString(),
      options,
      machine: `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}`,
      requested: options.transfers,
      started,
      completed: byStatus('completed').length,
      failed: failed.length,
      stillRunning: running.length,
      notStarted: notStarted.length,
      other: byStatus('other').length,
      failedByReason: groupReasons([...failed, ...byStatus('other')]),
      notStartedByReason: groupReasons(notStarted),
      fallout,
      duplicates,
      compensatedTwins: compensatedTwins.length,
      duplicateDetails: duplicates.map((duplicate) =>
        describeDuplicate(duplicate, calls, outcomes.get(duplicate.workflowId)),
      ),
      orphans,
      inconsistencies,
      callsWithoutOwner,
      lapsedKeepAlives,
      silentCallers,
      running,
      kills,
      killsSkipped,
      durations:
        durations.length > 0
          ? {
              min: durations[0]!,
              p50: percentile(durations, 0.5),
              p95: percentile(durations, 0.95),
              max: durations.at(-1)!,
            }
          : undefined,
      peakConcurrent: peakConcurrency(all, endOfRun),
      placementSeconds: (lastPlacedAt - t0) / 1000,
      wallSeconds,
      graph: graphRequestStats(sim.requests),
      notifications: notificationStats(sim.requests, sim.deliveries, sim.dropped),
      usage: monitor.stop(),
      ...(clusterReport ? { cluster: clusterReport } : {}),
      pass: problems.length === 0,
      problems,
    };
    writeFileSync(join(runDir, 'report.json'), JSON.stringify({ summary, outcomes: all }, null, 2));
    return { summary, runDir, chart: chartOf(t0, all, kills, clusterReport) };
  } finally {
    if (summary === undefined) monitor.stop();
    await cleanUp();
    // The Temporal database is only worth keeping to look into a failed run.
    if (!summary?.pass && existsSync(dbFile)) copyFileSync(dbFile, join(runDir, 'temporal.db'));
    rmSync(dbDir, { recursive: true, force: true });
  }
}

/** The HTML report's dots, bands and marks, in seconds since the first call was placed. */
function chartOf(
  t0: number,
  outcomes: readonly TransferOutcome[],
  kills: readonly WorkerKill[],
  clusterReport: ClusterSoakReport | undefined,
): SoakRun['chart'] {
  const points: ReportPoint[] = outcomes.flatMap((outcome) =>
    outcome.startedAt && outcome.closedAt
      ? [
          {
            closedSeconds: (outcome.closedAt.getTime() - t0) / 1000,
            durationSeconds: (outcome.closedAt.getTime() - outcome.startedAt.getTime()) / 1000,
            outcome:
              outcome.status === 'completed' ? 'completed' : outcome.status === 'failed' ? 'failed' : 'other',
          } satisfies ReportPoint,
        ]
      : [],
  );
  if (!clusterReport) {
    return {
      points,
      bands: kills.map((kill) => ({
        fromSeconds: kill.atSeconds,
        toSeconds: kill.nextReadyAtSeconds,
        label: `${kill.killedWorker} killed, ${kill.nextWorker} polling ${(kill.nextReadyAtSeconds - kill.atSeconds).toFixed(1)} s later`,
      })),
      marks: kills.map((kill) => ({ atSeconds: kill.atSeconds, label: `kill ${kill.killedWorker}` })),
    };
  }
  const { disruptions, outages } = clusterReport;
  return {
    points,
    bands: disruptions.map((disruption) => {
      const outage = outages.find((candidate) => candidate.disruption === disruption.number);
      const graphEnd = disruption.atSeconds + (outage?.outageSeconds ?? 0);
      return {
        fromSeconds: disruption.atSeconds,
        toSeconds: Math.max(disruption.backAtSeconds, graphEnd),
        label: `#${disruption.number} ${disruption.description}; Graph saw ${outage?.failed ?? 0} failed POSTs over ${(outage?.outageSeconds ?? 0).toFixed(1)} s`,
      };
    }),
    marks: disruptions.map((disruption) => ({
      atSeconds: disruption.atSeconds,
      label: `#${disruption.number} ${disruption.kind === 'temporal' ? 'restart Temporal' : `kill ${disruption.kind}`}`,
    })),
  };
}

async function main(): Promise<number> {
  let options: SoakOptions | 'help';
  try {
    options = parseSoakArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof SoakUsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    console.log(usage);
    return 0;
  }
  const { summary, runDir, chart } = await runSoak(options);
  const text = formatSummary(summary);
  console.log(text);
  console.log(`\nlogs, histories of failed transfers and report.json: ${runDir}`);
  // Next to the text: the same summary and its picture, in the git-ignored report folder.
  const name = `soak${options.cluster ? '-cluster' : ''}-${summary.date.replace(/[:.]/g, '-')}`;
  const reportDir = resolve(projectRoot(), options.reportDir);
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, `${name}.txt`), `${text}\n`);
  const html = writeSoakReport(reportDir, name, {
    title: `Handoff soak${options.cluster ? ' on the cluster' : ''}, ${summary.date}`,
    ...chart,
    summaryText: text,
    pass: summary.pass,
  });
  console.log(`report: ${html} (text: ${join(reportDir, `${name}.txt`)})`);
  return summary.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('the soak could not run:', error);
    process.exit(1);
  },
);
