/**
 * The sinks Handoff's workflow interceptors (src/workflows/interceptors.ts) call, registered on every
 * worker and replay worker: the bundle always contains the interceptors, so the sinks are always
 * there, doing nothing when metrics or tracing are off.
 */
import { makeWorkflowExporter, type OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks } from '@temporalio/worker';
import type { Tracing } from '../tracing/tracing.js';
import type { HandoffMetricsSinks } from '../workflows/workflow-metrics.js';
import type { WorkerMetrics } from './metrics.js';

type HandoffWorkflowSinks = HandoffMetricsSinks & OpenTelemetrySinks;

const ignore = { fn: () => {} };

export function handoffWorkflowSinks(options: {
  metrics?: WorkerMetrics | undefined;
  tracing?: Tracing | undefined;
}): InjectedSinks<HandoffWorkflowSinks> {
  const { metrics, tracing } = options;
  return {
    handoffMetrics: metrics
      ? {
          started: {
            fn: (_info, workflowType) => metrics.workflowsStarted.inc({ workflow_type: workflowType }),
          },
          closed: {
            fn: (_info, workflowType, status, outcome) =>
              metrics.workflowsClosed.inc({ workflow_type: workflowType, status, outcome }),
          },
        }
      : { started: ignore, closed: ignore },
    exporter: tracing ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource) : { export: ignore },
  };
}
