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
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { seedMeetingTarget } from '../src/config/env.js';
import type { IdentitySet } from '../src/graph/index.js';
import { createRandom, type Random } from '../src/simulator/random.js';
import { type DevServer, startDevServer } from '../src/temporal/dev-server.js';
import { HandoffTransferState } from '../src/temporal/search-attributes.js';
import { transferWorkflowId } from '../src/workflows/definitions.js';
import type { GroupCallOwnerResult } from '../src/workflows/group-call-owner/group-call-owner.js';
import { TRANSFER_FAILED } from '../src/workflows/transfer/transfer.js';
import type { TransferResult, TransferTimeouts } from '../src/workflows/transfer/types.js';
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
import { summarizeHistories } from './soak/histories.js';
import { startUsageMonitor, type UsageMonitor } from './soak/monitor.js';
import { parseSoakArgs, type SoakOptions, SoakUsageError, usage } from './soak/options.js';
import {
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
  apiUrl: string,
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
      const response = await fetch(`${apiUrl}/api/transfers`, {
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
    log('starting the Temporal dev server and bundling the workflows');
    const temporalLog: string[] = [];
    const [devServer, bundle]: [DevServer, TestWorkflowBundle] = await Promise.all([
      startDevServer({ dbFile, log: (line) => temporalLog.push(line) }),
      buildTestWorkflowBundle(),
    ]);
    cleanups.push(() => {
      writeFileSync(join(runDir, 'temporal.log'), temporalLog.join('\n'));
      return devServer.stop();
    });
    cleanups.push(() => bundle.remove());
    monitor.watch('temporal dev server', devServer.pid);

    const receiver: BotReceiver = await startBotReceiver();
    cleanups.push(() => receiver.stop());
    const stack = await startHandoffTestStack({
      temporal: devServer,
      worker: false,
      workflowBundlePath: bundle.path,
      // Call ownership (issue 10): hold each group call to its end, with short keep-alive intervals.
      env: {
        HANDOFF_KEEP_ALIVE_INTERVAL_MS: String(options.keepAliveMs),
        ...(options.holdGroupCallSeconds > 0
          ? {
              HANDOFF_BOT_LEG_AFTER_TRANSFER: 'stay',
              HANDOFF_STAY_MAX_DURATION_MS: String(options.holdGroupCallSeconds * 1000),
            }
          : {}),
      },
      simulator: {
        seed: options.seed,
        notifications: {
          reorder: true,
          duplicateRate: options.duplicate,
          dropRate: options.drop,
          delayMs: options.delayMs,
        },
        faults: { throttleRate: options.throttle, throttleStatuses: [429, 503], retryAfterSeconds: 1 },
      },
    });
    cleanups.push(() => stack.stop());
    const { sim } = stack;
    const replicas = await startWebhookReplicas(stack, options.webhooks - 1);
    cleanups.push(async () => {
      await Promise.all(replicas.map((replica) => replica.stop()));
    });
    const webhookUrls = [stack.webhookUrl, ...replicas.map((replica) => replica.url)];
    const apiUrls = [stack.apiUrl, ...replicas.map((replica) => replica.apiUrl)];
    log(
      `simulator ${sim.url}, webhooks ${webhookUrls.join(' ')} (JWT verification on), task queue ${stack.taskQueue}`,
    );

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
        temporalAddress: devServer.address,
        namespace: devServer.namespace,
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
    let worker = startWorker('worker-1');
    await worker.ready;
    log(`worker-1 (pid ${worker.pid}) polling`);

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
    log(`placing ${options.transfers} incoming calls over ${options.spreadSeconds} s`);
    const transfers = callers.map(async (caller, index) => {
      await sleep((options.spreadSeconds * 1000 * index) / options.transfers);
      // The incoming-call notification goes to a bot receiver, not to the webhook: the webhook's
      // incoming-call policy would start a transfer with the default waits (see soakTimeouts).
      const { callId } = await sim.placeIncomingCall({ botUrl: receiver.callbackUrl(), caller });
      const workflowId = transferWorkflowId(callId);
      const answer = await startTransfer(stack, apiUrls[index % apiUrls.length]!, callId, caller);
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
    const kills: WorkerKill[] = [];
    let killsSkipped = 0;
    const killShares = Array.from({ length: options.kills }, () => random.next() * MAX_KILL_SHARE).sort(
      (a, b) => a - b,
    );
    const killing = (async () => {
      let readyAt = t0;
      for (let number = 1; number <= options.kills; number++) {
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
          killsSkipped = options.kills - number + 1;
          return;
        }
        const killed = worker;
        const atSeconds = sinceStart();
        const openTransfers = open.size;
        const closedTransfers = closed;
        await killed.kill();
        log(
          `kill #${number}: SIGKILL ${killed.name} (pid ${killed.pid}) with ${openTransfers} transfers open`,
        );
        worker = startWorker(`worker-${number + 1}`);
        await worker.ready;
        readyAt = Date.now();
        log(`${worker.name} (pid ${worker.pid}) polling`);
        kills.push({
          number,
          atSeconds,
          killedPid: killed.pid,
          killedWorker: killed.name,
          openTransfers,
          closedTransfers,
          nextWorker: worker.name,
          nextPid: worker.pid,
          nextReadyAtSeconds: sinceStart(),
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
      pass: problems.length === 0,
      problems,
    };
    writeFileSync(join(runDir, 'report.json'), JSON.stringify({ summary, outcomes: all }, null, 2));
    return { summary, runDir };
  } finally {
    if (summary === undefined) monitor.stop();
    await cleanUp();
    // The Temporal database is only worth keeping to look into a failed run.
    if (!summary?.pass && existsSync(dbFile)) copyFileSync(dbFile, join(runDir, 'temporal.db'));
    rmSync(dbDir, { recursive: true, force: true });
  }
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
  const { summary, runDir } = await runSoak(options);
  console.log(formatSummary(summary));
  console.log(`\nlogs, histories of failed transfers and report.json: ${runDir}`);
  return summary.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('the soak could not run:', error);
    process.exit(1);
  },
);
