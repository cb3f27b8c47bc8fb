/**
 * Counts the Graph client's requests (src/graph/client.ts takes a `fetch`): every request the
 * activities make goes through here, so the counts need nothing from the activities themselves.
 * Operations are named after the GraphClient functions, read from the method and path template;
 * ids never become labels.
 */
import { parseRetryAfter } from '../graph/errors.js';
import type { WorkerMetrics } from './metrics.js';

const OPERATIONS: Array<{ method: string; path: RegExp; operation: string }> = [
  { method: 'POST', path: /\/communications\/calls\/?$/, operation: 'createCall' },
  { method: 'POST', path: /\/communications\/calls\/[^/]+\/answer$/, operation: 'answerCall' },
  {
    method: 'POST',
    path: /\/communications\/calls\/[^/]+\/participants\/invite$/,
    operation: 'inviteParticipants',
  },
  { method: 'POST', path: /\/communications\/calls\/[^/]+\/keepAlive$/, operation: 'keepAlive' },
  { method: 'GET', path: /\/communications\/calls\/[^/]+\/operations\/[^/]+$/, operation: 'getOperation' },
  { method: 'GET', path: /\/communications\/calls\/[^/]+$/, operation: 'getCall' },
  { method: 'DELETE', path: /\/communications\/calls\/[^/]+$/, operation: 'hangUp' },
];

/** The GraphClient operation a request is, or `other`. */
export function graphOperationOf(method: string, url: string): string {
  const path = new URL(url).pathname;
  const upper = method.toUpperCase();
  return OPERATIONS.find((entry) => entry.method === upper && entry.path.test(path))?.operation ?? 'other';
}

function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/** `fetch` that records each Graph request in `metrics`; answers and errors pass through unchanged. */
export function meteredFetch(metrics: WorkerMetrics, fetchImpl: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const operation = graphOperationOf(init?.method ?? 'GET', urlOf(input));
    const stopTimer = metrics.graphRequestDuration.startTimer({ operation });
    const count = (status: string, ok: boolean) => {
      metrics.graphRequests.inc({ operation, status });
      if (operation === 'keepAlive') metrics.keepAlives.inc({ outcome: ok ? 'sent' : 'failed' });
    };
    let response: Response;
    try {
      response = await fetchImpl(input, init);
    } catch (error) {
      stopTimer();
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      count(timedOut ? 'timeout' : 'network', false);
      throw error;
    }
    stopTimer();
    count(String(response.status), response.ok);
    if (response.status === 429 || response.status === 503) {
      metrics.graphThrottles.inc({ operation, status: String(response.status) });
    }
    if (!response.ok) {
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
      if (retryAfterSeconds !== undefined)
        metrics.graphRetryAfterSeconds.inc({ operation }, retryAfterSeconds);
    }
    return response;
  };
}
