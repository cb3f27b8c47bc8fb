/**
 * Handoff's own metrics in the worker process (issue 13.3), where the activities make Graph requests:
 * Graph requests by operation and status with their latency, throttled answers and the Retry-After
 * the next attempt waits (src/activities/failures.ts turns it into the retry's delay), and keep-alives
 * sent or failed, and workflow runs started and closed by type and outcome. One prom-client registry per worker process; src/worker/metrics-server.ts serves it
 * together with the Temporal SDK's own runtime metrics.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  /** `status`: the HTTP status, or `network` / `timeout` when no answer came. */
  graphRequests: Counter<'operation' | 'status'>;
  graphRequestDuration: Histogram<'operation'>;
  /** Answers 429 or 503: Graph asked the bot to slow down. */
  graphThrottles: Counter<'operation' | 'status'>;
  graphRetryAfterSeconds: Counter<'operation'>;
  /** `outcome`: sent (2xx) or failed (anything else, the activity retries). */
  keepAlives: Counter<'outcome'>;
  /** Workflow runs started, by type (transferCall, botCall, incomingCall, …): src/workflows/interceptors.ts. */
  workflowsStarted: Counter<'workflow_type'>;
  /** Workflow runs closed, by type, how they closed (`status`) and the result's own `outcome`. */
  workflowsClosed: Counter<'workflow_type' | 'status' | 'outcome'>;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    graphRequests: new Counter({
      name: 'handoff_graph_requests_total',
      help: 'Graph calling requests made by activities, by operation (answerCall, inviteParticipants, …) and HTTP status (network, timeout: no answer)',
      labelNames: ['operation', 'status'],
      registers: [registry],
    }),
    graphRequestDuration: new Histogram({
      name: 'handoff_graph_request_duration_seconds',
      help: 'Time from sending a Graph request to the end of its answer, by operation',
      labelNames: ['operation'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    graphThrottles: new Counter({
      name: 'handoff_graph_throttles_total',
      help: 'Graph answers 429 or 503 (throttled or unavailable), by operation and status',
      labelNames: ['operation', 'status'],
      registers: [registry],
    }),
    graphRetryAfterSeconds: new Counter({
      name: 'handoff_graph_retry_after_seconds_total',
      help: "Seconds of Retry-After Graph asked for on failed answers; the activity's next attempt waits that long",
      labelNames: ['operation'],
      registers: [registry],
    }),
    keepAlives: new Counter({
      name: 'handoff_keep_alives_total',
      help: 'keepAlive requests for calls the bot holds, by outcome (sent, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    workflowsStarted: new Counter({
      name: 'handoff_workflows_started_total',
      help: 'Workflow runs started on this worker (transfers, bot calls, incoming calls, …), by workflow type',
      labelNames: ['workflow_type'],
      registers: [registry],
    }),
    workflowsClosed: new Counter({
      name: 'handoff_workflows_closed_total',
      help: "Workflow runs closed on this worker, by workflow type, status (completed, failed, cancelled, continuedAsNew) and the result's outcome",
      labelNames: ['workflow_type', 'status', 'outcome'],
      registers: [registry],
    }),
  };
}
