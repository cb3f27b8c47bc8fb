/**
 * How workflows send Graph requests. Reads and idempotent requests (GET, DELETE, keepAlive)
 * are retried by Temporal, after Graph's Retry-After (the activity sets nextRetryDelay).
 *
 * Requests that change state and are not idempotent (answer, create call, invite) are sent by
 * `sendOnce`: one activity attempt at a time, and before any retry whose first attempt may have
 * reached Graph (a timeout, a lost response, a worker that died mid-request), the workflow
 * looks at what Graph's notifications already told it. A second invite or an orphaned second
 * group call is worse than a late one (design.md, "Failure and retries").
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  TimeoutFailure,
} from '@temporalio/workflow';
import { GRAPH_REJECTED, type GraphFailureDetails } from '../activities/failure-types.js';
import type { GraphActivities } from '../activities/graph-activities.js';

/** Graph answers within seconds; the client gives up after 10 s, the activity a little later. */
const GRAPH_ACTIVITY_TIMEOUT = '15s';

export const retriedGraphOptions = {
  startToCloseTimeout: GRAPH_ACTIVITY_TIMEOUT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
} as const;

export const singleAttemptGraphOptions = {
  startToCloseTimeout: GRAPH_ACTIVITY_TIMEOUT,
  retry: { maximumAttempts: 1 },
} as const;

/** Activities Temporal may retry on its own. */
export const retriedGraph = proxyActivities<GraphActivities>(retriedGraphOptions);
/** Activities that must not be sent twice: one attempt each, retried by `sendOnce`. */
export const singleAttemptGraph = proxyActivities<GraphActivities>(singleAttemptGraphOptions);
/**
 * The same, run by the worker that runs the workflow task (a local activity): no activity task
 * queue between the workflow and Graph. For the answer only (answer.ts, LOCAL_ANSWER_PATCH).
 */
export const singleAttemptLocalGraph = proxyLocalActivities<GraphActivities>(singleAttemptGraphOptions);

export interface SendOnceOptions<T> {
  /** For messages and the UI, e.g. `invite caller into group call X`. */
  what: string;
  send: () => Promise<T>;
  /** Whether notifications show the request already took effect. */
  applied: () => boolean;
  maxAttempts?: number;
  /** How long to wait for notifications after an attempt whose outcome is unknown. */
  notificationGraceMs?: number;
  /**
   * Reads Graph (GET the call) to learn whether an attempt whose outcome is unknown took effect,
   * when no notification has told within the grace period: notifications can be late by far
   * more than that (issue 4; the soak saw 30-90 s). `applied` is asked again before the request
   * is sent a second time, so a late notification cannot turn into a second answer or invite.
   */
  reconcile?: () => Promise<void>;
}

/**
 * `reconcile` runs before a request is sent again. Workflows already past such a retry without
 * it do not read Graph on replay.
 */
export const RECONCILE_BEFORE_RESEND_PATCH = 'reconcile-before-resend';

export type SendOnceResult<T> = { sent: true; value: T } | { sent: false };

function graphDetails(failure: ApplicationFailure): GraphFailureDetails | undefined {
  const [details] = failure.details ?? [];
  return details && typeof details === 'object' ? (details as GraphFailureDetails) : undefined;
}

/**
 * Graph refused the request outright (throttled: 429, or 503 Service Unavailable): it did not
 * act on it, so sending it again is safe. Anything else that failed without an answer may have
 * been carried out.
 */
function refusedWithoutEffect(details: GraphFailureDetails | undefined): boolean {
  return details?.kind === 'http' && (details.status === 429 || details.status === 503);
}

export async function sendOnce<T>(options: SendOnceOptions<T>): Promise<SendOnceResult<T>> {
  const maxAttempts = options.maxAttempts ?? 8;
  const graceMs = options.notificationGraceMs ?? 5_000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { sent: true, value: await options.send() };
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      const cause = error.cause;
      if (cause instanceof ApplicationFailure && cause.type === GRAPH_REJECTED) throw error;
      if (attempt >= maxAttempts) throw error;
      const details = cause instanceof ApplicationFailure ? graphDetails(cause) : undefined;
      const outcomeUnknown = cause instanceof TimeoutFailure || !refusedWithoutEffect(details);
      if (outcomeUnknown && (await condition(options.applied, graceMs))) return { sent: false };
      if (outcomeUnknown && options.reconcile && patched(RECONCILE_BEFORE_RESEND_PATCH)) {
        await options.reconcile();
        if (options.applied()) return { sent: false };
      }
      const backoffMs = Math.min(30_000, 1_000 * 2 ** (attempt - 1));
      await sleep(details?.retryAfterSeconds !== undefined ? details.retryAfterSeconds * 1_000 : backoffMs, {
        summary: `retry ${options.what}`,
      });
      if (options.applied()) return { sent: false };
    }
  }
}

/**
 * Why a step failed, in words an operator can act on. An ActivityFailure's own message is only
 * "Activity task failed": what Graph said is in its cause.
 */
export function reasonOf(error: unknown): string {
  if (error instanceof ActivityFailure) {
    return `${error.activityType ?? 'a Graph request'} failed: ${error.cause?.message ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
