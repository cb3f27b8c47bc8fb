import { ApplicationFailure } from '@temporalio/common';
import { GraphAuthError, GraphRequestError } from '../graph/index.js';

import { GRAPH_REJECTED, GRAPH_RETRYABLE } from './failure-types.js';

/**
 * Turns a Graph error into the Temporal failure that retries it the right way (design.md,
 * "Failure and retries"): 429/5xx/network/timeouts are retried, after the Retry-After Graph
 * asked for when it gave one; 400/401/403/404 are not, and carry Graph's error for the UI.
 */
export function toActivityFailure(error: unknown): unknown {
  if (error instanceof GraphRequestError || error instanceof GraphAuthError) {
    const details = error.toJSON();
    if (error.retryable) {
      return ApplicationFailure.create({
        message: error.message,
        type: GRAPH_RETRYABLE,
        details: [details],
        ...(error.retryAfterSeconds !== undefined ? { nextRetryDelay: `${error.retryAfterSeconds}s` } : {}),
        cause: error,
      });
    }
    return ApplicationFailure.create({
      message: error.message,
      type: GRAPH_REJECTED,
      nonRetryable: true,
      details: [details],
      cause: error,
    });
  }
  return error;
}

/** Runs a Graph request and rethrows its failure as a Temporal failure. */
export async function graphRequest<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw toActivityFailure(error);
  }
}
