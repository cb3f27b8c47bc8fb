/**
 * The Temporal SDK's OpenTelemetry interceptors (@temporalio/interceptors-opentelemetry) for
 * Handoff's client and worker: the client puts the active span's context in the headers of each
 * start and signal, the workflow interceptors (always in the bundle: src/workflows/interceptors.ts)
 * continue it, and the activity interceptor runs each activity in a span of that trace, so the Graph
 * request's span (src/tracing/graph-fetch.ts) is its child.
 */
import type { Tracer } from '@opentelemetry/api';
import type { ClientInterceptors } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** The client's: each start and signal carries the active span's context. */
export function clientInterceptorsFor(tracer: Tracer): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] };
}

/** The worker's: each activity runs in a span continuing its workflow's trace. */
export function activityInterceptorsFor(tracer: Tracer): ActivityInterceptorsFactory[] {
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
}
