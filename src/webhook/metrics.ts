/**
 * The webhook's Prometheus metrics (prom-client): HTTP requests by listener, route and status with
 * their latency, Graph's notifications by kind and what became of them, and refused notification
 * tokens by reason. Both listeners of one process share one registry; `/metrics` on the API listener
 * serves it (the public listener exposes nothing but notifications and health).
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface WebhookMetrics {
  registry: Registry;
  httpRequests: Counter<'listener' | 'method' | 'route' | 'status'>;
  httpRequestDuration: Histogram<'listener' | 'method' | 'route' | 'status'>;
  /** `outcome`: started, signalled, unknownWorkflow, ignored, or unavailable (answered 503). */
  notifications: Counter<'kind' | 'outcome'>;
  tokenRefusals: Counter<'reason'>;
}

export function createWebhookMetrics(): WebhookMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'handoff_http_requests_total',
      help: 'HTTP requests answered, by listener (webhook, api), method, route template and status',
      labelNames: ['listener', 'method', 'route', 'status'],
      registers: [registry],
    }),
    httpRequestDuration: new Histogram({
      name: 'handoff_http_request_duration_seconds',
      help: 'Time from request to answer; Graph waits 5 s for a notification to be answered',
      labelNames: ['listener', 'method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'handoff_notifications_total',
      help: "Graph's notifications received with a valid token, by kind (call, participants, operation) and outcome",
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    tokenRefusals: new Counter({
      name: 'handoff_notification_token_refusals_total',
      help: 'Notification POSTs refused for their token, by reason (missing, expired, wrong_issuer, …)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

/** One registry per set of dependencies: the webhook and the API server built from it share it. */
const metricsByDeps = new WeakMap<object, WebhookMetrics>();

export function metricsFor(deps: object & { metrics?: WebhookMetrics }): WebhookMetrics {
  if (deps.metrics) return deps.metrics;
  let metrics = metricsByDeps.get(deps);
  if (!metrics) {
    metrics = createWebhookMetrics();
    metricsByDeps.set(deps, metrics);
  }
  return metrics;
}

/** Counts every answer of `app` with its latency. Routes are labelled by template, never by raw URL. */
export function recordHttpMetrics(app: FastifyInstance, metrics: WebhookMetrics, listener: string): void {
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      listener,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
  });
}

export const METRICS_PATH = '/metrics';

/** `GET /metrics` in Prometheus' text format. */
export function serveMetrics(app: FastifyInstance, metrics: WebhookMetrics): void {
  app.get(METRICS_PATH, { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
