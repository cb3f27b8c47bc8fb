/**
 * OpenTelemetry tracing for one Handoff process (issue 13.4, docs/tracing.md). Off unless an OTLP
 * endpoint is configured: then this module is not even loaded (configured.ts), no interceptor is
 * installed and the OpenTelemetry API stays its own no-op. On, spans are batched to the OTLP/HTTP
 * endpoint; tests give a span processor of their own (an in-memory exporter).
 */
import type { Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { activityInterceptorsFor, clientInterceptorsFor } from './temporal.js';

/** What the webhook, the Temporal interceptors and the Graph client need to trace. */
export interface Tracing {
  tracer: Tracer;
  /** For `new Client({ interceptors })`. */
  clientInterceptors: ClientInterceptors;
  /** For `Worker.create({ interceptors: { activity } })`. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** Workflow spans are made in the workflow sandbox and handed to this processor by a sink. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** The instrumentation scope of Handoff's own spans (webhook requests, Graph requests). */
export const HANDOFF_TRACER_NAME = 'handoff';

/**
 * Starts tracing with `spanProcessor`. The provider is registered globally once per process: the
 * Temporal interceptors propagate context with the global W3C propagator, and an await in a request
 * handler keeps its span only with the AsyncLocalStorage context manager.
 */
export function startTracing(options: { serviceName: string; spanProcessor: SpanProcessor }): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [options.spanProcessor] });
  // A second registration in one process (tests start several stacks) keeps the first globals;
  // Handoff's tracer is passed explicitly, so its spans still go to this provider.
  if (!registered) {
    provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
    registered = true;
  }
  const tracer = provider.getTracer(HANDOFF_TRACER_NAME);
  return {
    tracer,
    clientInterceptors: clientInterceptorsFor(tracer),
    activityInterceptors: activityInterceptorsFor(tracer),
    spanProcessor: options.spanProcessor,
    resource,
    shutdown: () => provider.shutdown(),
  };
}
let registered = false;
