/**
 * What every call flow needs around the Graph calls it makes: the reducer state fed by the
 * `graphNotifications` signal, waits that read Graph when a notification does not come,
 * keep-alive for the calls the workflow holds, and clean-up of calls it never meant to have.
 * Workflow code only (deterministic: timers and conditions, no I/O of its own).
 */
import {
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { CallState, GraphNotification } from '../graph/index.js';
import {
  applyNotification,
  type CallRecord,
  type CallsState,
  emptyCallsState,
  findCall,
  findOperation,
  hasEnded,
  hasReached,
  isTerminal,
  type OperationRecord,
  recordCallRead,
  recordOperation,
} from './call-state.js';
import { isOwnCallbackUri } from './callback-uri.js';
import { graphNotificationsSignal, type NotificationDelivery } from './definitions.js';
import { reasonOf, retriedGraph, retriedGraphOptions } from './graph-requests.js';

/**
 * Graph ends a call that has not had a keepAlive for 45 minutes and asks for one every 15 to 45
 * (design.md, "Known traps"). 15 minutes leaves room for a throttled request or two.
 */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 15 * 60 * 1000;

/**
 * `close()` lets a keep-alive round already under way finish instead of abandoning it, so that no
 * request for the workflow's calls reaches Graph after the workflow ended. Workflows that started
 * before this did not wait (replay).
 */
export const CLOSE_AFTER_KEEP_ALIVE_PATCH = 'close-after-keep-alive';

/**
 * Before adopting or hanging up a call it did not create, a workflow reads the call and acts only
 * when its callbackUri is the workflow's own (decisions.md #4). Workflows that started before
 * did not read (replay).
 */
export const CONFIRM_OWN_CALLS_PATCH = 'confirm-own-calls';

/**
 * A keep-alive round that fails (403, 5xx past the activity's retries, a token outage, a timeout)
 * is logged and tried again at the next interval: only a 404 (the call is gone) or the end of the
 * call stops keep-alive for it (issue 10.1). Workflows that started before this stopped keep-alive
 * for good at the first failed round (replay).
 */
export const KEEP_ALIVE_SURVIVES_FAILURE_PATCH = 'keep-alive-survives-failure';

/** A step of a call flow that cannot complete. Flows turn it into their own failure. */
export class CallStepFailed extends Error {}

/** A keep-alive round that failed and will be tried again at the next interval. */
export interface KeepAliveFailure {
  callId: string;
  /** Workflow clock, ms since the Unix epoch. */
  at: number;
  reason: string;
}

export interface CallSessionOptions {
  keepAliveIntervalMs?: number;
  /** Told of each notification once the reducer has it (a call's owner follows who is present). */
  onNotification?: (notification: GraphNotification) => void;
}

export interface CallSession {
  readonly calls: CallsState;
  call(callId: string): CallRecord | undefined;
  /** This workflow answered or created the call: keep it alive until it ends or the session closes. */
  hold(callId: string): void;
  /** Waits until the call is established; after `timeoutMs`, reads it from Graph. Fails if it ends first. */
  untilEstablished(callId: string, what: string, timeoutMs: number): Promise<void>;
  /** Waits until the call has ended; after `timeoutMs`, reads it from Graph. Returns whether it ended. */
  untilEnded(callId: string, what: string, timeoutMs: number): Promise<boolean>;
  /**
   * For a call whose notifications go to another system (it answered the call): reads it from
   * Graph every `intervalMs` until it has ended or `timeoutMs` passed. Returns whether it ended.
   */
  pollUntilEnded(callId: string, what: string, timeoutMs: number, intervalMs: number): Promise<boolean>;
  /** Reads the call from Graph now (for calls whose notifications go elsewhere). */
  read(callId: string, what: string): Promise<CallRecord | undefined>;
  /**
   * Waits for an operation's final status, matched by id or clientContext; after `timeoutMs`,
   * reads it from Graph when its id is known. Returns what is known then.
   */
  untilOperationDone(
    callId: string,
    match: { operationId?: string; clientContext: string },
    what: string,
    timeoutMs: number,
  ): Promise<OperationRecord | undefined>;
  /**
   * From now on, hangs up every call reporting to this workflow that `claimed` does not list:
   * a group call a lost-response retry created twice, say (design.md, "Failure and retries").
   * Only calls whose callbackUri Graph reports as `callbackUri` (this workflow's) are hung up;
   * any other is left alone and logged.
   */
  hangUpUnclaimedCalls(claimed: () => string[], callbackUri: string): void;
  /**
   * Reads the call and tells whether its callbackUri is `callbackUri`. A call that is not (or is
   * gone) is remembered as foreign: `unclaimedCallIds` no longer lists it. Without the patch
   * (replaying an older workflow) it answers true without reading, as before.
   */
  confirmOwnCall(callId: string, callbackUri: string, what: string): Promise<boolean>;
  /** Calls hung up by `hangUpUnclaimedCalls`. */
  readonly orphansHungUp: string[];
  /** Keep-alive rounds that failed (each retried at the next interval). */
  readonly keepAliveFailures: readonly KeepAliveFailure[];
  /** Calls reporting to this workflow that `claimed` does not list. */
  unclaimedCallIds(claimed: string[]): string[];
  /** Stops keep-alive and orphan clean-up, after letting a hang-up in flight finish. */
  close(): Promise<void>;
}

/** The notifications of a delivery, or none when the signal's payload is not a delivery at all. */
function notificationsOf(delivery: NotificationDelivery | undefined): GraphNotification[] {
  const notifications = delivery?.notifications;
  if (Array.isArray(notifications)) return notifications;
  log.warn('dropped a graphNotifications signal without a notifications list');
  return [];
}

/** What the log says of a dropped notification: enough to find it, not the whole payload. */
function describeNotification(notification: GraphNotification): Record<string, unknown> {
  if (notification === null || typeof notification !== 'object') return { value: String(notification) };
  const { kind, changeType, callId, resourceUrl } = notification as Partial<GraphNotification>;
  return { kind, changeType, callId, resourceUrl };
}

export function openCallSession(options: CallSessionOptions = {}): CallSession {
  const calls = emptyCallsState();
  const held = new Set<string>();
  const orphansHungUp: string[] = [];
  /** Lower-case ids of calls that report here but are not this workflow's (confirmOwnCall). */
  const foreignCalls = new Set<string>();
  let orphanHangUpsInFlight = 0;
  let keepAlivesInFlight = 0;
  const keepAliveFailures: KeepAliveFailure[] = [];
  const background = new CancellationScope();
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? DEFAULT_KEEP_ALIVE_INTERVAL_MS;

  setHandler(graphNotificationsSignal, (delivery) => {
    for (const notification of notificationsOf(delivery)) {
      try {
        applyNotification(calls, notification);
        options.onNotification?.(notification);
      } catch (error) {
        // A signal handler that throws fails the workflow task, and every retry replays the same
        // signal: one malformed notification would wedge the workflow for good (issue 9, item 4).
        log.warn('dropped a notification the call state cannot apply', {
          error: String(error),
          notification: describeNotification(notification),
        });
      }
    }
  });

  function unclaimedCallIds(claimed: string[]): string[] {
    const claimedKeys = new Set(claimed.map((callId) => callId.toLowerCase()));
    return Object.values(calls.calls)
      .map((call) => call.callId)
      .filter((callId) => !claimedKeys.has(callId.toLowerCase()) && !foreignCalls.has(callId.toLowerCase()));
  }

  async function confirmOwnCall(callId: string, callbackUri: string, what: string): Promise<boolean> {
    if (!patched(CONFIRM_OWN_CALLS_PATCH)) return true;
    const read = await retriedGraph.getCall.executeWithOptions(
      { ...retriedGraphOptions, summary: `read ${what} ${callId}: is it ours?` },
      [callId],
    );
    if (read.gone) {
      foreignCalls.add(callId.toLowerCase());
      recordCallRead(calls, callId, read);
      log.info('a call that reported here is gone: nothing to adopt or hang up', { callId });
      return false;
    }
    if (!isOwnCallbackUri(read.callbackUri, callbackUri)) {
      foreignCalls.add(callId.toLowerCase());
      // Someone else's call: its state is not this workflow's to record or act on.
      log.warn('left alone a call that reported here with another callbackUri', {
        callId,
        callbackUri: read.callbackUri ?? null,
      });
      return false;
    }
    recordCallRead(calls, callId, read);
    return true;
  }

  async function readCall(callId: string, summary: string): Promise<void> {
    const read = await retriedGraph.getCall.executeWithOptions({ ...retriedGraphOptions, summary }, [callId]);
    recordCallRead(calls, callId, read);
  }

  async function keepHeldCallsAlive(): Promise<void> {
    for (;;) {
      await sleep(keepAliveIntervalMs, { summary: 'keep-alive timer' });
      for (const callId of [...held].sort()) {
        if (hasEnded(findCall(calls, callId))) continue;
        keepAlivesInFlight += 1;
        try {
          const answer = await retriedGraph.keepAlive.executeWithOptions(
            { ...retriedGraphOptions, summary: `keep call ${callId} alive` },
            [callId],
          );
          if (answer.gone) recordCallRead(calls, callId, { gone: true });
        } catch (error) {
          if (isCancellation(error) || !patched(KEEP_ALIVE_SURVIVES_FAILURE_PATCH)) throw error;
          keepAliveFailures.push({ callId, at: Date.now(), reason: reasonOf(error) });
          log.warn('keep-alive failed; trying again at the next interval', {
            callId,
            intervalMs: keepAliveIntervalMs,
            error: reasonOf(error),
          });
        } finally {
          keepAlivesInFlight -= 1;
        }
      }
    }
  }

  function runInBackground(what: string, work: () => Promise<void>): void {
    background.run(work).catch((error: unknown) => {
      if (!isCancellation(error)) log.error(`${what} stopped`, { error: String(error) });
    });
  }

  runInBackground('keep-alive', keepHeldCallsAlive);

  return {
    calls,
    orphansHungUp,
    keepAliveFailures,
    call: (callId) => findCall(calls, callId),
    hold: (callId) => {
      held.add(callId);
    },
    unclaimedCallIds,

    async untilEstablished(callId, what, timeoutMs) {
      const settled = () =>
        hasReached(findCall(calls, callId), 'established') || hasEnded(findCall(calls, callId));
      if (!(await condition(settled, timeoutMs, { summary: `wait for ${what} established` }))) {
        await readCall(callId, `read ${what} (no established notification)`);
      }
      const call = findCall(calls, callId);
      if (hasEnded(call)) {
        throw new CallStepFailed(
          `${what} ${callId} ended before it was established (${call?.terminationReason ?? 'gone'})`,
        );
      }
      if (!hasReached(call, 'established')) {
        const state: CallState | 'deleted' | 'unknown' = call?.state ?? 'unknown';
        throw new CallStepFailed(
          `${what} ${callId} was not established within ${timeoutMs} ms (state ${state})`,
        );
      }
    },

    async untilEnded(callId, what, timeoutMs) {
      const ended = () => hasEnded(findCall(calls, callId));
      if (!(await condition(ended, timeoutMs, { summary: `wait for ${what} to end` }))) {
        await readCall(callId, `read ${what} (no terminated notification)`);
      }
      return ended();
    },

    async pollUntilEnded(callId, what, timeoutMs, intervalMs) {
      const ended = () => hasEnded(findCall(calls, callId));
      const deadline = Date.now() + timeoutMs;
      while (!ended() && Date.now() < deadline) {
        await condition(ended, Math.min(intervalMs, Math.max(1, deadline - Date.now())), {
          summary: `wait before reading ${what}`,
        });
        if (!ended()) await readCall(callId, `read ${what}`);
      }
      return ended();
    },

    async read(callId, what) {
      await readCall(callId, `read ${what}`);
      return findCall(calls, callId);
    },

    async untilOperationDone(callId, match, what, timeoutMs) {
      const operation = () => findOperation(calls, { ...match, callId });
      if (
        !(await condition(() => isTerminal(operation()?.status), timeoutMs, { summary: `wait for ${what}` }))
      ) {
        const operationId = match.operationId ?? operation()?.operationId;
        if (operationId) {
          const read = await retriedGraph.getOperation.executeWithOptions(
            { ...retriedGraphOptions, summary: `read ${what} (no notification)` },
            [callId, operationId],
          );
          if (!read.gone) {
            recordOperation(calls, callId, {
              id: operationId,
              status: read.status,
              clientContext: match.clientContext,
              resultInfo: read.resultInfo ?? null,
            });
          }
        }
      }
      return operation();
    },

    confirmOwnCall,

    hangUpUnclaimedCalls(claimed, callbackUri) {
      const handled = new Set<string>();
      const pending = () =>
        unclaimedCallIds(claimed()).filter((callId) => !handled.has(callId.toLowerCase()));
      runInBackground('orphan clean-up', async () => {
        for (;;) {
          await condition(() => pending().length > 0);
          for (const callId of pending()) {
            handled.add(callId.toLowerCase());
            orphanHangUpsInFlight += 1;
            try {
              const ours = await CancellationScope.nonCancellable(() =>
                confirmOwnCall(callId, callbackUri, 'unclaimed call'),
              );
              if (!ours) continue;
              await CancellationScope.nonCancellable(() =>
                retriedGraph.hangUp.executeWithOptions(
                  { ...retriedGraphOptions, summary: `hang up orphaned call ${callId}` },
                  [callId],
                ),
              );
              orphansHungUp.push(callId);
            } finally {
              orphanHangUpsInFlight -= 1;
            }
          }
        }
      });
    },

    async close() {
      await condition(() => orphanHangUpsInFlight === 0);
      // Cancelling would not stop a keepAlive already sent (the activity does not heartbeat):
      // the workflow would end first and Graph would hear from it afterwards.
      if (keepAlivesInFlight > 0 && patched(CLOSE_AFTER_KEEP_ALIVE_PATCH)) {
        await condition(() => keepAlivesInFlight === 0);
      }
      background.cancel();
    },
  };
}
