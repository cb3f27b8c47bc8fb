/**
 * The Temporal SDK's OpenTelemetry interceptors (@temporalio/interceptors-opentelemetry) for
 * Handoff's client and worker: the client puts the active span's context in the headers of each
 * start and signal, the workflow interceptors (always in the bundle: src/workflows/interceptors.ts)
 * continue it, and the activity interceptor runs each activity in a span of that trace, so the Graph
 * request's span (src/tracing/graph-fetch.ts) is its child.
 */
import type { ClientInterceptors } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Tracing } from './tracing.js';

/** For `new Client({ interceptors })`; none without tracing. */
export function tracingClientInterceptors(tracing: Tracing | undefined): ClientInterceptors | undefined {
  if (!tracing) return undefined;
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] };
}

/** For `Worker.create({ interceptors: { activity } })`; none without tracing. */
export function tracingActivityInterceptors(tracing: Tracing | undefined): ActivityInterceptorsFactory[] {
  if (!tracing) return [];
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
}
